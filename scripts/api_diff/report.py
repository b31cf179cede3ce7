"""The report: one plain line per change for the terminal, and a Markdown changelog entry draft."""

from __future__ import annotations

from collections.abc import Sequence

from scripts.api_diff.changes import Bump, Change, bump_of, next_version

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
    """A changelog entry draft: Keep a Changelog sections, breaking changes marked, each change once
    (with the views that saw it), under the version the bump asks for when pyproject.toml's is short."""
    wanted = next_version(base_version, bump)
    heading = version if bump_of(base_version, version) >= bump else wanted
    out = [f"## [{heading}] - unreleased", ""]
    out += [f"Required bump: **{bump}** (from {base_version}, base {base_label}).", ""]
    if not changes:
        out += ["No change that users of the package can see.", ""]
    seen: dict[str, list[Change]] = {}
    for change in changes:
        seen.setdefault(change.line, []).append(change)
    for section in ("Removed", "Changed", "Added"):
        chosen = [group for group in seen.values() if _section(group[0]) == section]
        if not chosen:
            continue
        out += [f"### {section}", ""]
        for group in chosen:
            top = max(change.bump for change in group)
            mark = "**Breaking:** " if top is Bump.MAJOR else ""
            views = ", ".join(VIEWS[change.view] for change in group)
            out.append(f"- {mark}`{group[0].subject}`: {group[0].what} ({top}; {views})")
        out.append("")
    return "\n".join(out)
