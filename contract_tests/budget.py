"""How many cases each generated test runs: a fixed default, or what `--contract-max-examples` asks.

Hypothesis `@settings` are evaluated when a test module is imported, which is after
`pytest_configure` (see conftest.py) has called `set_max_examples`; so tests write
`@settings(max_examples=examples(100))` and a run with `--contract-max-examples=5000` gets 5000 each.
"""

from __future__ import annotations

from collections import Counter

_override: int | None = None


def set_max_examples(value: int | None) -> None:
    global _override
    if value is not None and value < 1:
        raise ValueError("--contract-max-examples must be at least 1")
    _override = value


def examples(default: int) -> int:
    """`default`, unless the run asked for another number of cases per test."""
    return _override if _override is not None else default


# Cases run so far in this session, by kind ("schemathesis positive", ...); the terminal summary
# prints them and the suite checks its own minimum against them.
tally: Counter[str] = Counter()
