"""The three model sources: preset, config: path, name_or_path: (a tiny model saved to a temp folder)."""
from __future__ import annotations

import dataclasses
import json
import re
import subprocess
import sys

import pytest
import torch

from bench.config.errors import ConfigError
from bench.config.schema import ModelConfig, PromptConfig, parse_config
from bench.judging.correctness import tolerance
from bench.models.build import (
    build_model,
    check_lengths,
    decoder_layers,
    hf_config,
    max_positions,
    parameter_bytes,
    preset_config,
)
from tests.conftest import tiny_raw

CPU = torch.device("cpu")


def is_constant(parameter: torch.Tensor) -> bool:
    """All elements equal: what transformers' init leaves in a bias (0) or a norm weight (1)."""
    return bool((parameter == parameter.reshape(-1)[0]).all())


def test_presets_have_the_published_shapes():
    l2, l3 = preset_config("llama-2-7b"), preset_config("llama-3-8b")
    assert (l2.num_hidden_layers, l2.hidden_size, l2.num_attention_heads, l2.intermediate_size, l2.vocab_size) == \
        (32, 4096, 32, 11008, 32000)
    assert (l3.num_key_value_heads, l3.intermediate_size, l3.vocab_size) == (8, 14336, 128256)
    assert l3.rope_parameters["rope_theta"] == 500000.0
    qwen2, mistral, pythia = preset_config("qwen2-7b"), preset_config("mistral-7b"), preset_config("pythia-6.9b")
    assert (qwen2.model_type, qwen2.hidden_size, qwen2.num_key_value_heads, qwen2.intermediate_size, qwen2.vocab_size) == \
        ("qwen2", 3584, 4, 18944, 152064)
    assert (mistral.model_type, mistral.num_key_value_heads, mistral.sliding_window, mistral.vocab_size) == \
        ("mistral", 8, None, 32768)
    assert (pythia.model_type, pythia.intermediate_size, pythia.use_parallel_residual, pythia.vocab_size) == \
        ("gpt_neox", 16384, True, 50432)
    assert pythia.rope_parameters["partial_rotary_factor"] == 0.25
    l70 = preset_config("llama-2-70b")
    assert (l70.num_hidden_layers, l70.hidden_size, l70.num_attention_heads, l70.num_key_value_heads,
            l70.intermediate_size) == (80, 8192, 64, 8, 28672)


def test_presets_are_read_without_loading_transformers_or_torch():
    code = "import sys, bench.config.presets as p; assert p.PRESETS; print(sorted({'torch', 'transformers'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def tiny_qwen2(seed: int = 0) -> torch.nn.Module:
    spec = ModelConfig(preset="tiny-qwen2", dtype="float32", device="cpu", seed=seed)
    return build_model(spec, hf_config(spec), CPU)


def test_random_weights_follow_the_seed_and_vary_the_norms():
    a, b, c = tiny_qwen2(0), tiny_qwen2(0), tiny_qwen2(1)
    norm = "model.layers.0.input_layernorm.weight"
    assert not is_constant(dict(a.named_parameters())[norm])
    assert all(torch.equal(x, y) for x, y in zip(a.parameters(), b.parameters()))
    assert not torch.equal(dict(a.named_parameters())[norm], dict(c.named_parameters())[norm])


def test_a_dropped_bias_or_a_skipped_norm_weight_exceeds_the_tolerance():
    ids = torch.randint(3, 1024, (1, 24), generator=torch.Generator().manual_seed(0))
    with torch.inference_mode():
        model = tiny_qwen2()
        reference = model(input_ids=ids).logits[0, -1]
        for name in ("model.layers.0.self_attn.k_proj.bias", "model.layers.1.post_attention_layernorm.weight"):
            parameter = dict(model.named_parameters())[name]
            saved = parameter.clone()
            parameter.fill_(0.0 if name.endswith("bias") else 1.0)  # what a forward without it computes
            diff = float((model(input_ids=ids).logits[0, -1] - reference).abs().max())
            assert diff > tolerance(torch.float32, reference, 1), name
            parameter.copy_(saved)


