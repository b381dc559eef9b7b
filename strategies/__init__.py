"""Pluggable strategies. `strategies.registry.REGISTRY` holds the classes (and loads torch);
`strategies.option_types` their options (torch-free, for config checks)."""
