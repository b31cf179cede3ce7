"""The default run's lanes: which arguments go to nox as they are, and how sessions are split."""

from __future__ import annotations

import pytest

from scripts.lanes import LONGEST, selects, split

DEFAULT = ["drift", "lint", "typecheck", "tests-3.11", "tests-3.12", "tests-3.13", "tests-lowest", "contract"]


@pytest.mark.parametrize(
    "args",
    [["-s", "demo"], ["--session=lint"], ["-l"], ["--list"], ["-k", "tests"], ["-p", "3.12"], ["--help"], ["--", "x"]],
)
def test_arguments_that_choose_sessions_go_to_nox_as_they_are(args: list[str]) -> None:
    assert selects(args)


@pytest.mark.parametrize("args", [[], ["--non-interactive"], ["-r"], ["--no-color", "--non-interactive"]])
def test_a_plain_run_goes_in_lanes(args: list[str]) -> None:
    assert not selects(args)


def test_every_session_runs_once_the_longest_alone_and_order_is_kept() -> None:
    lanes = split(DEFAULT)

    assert lanes[0] == [LONGEST]
    assert sorted(name for lane in lanes for name in lane) == sorted(DEFAULT)
    for lane in lanes:
        assert lane == sorted(lane, key=DEFAULT.index)


def test_without_the_longest_session_or_with_one_lane_nothing_is_split() -> None:
    assert split(["lint", "drift"]) == [["lint", "drift"]]
    assert split(DEFAULT, lanes=1) == [DEFAULT]
