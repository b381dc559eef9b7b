"""REGISTRY: every strategy class by its name. Importing this loads torch and every strategy module."""
from strategies import baseline, cuda_graph, hf_generate, jit_cuda, jit_only, torch_compile  # noqa: F401  (registration)
from strategies.base import REGISTRY

__all__ = ["REGISTRY"]
