"""Options and the terminal summary of the contract suite.

Default run: fixed per-test case counts, derandomized (same cases every run), no hypothesis
database. To explore further:

    scripts/nox -s contract -- contract_tests --contract-max-examples=5000     # many more cases per test
    scripts/nox -s contract -- contract_tests --contract-explore               # fresh random cases each run
    scripts/nox -s contract -- contract_tests --contract-explore --hypothesis-seed=1234   # replay one run

Live mode (real requests to a real API) needs `--contract-live-url`, the test invoice's ids and, for
any non-loopback target, a token in LEADWAY_CONTRACT_TOKEN; see contract_tests/live.py.
"""

from __future__ import annotations

import pytest

from contract_tests import budget


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("contract", "Leadway contract suite")
    group.addoption(
        "--contract-max-examples",
        type=int,
        default=None,
        help="cases per generated test (schemathesis and property tests) instead of each test's default",
    )
    group.addoption(
        "--contract-explore",
        action="store_true",
        help="random cases instead of the fixed derandomized ones (replay with --hypothesis-seed)",
    )
    group.addoption(
        "--contract-live-url",
        default=None,
        help="run the live tests against this API (sends REAL requests; needs LEADWAY_CONTRACT_TOKEN)",
    )
    group.addoption("--contract-invoice-id", default=None, help="live mode: the test invoice to send (liveMode=false)")
    group.addoption("--contract-location-id", default=None, help="live mode: the location (altId) owning the invoice")
    group.addoption("--contract-user-id", default=None, help="live mode: the user (userId) the send is made as")
    group.addoption(
        "--contract-max-requests", type=int, default=20, help="live mode: hard cap on requests sent (default 20)"
    )


def pytest_configure(config: pytest.Config) -> None:
    budget.configure(
        max_examples=config.getoption("--contract-max-examples"), explore=config.getoption("--contract-explore")
    )


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if budget.tally:
        counts = ", ".join(f"{kind}: {count}" for kind, count in sorted(budget.tally.items()))
        terminalreporter.write_line(f"contract cases run: {counts}")
