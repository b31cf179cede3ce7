"""The `leadway-invoices` command line: the `[cli]` extra (`pip install 'leadway-invoices-client[cli]'`).

Importing the package never imports this; `main` imports the command itself only once it knows the
extra's dependencies are there, so that without them the command says what to install in one line.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from importlib.util import find_spec
from typing import IO

EXTRA = "leadway-invoices-client[cli]"
USAGE_ERROR = 2
DEPENDENCIES = ("rich", "platformdirs")
"""What the extra installs, by import name."""


def main(
    argv: Sequence[str] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    stdout: IO[str] | None = None,
    stderr: IO[str] | None = None,
) -> int:
    """The console script. `environ`, `stdout` and `stderr` are for tests (defaults: the process's)."""
    if any(find_spec(name) is None for name in DEPENDENCIES):
        print(
            f"leadway-invoices: error: the command line needs the [cli] extra: pip install '{EXTRA}'",
            file=stderr or sys.stderr,
        )
        return USAGE_ERROR
    from .command import main as command_main

    return command_main(argv, environ=environ, stdout=stdout, stderr=stderr)


__all__ = ["main"]
