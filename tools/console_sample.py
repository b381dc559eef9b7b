"""The README's sample of what `make bench` prints: a committed run folder's summary printed by the very
function the CLI's run command prints it with, stdout and stderr in the order they are written (each line
without trailing blanks, which an editor would trim and so make the page stale)."""
from __future__ import annotations

import contextlib
import io
from pathlib import Path

from bench.cli import print_summary
from tools.summaries import summary


def load_text(env: dict) -> str:
    """', load average 0.7 at its start and 3.8 at its end' (1-minute), where the run recorded them."""
    start, end = env.get("load_start"), env.get("load_end")
    if not start:
        return ""
    return f", load average {start[0]:.1f} at its start" + (f" and {end[0]:.1f} at its end" if end else "")


def console_sample(folder: Path, shown_as: str, command: str) -> str:
    """A fenced block: the command, then the summary `bench run` prints for the run in folder, naming it shown_as
    (where `make bench` writes it), then where the committed run was measured."""
    run, df = summary(folder)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(printed):
        print_summary(folder, df, shown_as=Path(shown_as))
    env = run["environment"]
    where = (f"`{folder.parent.name}/{folder.name}/`, measured {run['started'][:10]} on {env.get('cpu_count')} CPU "
             f"cores ({env.get('cpu')}, torch {env.get('torch')}){load_text(env)}; a run on your machine prints its "
             f"own numbers.")
    lines = "\n".join(line.rstrip() for line in printed.getvalue().rstrip().splitlines())  # no trailing blanks to trim
    return f"```console\n$ {command}\n...\n{lines}\n```\n\nThe block above is {where}"
