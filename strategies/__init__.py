"""Pluggable strategies: each module registers one `Strategy` subclass in REGISTRY."""
from strategies.base import REGISTRY, Strategy, StrategyContext, register
from strategies import baseline, cuda_graph, jit_only, jit_cuda  # noqa: F401  (registration)

__all__ = ["REGISTRY", "Strategy", "StrategyContext", "register"]
