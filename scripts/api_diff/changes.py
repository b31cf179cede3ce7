"""One change as the report shows it, the semver ratings, and the version arithmetic."""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass


class Bump(enum.IntEnum):
    """How far the package's version must move for a change; ordered, so `max()` is the run's bump."""

    NONE = 0
    PATCH = 1
    MINOR = 2
    MAJOR = 3

    def __str__(self) -> str:
        return self.name.lower()


@dataclass(frozen=True, order=True)
class Change:
    """`subject: what`, e.g. `SendInvoiceRequest.sent_from: now required`, rated by `rule`."""

    bump: Bump
    subject: str
    what: str
    rule: str
    # Which view found it: "contract" (the spec), "python" (griffe) or "types" (mypy).
    view: str = "contract"

    @property
    def line(self) -> str:
        return f"{self.subject}: {self.what}"


def required_bump(changes: Iterable[Change]) -> Bump:
    return max((change.bump for change in changes), default=Bump.NONE)


def deduplicated(changes: Iterable[Change]) -> list[Change]:
    """One change per (view, line), at its highest rating (a schema shared by two operations is seen
    once per operation), ordered most severe first, then by line."""
    best: dict[tuple[str, str], Change] = {}
    for change in changes:
        key = (change.view, change.line)
        if key not in best or change.bump > best[key].bump:
            best[key] = change
    return sorted(best.values(), key=lambda change: (-change.bump, change.view, change.line))


_VERSION = re.compile(r"(\d+)\.(\d+)\.(\d+)")


class VersionError(ValueError):
    """A version that is not MAJOR.MINOR.PATCH."""


def parse_version(text: str) -> tuple[int, int, int]:
    match = _VERSION.match(text.strip())
    if not match:
        raise VersionError(f"version {text!r} is not MAJOR.MINOR.PATCH")
    major, minor, patch = (int(part) for part in match.groups())
    return major, minor, patch


def bump_of(base: str, new: str) -> Bump:
    """How far `new` moved from `base` (NONE when it did not move forward)."""
    old_v, new_v = parse_version(base), parse_version(new)
    if new_v <= old_v:
        return Bump.NONE
    if new_v[0] > old_v[0]:
        return Bump.MAJOR
    if new_v[1] > old_v[1]:
        return Bump.MINOR
    return Bump.PATCH


def next_version(base: str, bump: Bump) -> str:
    """The smallest version that is `bump` over `base`."""
    major, minor, patch = parse_version(base)
    if bump is Bump.MAJOR:
        return f"{major + 1}.0.0"
    if bump is Bump.MINOR:
        return f"{major}.{minor + 1}.0"
    if bump is Bump.PATCH:
        return f"{major}.{minor}.{patch + 1}"
    return base
