"""Random weights that exercise every parameter.

transformers' default init draws the weight matrices at random but sets every bias to 0 and
every norm weight to 1 (Gemma-style norms: to 0). A forward that drops a bias or skips a norm
weight then computes the same numbers as the right one, and a correctness check on random
weights passes where the user's checkpoint would fail. This module finds the parameters the
init left constant (all elements equal), generically, and adds noise to them.
"""
from __future__ import annotations

import torch

# transformers' default initializer_range: the std of the weight matrices, used when a config has none
DEFAULT_INIT_STD = 0.02
# relative noise on non-zero constants (norm weights 1 -> 1 +- 0.1): real checkpoints' norm weights
# spread at least this much, and a scale within +-30% leaves activations at their usual size
RELATIVE_STD = 0.1


def is_constant(parameter: torch.Tensor) -> bool:
    """All elements equal (a zero bias, a norm weight of ones); a single element counts as constant."""
    flat = parameter.detach().reshape(-1)
    return bool((flat == flat[0]).all())


def noise_std(value: float, init_std: float) -> float:
    """Zero constants (biases, zero-centred norm weights) get the weight matrices' init std: a bias
    of that size shifts a projection's output (std ~ init_std x sqrt(fan_in)) by a few percent, as
    trained biases do. Non-zero constants (norm weights, multipliers) get relative noise."""
    return init_std if value == 0 else RELATIVE_STD * abs(value)


@torch.no_grad()
def perturb_constant_parameters(model: torch.nn.Module, seed: int) -> list[str]:
    """Add deterministic noise (from `seed`) to every parameter whose elements are all equal; the
    noise is drawn on the parameter's device, so a 7B model on a GPU takes well under a second.
    Returns the names of the parameters changed."""
    config = getattr(model, "config", None)
    init_std = getattr(config, "initializer_range", None) or DEFAULT_INIT_STD
    generators: dict[torch.device, torch.Generator] = {}
    changed = []
    for name, parameter in model.named_parameters():  # a fixed order: the same seed gives the same weights
        if parameter.numel() == 0 or not is_constant(parameter):
            continue
        device = parameter.device
        if device not in generators:
            generators[device] = torch.Generator(device=device).manual_seed(seed)
        std = noise_std(float(parameter.reshape(-1)[0]), init_std)
        noise = torch.randn(parameter.shape, generator=generators[device], device=device, dtype=torch.float32)
        parameter.add_((noise * std).to(parameter.dtype))
        changed.append(name)
    return changed
