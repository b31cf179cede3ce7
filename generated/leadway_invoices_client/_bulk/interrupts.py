"""Ctrl-C during a bulk run, handled here once for the command, its parent process and its workers.

The first Ctrl-C stops starting sends: those in flight finish and are recorded. A second abandons
them: each key they held is left PENDING, and the next run reconciles it.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager


@contextmanager
def on_interrupt(first: Callable[[], None], again: Callable[[], None] | None = None) -> Iterator[None]:
    """While inside, the first Ctrl-C (SIGINT) calls `first`; each later one calls `again`, or, without
    it, interrupts as before (KeyboardInterrupt).

    In a running event loop the loop calls them (so they may touch asyncio objects); elsewhere the
    signal handler does. Where no handler can be installed (not the main thread, a loop without signal
    support), Ctrl-C keeps its default meaning.
    """
    try:
        loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
    except RuntimeError:
        loop = None
    installed = True
    seen = 0

    def uninstall() -> None:
        nonlocal installed
        if installed:
            installed = False
            if loop is not None:
                loop.remove_signal_handler(signal.SIGINT)
            else:
                signal.signal(signal.SIGINT, previous)

    def handle(*_: object) -> None:
        nonlocal seen
        seen += 1
        if seen == 1:
            first()
        elif again is not None:
            again()
        if again is None:
            uninstall()  # the next Ctrl-C interrupts

    try:
        if loop is not None:
            loop.add_signal_handler(signal.SIGINT, handle)
        else:
            previous = signal.signal(signal.SIGINT, handle)
    except (NotImplementedError, RuntimeError, ValueError):
        yield
        return
    try:
        yield
    finally:
        uninstall()
