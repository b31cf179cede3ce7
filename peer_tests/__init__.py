"""Upstream's published SDKs driven against the sandbox (`scripts/nox -s peer`)."""
