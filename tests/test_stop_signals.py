"""SIGINT and SIGTERM stop the measuring once, then wait: held, they are noted for afterwards."""
from __future__ import annotations

import os
import signal

import pytest

from bench.processes.stop_signals import StopSignals


def send(sig: int = signal.SIGTERM) -> None:
    os.kill(os.getpid(), sig)  # the handler runs before kill returns to Python


def test_the_first_signal_interrupts_and_the_next_ones_wait():
    stops = StopSignals().install()
    with pytest.raises(KeyboardInterrupt):
        send(signal.SIGINT)
    try:
        send()
    except KeyboardInterrupt:  # pytest would take it for the user's Ctrl-C and stop the session
        pytest.fail("a second signal interrupted what the first one left to write")
    assert stops.noted == ["SIGTERM"]


def test_a_signal_while_held_is_noted_and_interrupts_on_release():
    stops = StopSignals().install()
    stops.hold()
    send()
    assert stops.noted == ["SIGTERM"]
    with pytest.raises(KeyboardInterrupt):
        stops.release()
    assert stops.noted == [] and stops.held  # the interruption's own writing is held too


def test_released_without_a_signal_the_next_one_interrupts():
    stops = StopSignals().install()
    stops.hold()
    stops.release()
    with pytest.raises(KeyboardInterrupt):
        send()


def test_restore_gives_back_the_handlers_before():
    def before(*_):
        pass

    signal.signal(signal.SIGTERM, before)
    stops = StopSignals().install()
    assert signal.getsignal(signal.SIGTERM) is stops
    stops.restore()
    assert signal.getsignal(signal.SIGTERM) is before
