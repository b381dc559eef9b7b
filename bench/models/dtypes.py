"""The config's dtype names as torch dtypes (kept apart from the config, which imports no torch)."""
from __future__ import annotations

import torch

from bench.config.schema import DTYPE_NAMES

TORCH_DTYPES: dict[str, torch.dtype] = {name: getattr(torch, name) for name in DTYPE_NAMES}
