"""The contract suite: schemathesis against the sandbox, recorded cassettes replayed offline, and
property tests, each checking requests and answers against spec/openapi.yaml. Users run it in their CI.
"""

from pathlib import Path

CASSETTES = Path(__file__).resolve().parent / "cassettes"
"""Recorded exchanges, by target and mode: `cassettes/<target>/<sync|async>/<scenario>.yaml`."""

CONTRACT_TOKEN_ENV = "LEADWAY_CONTRACT_TOKEN"
"""Where live mode and recording against production read the token: never an option."""
