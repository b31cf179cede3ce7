"""scripts/api_diff/changes.py: ratings, deduplication and the version arithmetic."""

from __future__ import annotations

import pytest

from scripts.api_diff.changes import Bump, Change, VersionError, bump_of, deduplicated, next_version, required_bump


def test_the_required_bump_is_the_highest_rating() -> None:
    changes = [Change(Bump.PATCH, "a", "x", "r"), Change(Bump.MAJOR, "b", "y", "r"), Change(Bump.MINOR, "c", "z", "r")]
    assert required_bump(changes) is Bump.MAJOR
    assert required_bump([]) is Bump.NONE
    assert str(Bump.MAJOR) == "major"


def test_a_change_seen_twice_is_kept_once_at_its_highest_rating() -> None:
    changes = [
        Change(Bump.MINOR, "Invoice.total", "type number -> string", "type-changed"),
        Change(Bump.MAJOR, "Invoice.total", "type number -> string", "type-changed"),
        Change(Bump.MINOR, "Invoice.total", "type number -> string", "added", view="python"),
    ]
    kept = deduplicated(changes)
    assert [(change.bump, change.view) for change in kept] == [(Bump.MAJOR, "contract"), (Bump.MINOR, "python")]
    assert kept[0].line == "Invoice.total: type number -> string"


@pytest.mark.parametrize(
    ("base", "new", "bump"),
    [
        ("0.1.0", "0.1.0", Bump.NONE),
        ("0.1.0", "0.0.9", Bump.NONE),
        ("0.1.0", "0.1.1", Bump.PATCH),
        ("0.1.0", "0.2.0", Bump.MINOR),
        ("0.1.0", "1.0.0", Bump.MAJOR),
        ("1.2.3", "2.0.0rc1", Bump.MAJOR),
    ],
)
def test_how_far_a_version_moved(base: str, new: str, bump: Bump) -> None:
    assert bump_of(base, new) is bump


def test_the_next_version_for_each_bump() -> None:
    assert [next_version("0.1.3", bump) for bump in Bump] == ["0.1.3", "0.1.4", "0.2.0", "1.0.0"]


def test_a_version_that_is_not_semver_is_named() -> None:
    with pytest.raises(VersionError, match=r"'latest' is not MAJOR\.MINOR\.PATCH"):
        bump_of("latest", "0.1.0")
