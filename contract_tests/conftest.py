"""Options, hypothesis profiles and shared fixtures of the contract suite.

Default run: fixed per-test case counts, derandomized (same cases every run, so a failure in CI is a
failure on your machine), no hypothesis database under CI. To explore further:

    nox -s contract -- --contract-max-examples=5000                 # many more cases per test
    nox -s contract -- --hypothesis-profile=contract-explore        # fresh random cases each run
    nox -s contract -- --hypothesis-profile=contract-explore --hypothesis-seed=1234   # replay one

Live mode (real requests to a real API) needs every `--contract-live-*` option plus a token in
LEADWAY_CONTRACT_TOKEN; see contract_tests/live.py.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

from contract_tests import budget

_BASE = settings(
    deadline=None,  # 2-core CI machines stall; time is budgeted by case counts instead
    print_blob=True,
    # Bodies of the response schema are large by nature; that is what is being tested.
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
# derandomize implies no database: the default profile never reads or writes .hypothesis/.
settings.register_profile("contract", parent=_BASE, derandomize=True, database=None)
if os.environ.get("CI"):
    settings.register_profile("contract-explore", parent=_BASE, derandomize=False, database=None)
else:
    settings.register_profile("contract-explore", parent=_BASE, derandomize=False)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("contract", "Leadway contract suite")
    group.addoption(
        "--contract-max-examples",
        type=int,
        default=None,
        help="cases per generated test (schemathesis and property tests) instead of each test's default",
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
    budget.set_max_examples(config.getoption("--contract-max-examples"))
    # Only pick our profile when the user did not choose one with --hypothesis-profile.
    if config.getoption("--hypothesis-profile", default=None) is None:
        settings.load_profile("contract")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if budget.tally:
        counts = ", ".join(f"{kind}: {count}" for kind, count in sorted(budget.tally.items()))
        terminalreporter.write_line(f"contract cases run: {counts}")
