"""Model specs -> transformers configs (no weights) and models (random or real weights)."""
from __future__ import annotations

from pathlib import Path

import torch
from transformers import AutoConfig, AutoModelForCausalLM, PretrainedConfig

from bench.config.errors import ConfigError
from bench.config.lengths import check_lengths as check_config_lengths
from bench.config.model_file import POSITION_KEYS
from bench.config.presets import PRESETS
from bench.config.schema import BenchConfig, ModelConfig
from bench.models.attention import hf_attention
from bench.models.dtypes import TORCH_DTYPES
from bench.models.random_weights import materialize


def hf_config(spec: ModelConfig) -> PretrainedConfig:
    """The architecture config, read without loading any weights."""
    if spec.preset is not None:
        return preset_config(spec.preset)
    source = spec.config if spec.config is not None else spec.name_or_path
    key = "model.config" if spec.config is not None else "model.name_or_path"
    if spec.config is not None and not Path(source).exists():
        raise ConfigError(f"{key}: {source!r} does not exist; give a config.json or a folder holding one")
    try:
        return AutoConfig.from_pretrained(source)
    except Exception as exc:  # transformers raises OSError/ValueError/KeyError for unknown or broken configs
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConfigError(f"{key}: cannot read a transformers config from {source!r}: {first}" + ("; offline? set HF_HUB_OFFLINE=1 to skip the hub's retries" if spec.name_or_path else "")) from None


def preset_config(name: str) -> PretrainedConfig:
    """The transformers config of a preset."""
    values = dict(PRESETS[name])
    return AutoConfig.for_model(values.pop("model_type"), **values)


def text_config(config: PretrainedConfig) -> PretrainedConfig:
    """The language-model part of a config (multimodal configs nest it)."""
    return config.get_text_config() if hasattr(config, "get_text_config") else config


def max_positions(config: PretrainedConfig) -> int | None:
    """The longest prompt the architecture accepts, if it says."""
    config = text_config(config)
    for key in POSITION_KEYS:
        value = getattr(config, key, None)
        if isinstance(value, int) and value > 0:
            return value
    return None


def decoder_layers(config: PretrainedConfig) -> int:
    """The model's decoder layers (num_hidden_layers, which transformers maps from n_layer and the like);
    1 where a config names none: the correctness tolerance then stays at its unscaled, strictest value."""
    layers = getattr(text_config(config), "num_hidden_layers", None)
    return layers if isinstance(layers, int) and layers > 0 else 1


def check_lengths(cfg: BenchConfig, config: PretrainedConfig) -> None:
    """Every length the config names (prompts, the probe's, graph buckets) must fit the model's positions:
    for a hub model, known only once transformers read its config."""
    check_config_lengths(cfg, max_positions(config))


def resolve_device(name: str) -> torch.device:
    """auto -> cuda if available else cpu; cuda without a GPU is a config error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError("model.device: 'cuda' asked for but torch.cuda.is_available() is False here")
    return torch.device(name)


def build_model(spec: ModelConfig, config: PretrainedConfig, device: torch.device) -> torch.nn.Module:
    """Random weights made on the meta device and drawn tile by tile on `device` in the target dtype
    (random_weights.py: every parameter varied, norms and biases included, and the same values a
    tensor-parallel build of the same seed draws shard by shard), or real weights from name_or_path."""
    dtype = TORCH_DTYPES[spec.dtype]
    if spec.name_or_path is not None:
        # no device_map: it needs accelerate, which the tool does not depend on
        model = AutoModelForCausalLM.from_pretrained(
            spec.name_or_path, dtype=dtype, attn_implementation=hf_attention(spec.attn_implementation)).to(device)
    else:
        with torch.device("meta"):  # shapes only: the values are drawn on the device, no CPU detour
            model = AutoModelForCausalLM.from_config(
                config, dtype=dtype, attn_implementation=hf_attention(spec.attn_implementation))
        materialize(model, spec.seed, device)
    return model.eval()


def parameter_bytes(model: torch.nn.Module) -> int:
    """Bytes of the parameters this process holds (a tensor-parallel shard's local part, not the whole)."""
    local = [p.to_local() if hasattr(p, "to_local") else p for p in model.parameters()]
    return sum(p.numel() * p.element_size() for p in local)
