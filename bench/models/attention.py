"""The attention implementation a model is built with. model.attn_implementation `auto` (the default) is
transformers' own default: SDPA where the model's class supports it, else eager, which the run's notes
then name; an explicit choice the class refuses is a ConfigError naming the key, before any worker starts."""
from __future__ import annotations

import torch
from transformers import PretrainedConfig

from bench.config.errors import ConfigError
from bench.config.names import AUTO_ATTENTION
from bench.config.schema import ModelConfig

# per explicit choice, the class flag transformers' own check (PreTrainedModel.get_correct_attn_implementation)
# refuses it by; eager has none: every model runs it
SUPPORT_FLAGS = {"sdpa": "_supports_sdpa", "flex_attention": "_supports_flex_attn",
                 "flash_attention_2": "_supports_flash_attn", "flash_attention_3": "_supports_flash_attn"}


def hf_attention(choice: str) -> str | None:
    """transformers' attn_implementation for a model.attn_implementation: None (its default) for auto."""
    return None if choice == AUTO_ATTENTION else choice


def check_attention(spec: ModelConfig, config: PretrainedConfig) -> None:
    """An explicit model.attn_implementation the model's causal-LM class does not support is a ConfigError."""
    from transformers.models.auto.modeling_auto import MODEL_FOR_CAUSAL_LM_MAPPING

    flag = SUPPORT_FLAGS.get(spec.attn_implementation)
    model_class = MODEL_FOR_CAUSAL_LM_MAPPING.get(type(config), None) if flag else None
    if model_class is not None and not getattr(model_class, flag, False):
        raise ConfigError(f"model.attn_implementation: {model_class.__name__} does not support "
                          f"{spec.attn_implementation!r}; '{AUTO_ATTENTION}' takes SDPA where a model supports it, "
                          f"else eager")


def attention_note(spec: ModelConfig, model: torch.nn.Module) -> str | None:
    """Where `auto` could not take SDPA, the implementation the built model runs (for the strategy's note)."""
    taken = getattr(model.config, "_attn_implementation", None)  # what the HF attention code dispatches on
    if spec.attn_implementation != AUTO_ATTENTION or taken == "sdpa":
        return None
    return (f"model.attn_implementation {AUTO_ATTENTION}: {type(model).__name__} does not support SDPA, "
            f"its attention runs {taken!r}")
