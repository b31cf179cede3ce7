"""The sandbox in its own process (as a user would run it) and the bulk-send command as a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

from scripts.project import ROOT
from scripts.sandbox import DEFAULT_TOKEN


class SandboxProcess:
    """`python -m scripts.sandbox` on a free loopback port; reads its outbox over HTTP."""

    def __init__(self, args: Sequence[str]) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        env.pop("LEADWAY_SANDBOX_TOKEN", None)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "scripts.sandbox", "--port", "0", *args],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert self.process.stdout is not None
        banner = self.process.stdout.readline()
        if not banner.startswith("Leadway sandbox on "):
            self.process.kill()
            raise RuntimeError(f"the sandbox did not start: {banner!r}")
        self.url = banner.split()[3]
        self.admin = httpx.Client(base_url=self.url, timeout=30)

    def outbox(self) -> list[dict[str, Any]]:
        deliveries: list[dict[str, Any]] = self.admin.get("/_sandbox/outbox").json()
        return deliveries

    def stop(self) -> None:
        self.admin.close()
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def command(file: Path, base_url: str, *flags: str) -> list[str]:
    """The bulk-send command line, run with this interpreter (the console script's module)."""
    return [sys.executable, "-m", "leadway_invoices_client.cli", "send", str(file), "--base-url", base_url, *flags]


def command_env() -> dict[str, str]:
    """The command's environment: the sandbox token, and this test's user data folder (tests/conftest.py)."""
    env = {**os.environ, "LEADWAY_API_TOKEN": DEFAULT_TOKEN, "PYTHONUNBUFFERED": "1"}
    env.pop("LEADWAY_SANDBOX_TOKEN", None)
    return env


def summary_block(stdout: str, key: str) -> str:
    """The summary's block about `key`: its line, and the indented lines after it (reason, evidence)."""
    lines = stdout.splitlines()
    start = next(index for index, line in enumerate(lines) if f" key {key}" in line)
    block = [lines[start]]
    for line in lines[start + 1 :]:
        if not line.startswith("    "):
            break
        block.append(line)
    return "\n".join(block)
