"""Pluggable strategies: each module registers one `Strategy` subclass in REGISTRY."""
from strategies.base import REGISTRY, Strategy, StrategyContext, register
from strategies import baseline, cuda_graph, hf_generate, jit_cuda, jit_only, torch_compile  # noqa: F401  (registration)

__all__ = ["REGISTRY", "Strategy", "StrategyContext", "register"]
