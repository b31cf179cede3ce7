"""Comparing our operation's facts with upstream's: one `Difference` per fact that is not the same."""

from __future__ import annotations

from dataclasses import dataclass

from scripts.upstream_drift.facts import Node, OperationFacts


@dataclass(frozen=True, order=True)
class Difference:
    where: str
    aspect: str
    upstream: str
    ours: str

    def line(self) -> str:
        return f"{self.where}: {self.aspect}: upstream {self.upstream}; ours {self.ours}"


def _set(values: frozenset[str] | set[str]) -> str:
    return "[" + ", ".join(sorted(values)) + "]" if values else "[]"


def _types(node: Node) -> str:
    return _set(node.types) if node.types else "any"


def _enum(node: Node) -> str:
    if node.enum is None:
        return "none (any value)"
    return ("open " if node.open_enum else "") + _set(node.enum)


def _parent(where: str) -> str | None:
    """The field containing `where` ("request body: a.b[]" -> "request body: a.b"), None at a root."""
    if ": " not in where:
        return None
    root, path = where.split(": ", 1)
    cut = max(path.rfind("."), path.rfind("[]") if path.endswith("[]") else -1)
    return f"{root}: {path[:cut]}" if cut > 0 else root


def compare(ours: OperationFacts, upstream: OperationFacts) -> list[Difference]:
    differences: list[Difference] = []
    add = differences.append

    for status in sorted(ours.statuses | upstream.statuses):
        if status not in upstream.statuses:
            add(Difference(f"response {status}", "status", "not documented", "documented"))
        elif status not in ours.statuses:
            add(Difference(f"response {status}", "status", "documented", "not documented"))

    for where in sorted(ours.media_types.keys() & upstream.media_types.keys()):
        if ours.media_types[where] != upstream.media_types[where]:
            add(Difference(where, "media types", _set(upstream.media_types[where]), _set(ours.media_types[where])))
    for where in sorted(ours.headers.keys() & upstream.headers.keys()):
        if ours.headers[where] != upstream.headers[where]:
            add(Difference(where, "headers", _set(upstream.headers[where]), _set(ours.headers[where])))

    if ours.scopes != upstream.scopes:
        add(
            Difference(
                "security",
                "scopes",
                " or ".join(_set(s) for s in sorted(upstream.scopes, key=sorted)),
                " or ".join(_set(s) for s in sorted(ours.scopes, key=sorted)),
            )
        )

    for where in sorted(ours.fields.keys() | upstream.fields.keys()):
        mine, theirs = ours.fields.get(where), upstream.fields.get(where)
        if mine is None or theirs is None:
            present = mine if mine is not None else theirs
            assert present is not None
            lacking = upstream.fields if theirs is None else ours.fields
            parent = _parent(where)
            # Report only the topmost missing field, and nothing below a field one side leaves
            # free-form: the parent's own line says it all. A whole response body one side lacks is
            # already a status or media-type line.
            if parent is None and where.startswith("response "):
                continue
            if parent is not None and (parent not in lacking or not lacking[parent].has_children):
                continue
            state = f"present ({'required' if present.required else 'optional'})"
            if theirs is None:
                add(Difference(where, "field", "absent", state))
            else:
                add(Difference(where, "field", state, "absent"))
            continue
        if mine.types != theirs.types:
            add(Difference(where, "type", _types(theirs), _types(mine)))
        if (mine.enum, mine.open_enum) != (theirs.enum, theirs.open_enum):
            add(Difference(where, "enum", _enum(theirs), _enum(mine)))
        if mine.required != theirs.required:
            add(
                Difference(
                    where,
                    "required",
                    "required" if theirs.required else "optional",
                    "required" if mine.required else "optional",
                )
            )
        shared = mine.types & theirs.types
        if mine.has_children != theirs.has_children and shared & {"object", "array"}:
            add(
                Difference(
                    where,
                    "properties",
                    "declared" if theirs.has_children else "none declared (free-form)",
                    "declared" if mine.has_children else "none declared (free-form)",
                )
            )
    return differences
