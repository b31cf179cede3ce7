"""The package's version, from its installed metadata (pyproject.toml's `version`, the one place it
is written), and the User-Agent that names it."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

import httpx

from .constants import DISTRIBUTION

try:
    __version__ = version(DISTRIBUTION)
except PackageNotFoundError:  # imported from a source tree that was never installed
    __version__ = "0+unknown"

USER_AGENT = f"{DISTRIBUTION}/{__version__} python-httpx/{httpx.__version__}"
