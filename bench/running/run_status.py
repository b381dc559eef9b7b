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
    reasons += load_failures(data.get("load") or {})
    return "; ".join(reasons) or None


def load_failures(section: dict) -> list[str]:
    """A load run that did not finish, and every load run with a level whose answers were not all the
    baseline's (a saturated level is a measurement, not a failure)."""
    reasons = []
    for run in section.get("runs", []):
        who = f"{run['strategy']} under load ({run['batching']})"
        if run.get("status") in ("running", "error"):
            reasons.append(f"{who} did not finish: {short(run.get('note'))}")
        wrong = [lv for lv in section.get("levels", []) if (lv["strategy"], lv["batching"]) ==
                 (run["strategy"], run["batching"]) and lv.get("correct") is False]
        if wrong:
            where = ", ".join(f"{lv['mode']} {lv['level']:g}" for lv in wrong)
            reasons.append(f"{who} disagreed with the baseline at {where}: {short(wrong[0].get('note'))}")
    return reasons


def short(note: str | None) -> str:
    note = (note or "no reason given").strip()
    return note if len(note) <= NOTE_CHARS else note[:NOTE_CHARS] + "..."
