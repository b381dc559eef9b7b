"""Every value that would fail a worker is refused by the parent, in one line that names the key."""
from __future__ import annotations

import pytest

from bench.config.errors import ConfigError
from bench.config.overrides import Overrides
from bench.config.schema import load_config, parse_config
from tests.conftest import tiny_raw


def model(**fields) -> dict:
    return {"preset": "tiny-llama", **fields}


BAD = [
    (tiny_raw(model=model(seed=2 ** 70)), "model.seed: expected an integer in [0, 2**63)"),
    (tiny_raw(model=model(seed=2 ** 63)), "model.seed"),
    (tiny_raw(model=model(seed=-1)), "model.seed"),
    (tiny_raw(prompts={"lengths": [8], "seed": 2 ** 70}), "prompts.seed: expected an integer in [0, 2**63)"),
    (tiny_raw(sampling={"seed": 2 ** 70}), "sampling.seed: expected an integer in [0, 2**63)"),
    (tiny_raw(model=model(attn_implementation="nonsense")),
     "model.attn_implementation: unknown implementation 'nonsense'"),
    (tiny_raw(model=model(attn_implementation=42)), "model.attn_implementation: unknown implementation 42"),
    (tiny_raw(sampling={"mode": "temperature", "temperature": float("nan")}), "sampling.temperature: expected"),
    (tiny_raw(sampling={"mode": "temperature", "temperature": float("inf")}), "sampling.temperature: expected"),
    (tiny_raw(sampling={"mode": "temperature", "temperature": 1e-300}), "sampling.temperature: expected"),
    (tiny_raw(sampling={"mode": "temperature", "temperature": 0}), "sampling.temperature: expected a number"),
    (tiny_raw(strategies=[{"name": "baseline", "options": 0}]), "strategies[0].options: expected a mapping, got 0"),
    (tiny_raw(strategies=[{"name": "cuda-graph", "options": []}]), "strategies[0].options: expected a mapping, got []"),
    (tiny_raw(measure={"repeats": 10 ** 12}), "measure.repeats: 1000000000000 is above the limit of 100000"),
    (tiny_raw(measure={"warmup": 10 ** 12}), "measure.warmup: 1000000000000 is above the limit of 100000"),
    (tiny_raw(strategies=[{"name": ["baseline"]}]), "strategies[0].name: unknown strategy ['baseline']"),
    (tiny_raw(model=model(dtype=["float16"])), "model.dtype: unknown dtype ['float16']"),
    (tiny_raw(model={"preset": ["tiny-llama"]}), "model.preset: unknown preset ['tiny-llama']"),
    (tiny_raw(model=model(device={"cuda": 0})), "model.device: unknown device {'cuda': 0}"),
    (tiny_raw(model={"config": 5}), "model.config: expected a path"),
    (tiny_raw(model={"name_or_path": "gpt2\0"}), "model.name_or_path: expected a path"),
    (tiny_raw(sampling={"mode": ["greedy"]}), "sampling.mode: unknown mode ['greedy']"),
    (tiny_raw(transport=["ipc"]), "transport: unknown transport ['ipc']"),
    (tiny_raw(name="run\0name"), "name: expected a run name"),
    (tiny_raw(name="line\nbreak"), "name: expected a run name"),
    (tiny_raw(name="x" * 101), "name: expected a run name"),
    (tiny_raw(name="é" * 51), "name: expected a run name"),  # 102 bytes in UTF-8
    (tiny_raw(output=7), "output: expected a path"),
    (tiny_raw(output="res\0ults"), "output: expected a path"),
    (tiny_raw(measure=5), "measure: expected a mapping, got 5"),
]


@pytest.mark.parametrize("raw,message", BAD, ids=[m for _, m in BAD])
def test_bad_value_is_one_line_naming_the_key(raw, message):
    with pytest.raises(ConfigError) as caught:
        parse_config(raw)
    text = str(caught.value)
    assert text.startswith(message.split(":")[0] + ":") and message in text
    assert "\n" not in text


GOOD_EDGES = [
    tiny_raw(model=model(seed=2 ** 63 - 1)),
    tiny_raw(prompts={"lengths": [8], "seed": 2 ** 63 - 1}),
    tiny_raw(sampling={"seed": 2 ** 63 - 1}),
    tiny_raw(sampling={"mode": "temperature", "temperature": 1e-6}),
    tiny_raw(sampling={"mode": "temperature", "temperature": 1e6}),
    tiny_raw(measure={"repeats": 100_000, "warmup": 100_000}),
    tiny_raw(name="x" * 100),
    tiny_raw(name="é" * 50),
    tiny_raw(model=model(attn_implementation="eager")),
    tiny_raw(strategies=[{"name": "baseline", "options": None}]),
]


@pytest.mark.parametrize("raw", GOOD_EDGES, ids=range(len(GOOD_EDGES)))
def test_values_at_the_limits_are_accepted(raw):
    assert parse_config(raw).name


def test_long_values_are_cut_in_messages():
    for raw in (tiny_raw(name="x" * 10_000), tiny_raw(prompts={"lengths": list(range(-1, 10_000))}),
                tiny_raw(strategies=[{"name": "cuda-graph", "options": {"buckets": list(range(-1, 10_000))}}]),
                tiny_raw(model=model(**{"k" * 10_000: 1}))):
        with pytest.raises(ConfigError) as caught:
            parse_config(raw)
        assert len(str(caught.value)) < 400, str(caught.value)[:100]


def test_output_at_an_existing_file_is_refused(tmp_path):
    (tmp_path / "file").write_text("user data")
    with pytest.raises(ConfigError, match="^output: .* is an existing file"):
        parse_config(tiny_raw(output=str(tmp_path / "file")))
    with pytest.raises(ConfigError, match="^output: .* is an existing file"):
        parse_config(tiny_raw(output=str(tmp_path), name="file"))  # the run folder itself
    assert (tmp_path / "file").read_text() == "user data"


def test_out_override_at_an_existing_file_is_refused(tmp_path, write_config):
    (tmp_path / "file").write_text("user data")
    path = write_config(tiny_raw(output=str(tmp_path / "results")))
    with pytest.raises(ConfigError, match="^--out: .* is an existing file"):
        load_config(path, Overrides(out=str(tmp_path / "file")))
    assert load_config(path, Overrides(out=str(tmp_path / "new"))).out_dir() == tmp_path / "new"


def test_overrides_are_validated_like_the_file(write_config):
    path = write_config(tiny_raw())
    with pytest.raises(ConfigError, match=r"^measure.repeats: .* above the limit"):
        load_config(path, Overrides(settings=((("measure", "repeats"), 10 ** 9),)))
    with pytest.raises(ConfigError, match=r"^prompts.lengths\[0\]: 5000 exceeds the model's maximum positions"):
        load_config(path, Overrides(settings=((("prompts", "lengths"), [5000]),)))
