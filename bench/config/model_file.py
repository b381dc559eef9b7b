"""What a config can check about its model without torch or transformers: the architecture's fields
(a preset's, a config.json's) are sane, and every length fits its positions (bench.config.lengths).

    check_against_model(cfg)   # raises ConfigError; load_config already calls it
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench.config.capped_file import read_capped
from bench.config.errors import ConfigError, shown
from bench.config.lengths import check_lengths
from bench.config.presets import PRESETS
from bench.config.shardable import unshardable_reason

# the names architectures give their longest input; the first one present counts
POSITION_KEYS = ("max_position_embeddings", "n_positions", "max_sequence_length", "seq_length")
# shape fields a model is built from: zero or a non-integer fails the worker deep inside transformers
SHAPE_KEYS = ("vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads",
              "num_key_value_heads", "head_dim", "n_embd", "n_layer", "n_head") + POSITION_KEYS
# the largest config.json files (label maps of classifiers) are a few MB; more is not a config
MAX_MODEL_CONFIG_BYTES = 16 << 20


def check_against_model(cfg: Any) -> None:
    """Check the model's fields, when known without transformers, and every length against its positions."""
    found = model_fields(cfg.model)
    if found is None:  # a hub name: only transformers can read its positions (bench.models.build.check_lengths)
        check_lengths(cfg, None)
        return
    key, fields = found
    check_fields(key, fields, needs_model_type=key != "model.preset")
    check_tensor_parallel(fields, cfg.model.tensor_parallel)
    check_lengths(cfg, max_positions(fields))


def check_tensor_parallel(fields: dict, world_size: int) -> None:
    """A tensor_parallel above 1 only for a model the plan splits evenly (see bench.config.shardable)."""
    if world_size == 1:
        return
    part = fields["text_config"] if isinstance(fields.get("text_config"), dict) else fields
    reason = unshardable_reason({**part, "model_type": fields.get("model_type", part.get("model_type"))}, world_size)
    if reason:
        raise ConfigError(f"model.tensor_parallel: {world_size} refused: {reason}")


def model_fields(spec: Any) -> tuple[str, dict] | None:
    """(the config key it came from, the architecture's config.json fields), or None for a hub name."""
    if spec.preset is not None:
        return "model.preset", preset_fields(spec.preset)
    if spec.config is not None:
        path = Path(spec.config)
        if not path.exists():
            raise ConfigError(f"model.config: {shown(spec.config)} does not exist; "
                              "give a config.json or a folder holding one")
        return "model.config", read_model_config(path / "config.json" if path.is_dir() else path, "model.config")
    if Path(spec.name_or_path).is_absolute() and not Path(spec.name_or_path).exists():  # no hub id is absolute
        raise ConfigError(f"model.name_or_path: {shown(spec.name_or_path)} does not exist; give a model folder "
                          "or a hub name")
    local = Path(spec.name_or_path) / "config.json"
    # exists, not is_file: a FIFO or a folder named config.json is refused by name, not sent to the hub
    return ("model.name_or_path", read_model_config(local, "model.name_or_path")) if local.exists() else None


def preset_fields(name: str) -> dict:
    """A preset's config.json fields."""
    return dict(PRESETS[name])


def read_model_config(path: Path, key: str) -> dict:
    """A config.json as a dict, or a ConfigError naming the key, the file and the problem."""
    data = read_capped(path, MAX_MODEL_CONFIG_BYTES, f"{key}: cannot read {path}",
                       f"{key}: {path} is larger than {MAX_MODEL_CONFIG_BYTES} bytes; not a model config")
    try:
        fields = json.loads(data)
    except (ValueError, RecursionError) as exc:  # bad JSON or UTF-8, a 5,000-digit number, deep nesting
        reason = str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
        raise ConfigError(f"{key}: {path} is not JSON: {reason}") from None
    if not isinstance(fields, dict):
        raise ConfigError(f"{key}: {path} must hold a JSON object, got {type(fields).__name__}")
    return fields


def check_fields(key: str, fields: dict, needs_model_type: bool = True) -> None:
    """model_type is named (a preset's module may know it instead); shape fields, where given, are
    positive integers that fit together, at the top and in a nested text_config."""
    model_type = fields.get("model_type")
    if (needs_model_type or model_type is not None) and (not isinstance(model_type, str) or not model_type):
        raise ConfigError(f"{key}: the model config needs a model_type string (e.g. 'llama'), got {shown(model_type)}")
    parts = [(fields, "")]
    if isinstance(fields.get("text_config"), dict):
        parts.append((fields["text_config"], "text_config."))
    for part, where in parts:
        for name in SHAPE_KEYS:
            value = part.get(name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise ConfigError(f"{key}: {where}{name} must be a positive integer, got {shown(value)}")
        heads, kv_heads = part.get("num_attention_heads"), part.get("num_key_value_heads")
        if heads is not None and kv_heads is not None and heads % kv_heads:
            raise ConfigError(f"{key}: {where}num_attention_heads ({heads}) must be a multiple of "
                              f"num_key_value_heads ({kv_heads}): each key/value head serves a whole group")


def max_positions(fields: dict) -> int | None:
    """The longest prompt the architecture accepts, if its fields say (a nested text_config first)."""
    text = fields.get("text_config")
    part = text if isinstance(text, dict) else fields
    for name in POSITION_KEYS:
        value = part.get(name)
        if isinstance(value, int) and value > 0:
            return value
    return None
