"""Names shared by the config, the runner and the report (torch-free, strategy-free)."""

BASELINE = "baseline"  # the strategy every other one is timed and judged against
# model.attn_implementation's default: SDPA where the model supports it, else eager (bench.models.attention)
AUTO_ATTENTION = "auto"
