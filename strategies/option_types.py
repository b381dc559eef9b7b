"""Every strategy's options, as frozen dataclasses that validate themselves, and which strategy
takes which. Imports no torch: a config is checked before any framework loads."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from strategies.options import NoOptions, OptionError, check_bool, check_choice, check_int_list

HOST_IO = ("pinned", "pageable")
FORWARD_JITS = ("inductor", "none")
COMPILE_SCOPES = ("layer", "model")
# reduce-overhead and max-autotune bring inductor's own CUDA graphs; the JIT strategies keep
# graphs out (jit-only) or manage them themselves (jit+cuda)
JIT_COMPILE_MODES = ("default", "max-autotune-no-cudagraphs")
TORCH_COMPILE_MODES = ("reduce-overhead", "default", "max-autotune", "max-autotune-no-cudagraphs")


@dataclass(frozen=True)
class GraphOptions:
    max_graphs: int = 50  # the design document's default LRU size
    precapture: Any = None  # lengths captured before measuring; None = the run's lengths, [] = none
    buckets: Any = None  # pad right to the next bucket so fewer graphs serve all lengths; None = one per length
    # lengths a worker thread captures ahead of need, after setup; with it, the thread also captures a length
    # that a longer graph served (GraphManager.get's stand-in), else that length's next request does
    background: Any = None
    # pinned: the graph copies the prompt in and (greedy) the argmax token out; pageable: the
    # design document's copies and sampling around the replay (see graph_forward.py)
    host_io: str = "pinned"

    def __post_init__(self):
        check_choice("host_io", self.host_io, HOST_IO)
        if isinstance(self.max_graphs, bool) or not isinstance(self.max_graphs, int) or self.max_graphs < 1:
            raise OptionError(f"max_graphs: expected a positive integer, got {self.max_graphs!r}")
        for key in ("precapture", "buckets", "background"):
            object.__setattr__(self, key, check_int_list(key, getattr(self, key)))
        if self.buckets is not None:
            object.__setattr__(self, "buckets", tuple(sorted(set(self.buckets))))


@dataclass(frozen=True)
class JitOptions:
    forward_jit: str = "inductor"
    compile_mode: str = "default"
    # dynamic=True compiles once (~100 s for a 7B model on an H100) and then ~20 ms per new
    # length; dynamic=False pays ~40 s for every length
    dynamic: bool = True
    torchscript: bool = True  # TorchScript preprocessing and sampling, as in the design document
    # q/k/v and gate/up as one matmul each (biases too). auto: the fused forward for the families
    # proven equal to the HF forward (strategies/fused_support.py), the HF forward with the reason
    # in the notes for any other model. true: the same as auto (no setting forces the fused forward
    # on an unproven model: it would compute a wrong token). false: always the HF forward
    fuse_projections: Any = "auto"
    # layer: compile the repeated decoder layer once and reuse its code for every layer (seconds,
    # not minutes, for a 7B model); needs the fused forward, else the whole model is compiled and
    # the notes say why. model: compile the whole forward
    compile_scope: str = "layer"

    def __post_init__(self):
        check_choice("forward_jit", self.forward_jit, FORWARD_JITS)
        check_choice("compile_mode", self.compile_mode, JIT_COMPILE_MODES)
        check_choice("compile_scope", self.compile_scope, COMPILE_SCOPES)
        if not (isinstance(self.fuse_projections, bool) or self.fuse_projections == "auto"):
            raise OptionError(f"fuse_projections: unknown value {self.fuse_projections!r}; allowed: auto, true, false")
        for key in ("dynamic", "torchscript"):
            check_bool(key, getattr(self, key))


@dataclass(frozen=True)
class HybridOptions(GraphOptions, JitOptions):
    def __post_init__(self):
        GraphOptions.__post_init__(self)
        JitOptions.__post_init__(self)


@dataclass(frozen=True)
class TorchCompileOptions:
    mode: str = "reduce-overhead"
    # None is torch.compile's own default (what a user who passes nothing gets): the first shape
    # compiles static, the first new shape recompiles with the length dynamic, later lengths reuse
    # it (each still records its own CUDA graph); false: one static compile per length
    dynamic: bool | None = None

    def __post_init__(self):
        check_choice("mode", self.mode, TORCH_COMPILE_MODES)
        if self.dynamic is not None:
            check_bool("dynamic", self.dynamic)


# registry name -> options type; tests/test_strategies_cpu.py checks it against the registry
OPTION_TYPES: dict[str, type] = {
    "baseline": NoOptions,
    "cuda-graph": GraphOptions,
    "jit-only": JitOptions,
    "jit+cuda": HybridOptions,
    "torch-compile": TorchCompileOptions,
    "hf-generate": NoOptions,
}
