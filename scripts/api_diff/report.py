"""The report: one plain line per change for the terminal, and a Markdown changelog entry draft."""

from __future__ import annotations

from collections.abc import Sequence

from scripts.api_diff.changes import Bump, Change

VIEWS = {"contract": "HTTP contract (spec)", "python": "Python API (griffe)", "types": "old typed usage (mypy)"}


def lines(changes: Sequence[Change]) -> list[str]:
    """`major  SendInvoiceRequest.sent_from: now required  [contract: field-now-required]`."""
    return [f"{change.bump!s:<5}  {change.line}  [{change.view}: {change.rule}]" for change in changes]


def _section(change: Change) -> str:
    """The Keep a Changelog section a change belongs in."""
    if change.what.startswith("removed") or "no longer documented" in change.what:
        return "Removed"
    if change.what.startswith("added") or change.what.endswith("documented"):
        return "Added"
    return "Changed"


def markdown(changes: Sequence[Change], *, bump: Bump, base_label: str, base_version: str, version: str) -> str:
    """A changelog entry draft: Keep a Changelog sections, breaking changes marked, then each view."""
    out = [f"## [{version}] - unreleased", ""]
    out.append(f"Required bump: **{bump}** (from {base_version}, base {base_label}).")
    out.append("")
    if not changes:
        out += ["No change that users of the package can see.", ""]
    for section in ("Removed", "Changed", "Added"):
        chosen = [change for change in changes if _section(change) == section]
        if not chosen:
            continue
        out += [f"### {section}", ""]
        for change in chosen:
            mark = "**Breaking:** " if change.bump is Bump.MAJOR else ""
            out.append(f"- {mark}`{change.subject}`: {change.what} ({change.bump}; {VIEWS[change.view]})")
        out.append("")
    return "\n".join(out)
