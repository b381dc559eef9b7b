"""Whether a run measured what it set out to: the truth behind its status and exit code."""
from __future__ import annotations

from bench.config.names import BASELINE

NOTE_CHARS = 200  # enough of a failure's note to name it on one line


def run_failure(data: dict) -> str | None:
    """Why a finished run is not complete (a crashed worker, a strategy whose every point failed,
    a baseline point that failed: no reference there), or None. `data` is run.json's content."""
    reasons = []
    for name, info in data["strategies"].items():
        points = [p for p in data["points"] if p["strategy"] == name]
        errors = [p for p in points if p["status"] == "error"]
        if info.get("status") == "error":
            reasons.append(f"{name} stopped: {short(info.get('note'))}")
        elif points and len(errors) == len(points):
            reasons.append(f"{name} failed at every length: {short(errors[0].get('note'))}")
        elif info.get("restart_status") in ("running", "error"):
            reasons.append(f"{name}'s restart did not finish: {short(info.get('restart_note'))}")
        elif info.get("restart_prompts_agreed", 0) < info.get("restart_prompts_judged", 0):
            reasons.append(f"{name} after a restart disagreed with the baseline: {short(info.get('restart_note'))}")
        elif name == BASELINE and errors:
            lengths = ", ".join(str(p["prompt_len"]) for p in errors)
            reasons.append(f"{name} failed at length {lengths} (no reference there): {short(errors[0].get('note'))}")
    return "; ".join(reasons) or None


def short(note: str | None) -> str:
    note = (note or "no reason given").strip()
    return note if len(note) <= NOTE_CHARS else note[:NOTE_CHARS] + "..."
