"""Random weights that exercise every parameter.

transformers' default init draws the weight matrices at random but sets every bias to 0 and
every norm weight to 1 (Gemma-style norms: to 0). A forward that drops a bias or skips a norm
weight then computes the same numbers as the right one, and a correctness check on random
weights passes where the user's checkpoint would fail. This module finds the parameters the
init left constant (all elements equal), generically, and adds noise to them.
"""
from __future__ import annotations

import torch

# noise std, relative to max(|value|, 1): norm weights 1 -> 1 +- 0.1, biases 0 -> +- 0.1. Norms put out
# activations of unit scale and a projection's output is of order 1 at the default init (0.02 x
# sqrt(4096) = 1.3 at 7B), so a 10% shift is what trained biases and norm weights do (Qwen2's q/k
# biases do far more) and leaves activations at their usual size, yet a forward that drops it is off
# by more than a 16-bit tolerance (tests/test_models.py)
NOISE_STD = 0.1


def is_constant(parameter: torch.Tensor) -> bool:
    """All elements equal (a zero bias, a norm weight of ones); a single element counts as constant."""
    flat = parameter.detach().reshape(-1)
    return bool((flat == flat[0]).all())


@torch.no_grad()
def perturb_constant_parameters(model: torch.nn.Module, seed: int) -> list[str]:
    """Add deterministic noise (from `seed`) to every parameter whose elements are all equal; the
    noise is drawn on the parameter's device, so a 7B model on a GPU takes well under a second.
    Returns the names of the parameters changed."""
    generators: dict[torch.device, torch.Generator] = {}
    changed = []
    for name, parameter in model.named_parameters():  # a fixed order: the same seed gives the same weights
        if parameter.numel() == 0 or not is_constant(parameter):
            continue
        device = parameter.device
        if device not in generators:
            generators[device] = torch.Generator(device=device).manual_seed(seed)
        std = NOISE_STD * max(abs(float(parameter.reshape(-1)[0])), 1.0)
        noise = torch.randn(parameter.shape, generator=generators[device], device=device, dtype=torch.float32)
        parameter.add_((noise * std).to(parameter.dtype))
        changed.append(name)
    return changed
