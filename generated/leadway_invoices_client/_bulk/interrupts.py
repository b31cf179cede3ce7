"""Ctrl-C (SIGINT) and SIGTERM during a bulk run, handled here once for the command, its parent
process and its workers.

The first stops starting sends: those in flight finish and are recorded, and the summary is printed.
SIGTERM is what systemd, Kubernetes and `timeout` send to stop a job, so it means the same. A second
signal abandons the sends in flight: each key they held is left PENDING, and the next run reconciles
it.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

# Ctrl-C, and what service managers and `timeout` send to stop a job.
STOP_SIGNALS: tuple[signal.Signals, ...] = (signal.SIGINT, signal.SIGTERM)


@dataclass
class Stopped:
    """Which signal stopped the run first; None while none has."""

    signal: int | None = None


@contextmanager
def on_interrupt(
    first: Callable[[], None],
    again: Callable[[], None] | None = None,
    *,
    signals: tuple[signal.Signals, ...] = STOP_SIGNALS,
) -> Iterator[Stopped]:
    """While inside, the first of `signals` (SIGINT, SIGTERM) calls `first`; each later one calls
    `again`, or, without it, does what it did before (SIGINT: KeyboardInterrupt; SIGTERM: the process
    ends).

    In a running event loop the loop calls them (so they may touch asyncio objects); elsewhere the
    signal handler does. Where no handler can be installed (not the main thread, a loop without signal
    support), the signals keep their default meaning.
    """
    try:
        loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
    except RuntimeError:
        loop = None
    stopped = Stopped()
    previous: dict[signal.Signals, Any] = {}
    installed: list[signal.Signals] = []

    def uninstall() -> None:
        while installed:
            signum = installed.pop()
            if loop is not None:
                loop.remove_signal_handler(signum)
            else:
                signal.signal(signum, previous[signum])

    def handle(signum: int) -> None:
        if stopped.signal is None:
            stopped.signal = signum
            first()
        elif again is not None:
            again()
        if again is None:
            uninstall()  # the next one does what it did before

    try:
        for signum in signals:
            if loop is not None:
                loop.add_signal_handler(signum, handle, signum)
            else:
                previous[signum] = signal.signal(signum, lambda number, _: handle(number))
            installed.append(signum)
    except (NotImplementedError, RuntimeError, ValueError, OSError):
        uninstall()
        yield stopped
        return
    try:
        yield stopped
    finally:
        uninstall()
