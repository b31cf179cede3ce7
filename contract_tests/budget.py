"""Hypothesis settings of the contract suite: fixed case counts, derandomized, no database.

Tests write `@contract_settings(100)`. A run may ask for more cases per test
(`--contract-max-examples=5000`) or fresh random cases (`--contract-explore`, replayable with
hypothesis's `--hypothesis-seed=N`). Settings are evaluated when a test module is imported, which is
after `pytest_configure` (see conftest.py) has called `configure`.

The settings are built here rather than loaded as the global hypothesis profile, so that running
`tests/` and `contract_tests/` in one pytest session leaves the other suite's settings alone.
"""

from __future__ import annotations

import os
from collections import Counter

from hypothesis import HealthCheck, settings

_BASE = settings(
    deadline=None,  # 2-core CI machines stall; time is budgeted by case counts instead
    print_blob=True,
    # Bodies of the response schema are large by nature; that is what is being tested.
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
# Same cases every run, so a failure in CI is a failure on your machine. Derandomized runs never use
# the example database.
DEFAULT = settings(_BASE, derandomize=True, database=None)
# Fresh cases every run; the database (.hypothesis/, git-ignored) keeps failures, except under CI.
EXPLORE = (
    settings(_BASE, derandomize=False, database=None) if os.environ.get("CI") else settings(_BASE, derandomize=False)
)

_override: int | None = None
_explore = False

# Cases run so far in this session, by kind ("schemathesis positive", ...); the terminal summary
# prints them and the suite checks its own minimum against them.
tally: Counter[str] = Counter()


def configure(*, max_examples: int | None, explore: bool) -> None:
    global _override, _explore
    if max_examples is not None and max_examples < 1:
        raise ValueError("--contract-max-examples must be at least 1")
    _override, _explore = max_examples, explore


def examples(default: int) -> int:
    """`default`, unless the run asked for another number of cases per test."""
    return _override if _override is not None else default


def contract_settings(default_examples: int) -> settings:
    return settings(EXPLORE if _explore else DEFAULT, max_examples=examples(default_examples))
