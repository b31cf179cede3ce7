"""The API changes, the spec does not: an API change recorded in a copy of an exchange or of a
recorded cassette fails the contract checks (the same `ContractChecker` the cassette tests use),
naming the problem; the same proofs for the send and for the read.

The baselines pass unchanged first, so every failure is the change's doing.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from contract_tests.api_changes import (
    CASSETTE_CHANGES,
    READ,
    READ_CHANGES,
    READ_NOT_FOUND,
    RECORDED_CASSETTE,
    RECORDED_READ,
    REFUSED,
    SENT,
    response_change,
)
from contract_tests.exchanges import ContractChecker, Exchange, dump_cassette, load_cassette


@pytest.fixture(scope="module")
def checker() -> ContractChecker:
    return ContractChecker()


def _problems_once_recorded(checker: ContractChecker, tmp_path: Path, exchange: Exchange) -> list[str]:
    """What the checks find in `exchange` after it went through a cassette file, as a recorded one does."""
    cassette = tmp_path / "changed.yaml"
    dump_cassette([exchange], cassette)
    [recorded] = load_cassette(cassette)
    return checker.problems(recorded)


def test_the_baselines_pass_unchanged(checker: ContractChecker) -> None:
    assert checker.problems(SENT) == []
    # The refused request breaks the request schema by design; its answer is what is checked.
    assert checker.response_problems(REFUSED) == []


@pytest.mark.parametrize("change", sorted(CASSETTE_CHANGES))
def test_an_api_change_recorded_in_a_cassette_fails_the_contract(
    checker: ContractChecker, tmp_path: Path, change: str
) -> None:
    mutate, expected = CASSETTE_CHANGES[change]
    problems = _problems_once_recorded(checker, tmp_path, mutate(SENT))
    assert any(expected in p for p in problems), problems


def test_a_new_invoice_status_is_tolerated_by_design(checker: ContractChecker) -> None:
    # `status` is an open enum: an upstream status we do not know yet must not fail anyone's CI.
    def archive(body: dict[str, Any]) -> None:
        body["invoice"]["status"] = "archived"

    assert checker.problems(response_change(archive)(SENT)) == []


@pytest.mark.parametrize("change", sorted(CASSETTE_CHANGES))
def test_an_api_change_in_a_copy_of_a_recorded_cassette_fails_the_contract(
    checker: ContractChecker, tmp_path: Path, change: str
) -> None:
    [recorded] = load_cassette(RECORDED_CASSETTE)
    assert checker.problems(recorded) == []
    mutate, expected = CASSETTE_CHANGES[change]
    problems = _problems_once_recorded(checker, tmp_path, mutate(recorded))
    assert any(expected in p for p in problems), problems


def test_an_error_answer_without_rate_limit_headers_is_tolerated_by_design(checker: ContractChecker) -> None:
    # Required on a 2xx only: a gateway or proxy may answer an error before the rate limiter does.
    without = {k: v for k, v in READ_NOT_FOUND.response_headers.items() if not k.startswith("x-ratelimit-")}
    assert checker.problems(replace(READ_NOT_FOUND, response_headers=without)) == []


def test_the_read_baselines_pass_unchanged(checker: ContractChecker) -> None:
    assert checker.problems(READ) == []
    assert checker.problems(READ_NOT_FOUND) == []


@pytest.mark.parametrize("change", sorted(READ_CHANGES))
def test_an_api_change_to_the_read_fails_the_contract(checker: ContractChecker, tmp_path: Path, change: str) -> None:
    mutate, expected = READ_CHANGES[change]
    problems = _problems_once_recorded(checker, tmp_path, mutate(READ))
    assert any(expected in p for p in problems), problems


# The sandbox's seed has no remindersConfiguration to change.
@pytest.mark.parametrize("change", sorted(c for c in READ_CHANGES if "reminders" not in c))
def test_an_api_change_in_a_copy_of_a_recorded_read_fails_the_contract(
    checker: ContractChecker, tmp_path: Path, change: str
) -> None:
    [recorded] = load_cassette(RECORDED_READ)
    assert checker.problems(recorded) == []
    mutate, expected = READ_CHANGES[change]
    problems = _problems_once_recorded(checker, tmp_path, mutate(recorded))
    assert any(expected in p for p in problems), problems
