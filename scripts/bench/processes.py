"""The sandbox in a child process of its own, so that its CPU work is off the client's GIL: as a
benchmark's server, and with its CPU time on request."""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Iterator
from contextlib import contextmanager
from multiprocessing.connection import Connection

from scripts.sandbox import SandboxConfig, create_app, serve_in_thread


def _serve(conn: Connection, config: SandboxConfig) -> None:
    """In the child process: serve the sandbox, send its URL, answer each "cpu" message with the CPU
    seconds it has spent so far, stop at any other message."""
    with serve_in_thread(create_app(config)) as base_url:
        conn.send(base_url)
        while conn.recv() == "cpu":
            conn.send(time.process_time())


class SandboxProcess:
    """A running sandbox process: its URL, and its CPU time so far (`cpu()`)."""

    def __init__(self, conn: Connection, base_url: str) -> None:
        self._conn = conn
        self.base_url = base_url

    def cpu(self) -> float:
        self._conn.send("cpu")
        seconds: float = self._conn.recv()
        return seconds


@contextmanager
def sandbox_process(config: SandboxConfig) -> Iterator[SandboxProcess]:
    """The loopback sandbox in a child process; yields it once it serves."""
    ctx = multiprocessing.get_context("spawn")
    ours, theirs = ctx.Pipe()
    process = ctx.Process(target=_serve, args=(theirs, config), name="leadway-bench-sandbox", daemon=True)
    process.start()
    try:
        if not ours.poll(30):
            raise RuntimeError("the sandbox process did not start within 30 s")
        yield SandboxProcess(ours, ours.recv())
    finally:
        if process.is_alive():
            ours.send(None)
        process.join(10)
        if process.is_alive():
            process.terminate()
            process.join()
