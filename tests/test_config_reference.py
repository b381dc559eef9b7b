"""docs/configuration.md's tables come from the code that validates a config: every key and option it accepts
has a row with the default it applies, every preset is listed, and a key without a meaning stops the generator."""
from __future__ import annotations

import dataclasses

import pytest

from bench.config import schema
from bench.config.load import LoadConfig
from bench.config.presets import PRESETS
from strategies.option_types import OPTION_TYPES
from tools import config_reference
from tools.config_reference import keys_table, options_table, presets_table
from tools.sections import DocsError


def test_every_config_key_has_a_row_with_its_default():
    table = keys_table()
    sections = (("model", schema.ModelConfig), ("prompts", schema.PromptConfig), ("sampling", schema.SamplingConfig),
                ("measure", schema.MeasureConfig), ("load", LoadConfig))
    for section, cls in sections:
        for f in dataclasses.fields(cls):
            assert f"| `{section}.{f.name}` |" in table
    for key in set(schema.TOP_KEYS) - {section for section, _ in sections}:
        assert f"| `{key}` |" in table
    assert "| `measure.repeats` | `100` | 1-100000 |" in table
    assert "| `model.dtype` | `float16` | `float16` \\| `bfloat16` \\| `float32` |" in table


def test_every_strategy_option_has_a_row_naming_the_strategies_that_take_it():
    table = options_table()
    for name, cls in OPTION_TYPES.items():
        for f in dataclasses.fields(cls):
            rows = [row for row in table.splitlines() if row.startswith(f"| `{f.name}` |")]
            assert any(f"`{name}`" in row for row in rows), (name, f.name)
    assert "| `max_graphs` | `cuda-graph`, `jit+cuda` | `50` |" in table
    assert table.endswith("`baseline`, `hf-generate` take no options.")


def test_every_preset_is_listed():
    table = presets_table()
    assert table.startswith(f"{len(PRESETS)} presets:")
    for name in PRESETS:
        assert f"| `{name}` |" in table
    assert "| `llama-2-70b` | llama | 80 | 8192 | 64 / 8 | 32000 | 4096 |" in table


def test_a_key_without_a_meaning_or_a_meaning_without_a_key_stops_the_generator(monkeypatch):
    meanings = dict(config_reference.MEANINGS)
    del meanings["measure.restart"]
    monkeypatch.setattr(config_reference, "MEANINGS", meanings)
    with pytest.raises(DocsError, match="measure.restart has no meaning"):
        keys_table()
    monkeypatch.setattr(config_reference, "MEANINGS", {**config_reference.MEANINGS, "measure.retries": "gone"})
    with pytest.raises(DocsError, match="no longer has: measure.retries"):
        keys_table()
