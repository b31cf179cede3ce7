"""Fixtures of the bulk-send tests: the sandbox in its own process, as a user would run it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from .processes import SandboxProcess


@pytest.fixture
def sandbox_process() -> Iterator[Any]:
    started: list[SandboxProcess] = []

    def start(*args: str) -> SandboxProcess:
        started.append(SandboxProcess(args))
        return started[-1]

    yield start
    for sandbox in started:
        sandbox.stop()
