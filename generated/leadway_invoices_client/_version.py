# Copied from spec/runtime/_version.py by a post hook in spec/generator.yaml. Edit that file, then run scripts/nox -s generate.
# Source sha256: 2637aab020ee7c5390bf1ea754daf4312ed8c67506abcf42ad4ef81e8bcef3fb
"""The package's version, from its installed metadata (pyproject.toml's `version`, the one place it
is written), and the User-Agent that names it."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

import httpx

DISTRIBUTION = "leadway-invoices-client"

try:
    __version__ = version(DISTRIBUTION)
except PackageNotFoundError:  # imported from a source tree that was never installed
    __version__ = "0+unknown"

USER_AGENT = f"{DISTRIBUTION}/{__version__} python-httpx/{httpx.__version__}"
