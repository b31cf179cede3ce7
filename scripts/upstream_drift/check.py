"""One check: our spec's operation compared with one or several upstream documents, sorted against
the known differences."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from scripts.project import SPEC_PATH
from scripts.upstream_drift.differences import Difference, compare
from scripts.upstream_drift.documents import load_document
from scripts.upstream_drift.facts import operation_facts
from scripts.upstream_drift.known import KnownDifference, Report, classify, load_known
from scripts.upstream_drift.operations import SEND, Operation


def run(
    upstream: str, *, spec: Path = SPEC_PATH, known: Path | None = None, operation: Operation = SEND
) -> tuple[Report, list[Difference]]:
    ours = operation_facts(load_document(str(spec)), operation)
    differences = compare(ours, operation_facts(load_document(upstream), operation))
    known = known or operation.known
    return classify(differences, load_known(known)), differences


def run_all(
    upstreams: Sequence[str], *, spec: Path = SPEC_PATH, known: Path | None = None, operation: Operation = SEND
) -> tuple[list[Report], list[KnownDifference]]:
    """One report per document, and the known entries that none of them shows (the stale ones)."""
    entries = load_known(known or operation.known)
    ours = operation_facts(load_document(str(spec)), operation)
    reports: list[Report] = []
    found: set[Difference] = set()
    for upstream in upstreams:
        differences = compare(ours, operation_facts(load_document(upstream), operation))
        found.update(differences)
        reports.append(classify(differences, entries))
    return reports, [k for k in entries if k.difference not in found]
