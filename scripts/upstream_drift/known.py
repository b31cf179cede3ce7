"""The known-differences list: the differences we intend, each with its reason. Reading it, sorting
a run's differences into new and known, and writing entries for new ones to fill in."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from scripts.upstream_drift.differences import Difference
from scripts.upstream_drift.documents import DriftError


@dataclass(frozen=True)
class KnownDifference:
    difference: Difference
    reason: str


@dataclass(frozen=True)
class Report:
    new: list[Difference]
    known: list[KnownDifference]
    stale: list[KnownDifference]  # listed as known, no longer found


def load_known(path: Path) -> list[KnownDifference]:
    if not path.exists():
        return []
    try:
        entries = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    except yaml.YAMLError as exc:
        raise DriftError(f"{path} is not YAML: {exc}") from exc
    if not isinstance(entries, list):
        raise DriftError(f"{path} must be a list of differences")
    known: list[KnownDifference] = []
    for index, entry in enumerate(entries):
        keys = ("where", "aspect", "upstream", "ours", "reason")
        if not isinstance(entry, dict) or any(not isinstance(entry.get(k), str) for k in keys):
            raise DriftError(f"{path}: entry {index} needs string fields {', '.join(keys)}")
        if not entry["reason"].strip():
            raise DriftError(f"{path}: entry {index} ({entry['where']}) has an empty reason")
        known.append(
            KnownDifference(
                Difference(entry["where"], entry["aspect"], entry["upstream"], entry["ours"]), entry["reason"]
            )
        )
    return known


def classify(differences: Sequence[Difference], known: Sequence[KnownDifference]) -> Report:
    by_difference = {k.difference: k for k in known}
    found = set(differences)
    return Report(
        new=[d for d in differences if d not in by_difference],
        known=[by_difference[d] for d in differences if d in by_difference],
        stale=[k for k in known if k.difference not in found],
    )


def suggest(differences: Sequence[Difference]) -> str:
    entries = [
        {"where": d.where, "aspect": d.aspect, "upstream": d.upstream, "ours": d.ours, "reason": "TODO: why we differ"}
        for d in differences
    ]
    return yaml.safe_dump(entries, sort_keys=False, width=120, allow_unicode=True)
