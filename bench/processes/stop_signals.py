"""SIGINT and SIGTERM during a run: they stop the measuring, never the writing of what was measured.

    stops = StopSignals().install()   # Ctrl-C or `timeout` raises KeyboardInterrupt ...
    measure()
    stops.hold()                      # ... until the measuring is over; from here a signal is noted,
    write_status_and_report()         # so run.json's status, the report and the exit code agree
    stops.noted                       # the signals that came while held, for one line afterwards
    stops.restore()                   # the handlers before install() (a command that exits needs not)

The first signal also holds the next ones: the run it interrupts still writes its status and
report. One handler serves the whole run and holding is one attribute set, so no signal can land
between "interrupting" and "held". SIGKILL cannot be held: a run killed by it may end without its
report, which `report DIR` rebuilds from the raw files.
"""
from __future__ import annotations

import signal

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)  # Ctrl-C; `timeout` and job schedulers


class StopSignals:
    """SIGINT and SIGTERM raise KeyboardInterrupt once, then are noted (and while held)."""

    def __init__(self):
        self.held = False
        self.noted: list[str] = []
        self.previous: dict = {}

    def __call__(self, signum, frame) -> None:
        if self.held:
            self.noted.append(signal.Signals(signum).name)
            return
        self.held = True  # what the interruption leaves to write must not be interrupted in turn
        raise KeyboardInterrupt

    def hold(self) -> None:
        """From now on a signal is noted, not raised: what is left is writing files that must stay whole."""
        self.held = True

    def release(self) -> None:
        """Signals interrupt again; one that came while held interrupts now (KeyboardInterrupt)."""
        self.held = False  # first: a signal from here on raises by itself
        if self.noted:
            self.held = True  # the interruption's own writing goes undisturbed
            self.noted.clear()  # said by the interruption it becomes
            raise KeyboardInterrupt

    def install(self) -> "StopSignals":
        """Handle SIGINT and SIGTERM here, keeping the handlers before for restore()."""
        self.previous = {sig: signal.signal(sig, self) for sig in STOP_SIGNALS}
        return self

    def restore(self) -> None:
        """The handlers install() replaced (one set outside Python, None, is left to the default)."""
        for sig, handler in self.previous.items():
            signal.signal(sig, signal.SIG_DFL if handler is None else handler)
