"""The text a run prints: per document, its new and its known differences; then the stale entries."""

from __future__ import annotations

from collections.abc import Sequence

from scripts.upstream_drift.known import KnownDifference, Report
from scripts.upstream_drift.operations import SEND, Operation


def render(report: Report, *, ours: str, upstream: str, stale: bool = True, operation: Operation = SEND) -> str:
    total = len(report.new) + len(report.known)
    lines = [
        f"{operation.title}: {ours} compared with {upstream}",
        f"{total} differences: {len(report.new)} new, {len(report.known)} known and intended.",
    ]
    if report.new:
        lines += ["", "NEW (not in the known-differences list):"]
        lines += [f"  - {d.line()}" for d in report.new]
    if report.known:
        lines += ["", "Known and intended:"]
        for k in report.known:
            lines.append(f"  - {k.difference.line()}")
            lines.append(f"      why: {' '.join(k.reason.split())}")
    if stale and report.stale:
        lines += ["", render_stale(report.stale)]
    return "\n".join(lines)


def render_stale(stale: Sequence[KnownDifference]) -> str:
    lines = ["Listed as known but no longer found (remove them from the list):"]
    return "\n".join(lines + [f"  - {k.difference.line()}" for k in stale])
