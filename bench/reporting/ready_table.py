"""Where a strategy's ready time went, from run.json alone: imports, model build, setup, the JIT
compiles and graph captures of every length, the rest, and the ready time itself (and the restart's,
where one was measured). Which run a document shows is the caller's choice."""
from __future__ import annotations

from bench.reporting.records import PointRecord, StrategyRecord
from bench.reporting.tables import fmt, markdown_table

HEADER = ["strategy", "imports", "model build", "setup", "compile (all lengths)", "capture (all lengths)",
          "other", "ready"]
RESTART_COLUMN = "ready after restart"


def total_s(values_ms) -> float | None:
    """The sum in seconds of the values reported (None: none was)."""
    reported = [v for v in values_ms if v is not None]
    return sum(reported) / 1e3 if reported else None


def ready_breakdown(run: dict) -> str:
    """Per strategy that reported a ready time, in seconds from its worker's process start. `other` is ready
    less the parts: CUDA's start, the job, the baseline's ceilings and references, and the preparation of any
    length whose point the run lacks (its compile and capture are reported with its point; such cells say how
    many lengths they sum)."""
    lengths = len(run["config"]["prompts"]["lengths"])
    points: dict[str, list[PointRecord]] = {}
    for point in run["points"]:
        points.setdefault(point["strategy"], []).append(PointRecord.from_dict(point))
    strategies = {name: StrategyRecord.from_dict(raw) for name, raw in run["strategies"].items()}
    restarts = any(s.restart_ready_s is not None for s in strategies.values())
    rows = []
    for name, s in strategies.items():
        if s.ready_s is None:
            continue
        mine = points.get(name, [])
        compiled, captured = total_s(p.jit_compile_ms for p in mine), total_s(p.graph_capture_ms for p in mine)
        parts = [s.imports_s, total_s([s.model_build_ms]), total_s([s.setup_ms]), compiled, captured]
        partial = "" if len(mine) >= lengths else f" ({len(mine)} of {lengths} lengths)"
        row = [name, *(fmt(part) for part in parts[:3]),
               *("-" if part is None else fmt(part) + partial for part in parts[3:]),
               fmt(s.ready_s - sum(part for part in parts if part is not None)), f"**{fmt(s.ready_s)}**"]
        rows.append(row + ([fmt(s.restart_ready_s)] if restarts else []))
    return markdown_table(HEADER + ([RESTART_COLUMN] if restarts else []), rows)