def test_preset_builds_deterministic_random_weights_in_the_dtype():
    spec = ModelConfig(preset="tiny-llama", dtype="bfloat16", device="cpu")
    a = build_model(spec, hf_config(spec), CPU)
    b = build_model(spec, hf_config(spec), CPU)
    assert next(a.parameters()).dtype == torch.bfloat16
    assert all(torch.equal(x, y) for x, y in zip(a.parameters(), b.parameters()))
    assert parameter_bytes(a) == 2 * sum(p.numel() for p in a.parameters())


def test_config_path_file_or_folder(tmp_path):
    preset_config("tiny-llama").save_pretrained(tmp_path)
    for source in (tmp_path, tmp_path / "config.json"):
        spec = ModelConfig(config=str(source), dtype="float32", device="cpu")
        config = hf_config(spec)
        assert config.model_type == "llama" and max_positions(config) == 2048
        assert build_model(spec, config, CPU).config.hidden_size == 64


def test_missing_or_broken_config_path_is_a_named_error(tmp_path):
    for source, message in [(tmp_path / "nope.json", "does not exist"), (tmp_path, "cannot read")]:
        try:
            hf_config(ModelConfig(config=str(source), device="cpu"))
        except ConfigError as exc:
            assert str(exc).startswith("model.config:") and message in str(exc)
        else:
            raise AssertionError("no error")


def test_name_or_path_loads_real_weights(tmp_path):
    spec = ModelConfig(preset="tiny-llama", dtype="float32", device="cpu", seed=7)
    saved = build_model(spec, hf_config(spec), CPU)
    saved.save_pretrained(tmp_path)
    local = ModelConfig(name_or_path=str(tmp_path), dtype="float32", device="cpu")
    loaded = build_model(local, hf_config(local), CPU)
    ids = torch.tensor([[5, 9, 100, 7]])
    with torch.inference_mode():
        assert torch.equal(saved(input_ids=ids).logits, loaded(input_ids=ids).logits)


def test_lengths_are_checked_against_a_configs_max_positions(tmp_path):
    """What a hub model's config says is known only once transformers read it: a config whose lengths and
    buckets fit a model of 4096 positions, checked against tiny-llama's 2048."""
    (tmp_path / "config.json").write_text(json.dumps({**preset_config("tiny-llama").to_dict(),
                                                      "max_position_embeddings": 4096}))
    cfg = parse_config(tiny_raw(model={"config": str(tmp_path)}, prompts={"lengths": [10, 2048]},
                                strategies=[{"name": "cuda-graph", "options": {"buckets": [2048, 4096]}}]))
    tiny = preset_config("tiny-llama")
    with pytest.raises(ConfigError, match=re.escape("strategies[1].options.buckets[1]: 4096 exceeds the model's "
                                                    "maximum positions (2048)")):
        check_lengths(cfg, tiny)
    check_lengths(dataclasses.replace(cfg, strategies=cfg.strategies[:1]), tiny)
    with pytest.raises(ConfigError, match=re.escape("prompts.lengths[1]: 2049 exceeds")):
        check_lengths(dataclasses.replace(cfg, prompts=PromptConfig(lengths=(10, 2049))), tiny)


def test_the_decoder_layer_count_is_read_under_each_familys_name():
    from transformers import Gemma3Config, GPT2Config, PretrainedConfig

    assert decoder_layers(preset_config("llama-2-70b")) == 80
    assert decoder_layers(GPT2Config(n_layer=5)) == 5  # n_layer, mapped by transformers
    assert decoder_layers(Gemma3Config(text_config={"num_hidden_layers": 7})) == 7  # a multimodal config's text part
    assert decoder_layers(PretrainedConfig()) == 1  # none named: the unscaled, strictest tolerance
