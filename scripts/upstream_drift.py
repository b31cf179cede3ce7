"""Compare our send (or read) operation with the upstream OpenAPI document and list every difference.

    python -m scripts.upstream_drift                       # against upstream's v2 and v3 excerpts (spec/upstream/)
    python -m scripts.upstream_drift PATH_OR_URL ...       # any upstream documents, JSON or YAML
    python -m scripts.upstream_drift --suggest-known       # also print YAML entries for new differences
    python -m scripts.upstream_drift --operation read      # GET /invoices/{invoiceId} against get-invoice

Both documents are reduced to the facts a client depends on: which fields exist where, their JSON
types, enum values (and whether the enum is open), which are required, which statuses, media types
and headers are documented, and the scopes the operation needs. Descriptions, examples and schema
names are ignored: upstream renames its DTOs freely and that breaks nobody.

Our spec differs from upstream on purpose in places (see its descriptions). Those differences are
listed with a reason in `contract_tests/upstream_known_differences.yaml` (the read's in
`upstream_known_differences_read.yaml`); the command exits 1 only on
differences not listed there, so a new upstream change cannot hide among the intended ones. A listed
difference matches only when both recorded sides are unchanged: if upstream moves again, it is new.
Every entry applies to every document compared; one is stale only when no document shows it.

Exit status: 0 no new differences, 1 new differences, 2 a document could not be read or compared.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

from scripts.project import ROOT, SPEC_DIR, SPEC_PATH

# Vendored (with provenance, see spec/upstream/README.md) so the check needs nothing outside the repo.
# Upstream publishes the send call twice: in its v2 document (`Version: 2021-07-28`, the one our spec
# follows) and in apps/v3/invoices-v3.json (`Version: v3`); both are watched.
UPSTREAM_DIR = SPEC_DIR / "upstream"
UPSTREAM_DEFAULT = UPSTREAM_DIR / "send-invoice.openapi.json"
UPSTREAM_V3 = UPSTREAM_DIR / "send-invoice-v3.openapi.json"
UPSTREAM_DOCUMENTS = (UPSTREAM_DEFAULT, UPSTREAM_V3)
KNOWN_PATH = ROOT / "contract_tests" / "upstream_known_differences.yaml"


@dataclass(frozen=True)
class Operation:
    """One of our operations, upstream's vendored excerpts of it, and its known differences."""

    path: str
    method: str
    operation_id: str
    upstreams: tuple[Path, ...]
    known: Path

    @property
    def title(self) -> str:
        return f"{self.method.upper()} {self.path}"


SEND = Operation("/invoices/{invoiceId}/send", "post", "send-invoice", UPSTREAM_DOCUMENTS, KNOWN_PATH)
READ = Operation(
    "/invoices/{invoiceId}",
    "get",
    "get-invoice",
    (UPSTREAM_DIR / "get-invoice.openapi.json",),
    ROOT / "contract_tests" / "upstream_known_differences_read.yaml",
)
OPERATIONS = {"send": SEND, "read": READ}
# Deeper nesting than this only happens through a recursive schema; the send operation has none.
_MAX_DEPTH = 12


class DriftError(Exception):
    """A document cannot be read, or does not describe the send operation."""


@dataclass(frozen=True)
class Node:
    """What a client can rely on at one place of a schema."""

    types: frozenset[str]  # JSON types; empty means any
    enum: frozenset[str] | None  # rendered values; None when any value of `types` is allowed
    open_enum: bool  # some branch accepts any value of the type besides the enum
    required: bool
    has_children: bool  # declares properties (object) or items (array)


@dataclass(frozen=True, order=True)
class Difference:
    where: str
    aspect: str
    upstream: str
    ours: str

    def line(self) -> str:
        return f"{self.where}: {self.aspect}: upstream {self.upstream}; ours {self.ours}"


@dataclass(frozen=True)
class KnownDifference:
    difference: Difference
    reason: str


@dataclass(frozen=True)
class Report:
    new: list[Difference]
    known: list[KnownDifference]
    stale: list[KnownDifference]  # listed as known, no longer found


# --- loading -------------------------------------------------------------------------------------


def load_document(source: str) -> dict[str, Any]:
    """Read an OpenAPI document (JSON or YAML) from a path or an http(s) URL."""
    if source.startswith(("http://", "https://")):
        try:
            response = httpx.get(source, follow_redirects=True, timeout=30)
            response.raise_for_status()
        except httpx.HTTPError as exc:
            raise DriftError(f"cannot fetch {source}: {exc}") from exc
        text = response.text
    else:
        try:
            text = Path(source).read_text(encoding="utf-8")
        except OSError as exc:
            raise DriftError(f"cannot read {source}: {exc}") from exc
    try:
        document = yaml.safe_load(text)  # JSON is YAML
    except yaml.YAMLError as exc:
        raise DriftError(f"{source} is neither JSON nor YAML: {exc}") from exc
    if not isinstance(document, dict) or not isinstance(document.get("paths"), dict):
        raise DriftError(f"{source} is not an OpenAPI document (no `paths` mapping)")
    return document


def _resolve(document: Mapping[str, Any], node: Any, seen: frozenset[str] = frozenset()) -> Any:
    """Follow `$ref`s (local ones only) until a node without one."""
    while isinstance(node, Mapping) and "$ref" in node:
        ref = node["$ref"]
        if not isinstance(ref, str) or not ref.startswith("#/"):
            raise DriftError(f"only local $refs are supported, got {ref!r}")
        if ref in seen:
            raise DriftError(f"circular $ref {ref}")
        seen = seen | {ref}
        target: Any = document
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            if not isinstance(target, Mapping) or part not in target:
                raise DriftError(f"$ref {ref} points nowhere")
            target = target[part]
        # Sibling keywords of a $ref (3.1 allows them) only add descriptions here; the target rules.
        node = target
    return node


def find_operation(document: Mapping[str, Any], wanted: Operation = SEND) -> dict[str, Any]:
    """The operation: by path and method, else by operationId (upstream may rename the param)."""

    def shape(path: str) -> str:
        parts = path.strip("/").split("/")
        return "/".join("{}" if p.startswith("{") and p.endswith("}") else p for p in parts)

    candidates: list[dict[str, Any]] = []
    for path, item in document["paths"].items():
        item = _resolve(document, item)
        if not isinstance(item, Mapping):
            continue
        operation = item.get(wanted.method)
        if not isinstance(operation, Mapping):
            continue
        if shape(path) == shape(wanted.path):
            return dict(operation)
        if operation.get("operationId") == wanted.operation_id:
            candidates.append(dict(operation))
    if len(candidates) == 1:
        return candidates[0]
    raise DriftError(f"no {wanted.title} (operationId {wanted.operation_id}) in the document")


# --- reduction to facts --------------------------------------------------------------------------


def _render(value: Any) -> str:
    return value if isinstance(value, str) else yaml.safe_dump(value, default_flow_style=True).strip()


@dataclass
class _Acc:
    types: set[str]
    enum: set[str] | None
    open_enum: bool
    any_type: bool
    properties: dict[str, list[Any]]
    required: set[str]
    items: list[Any]


def _collect(document: Mapping[str, Any], schema: Any, acc: _Acc, depth: int) -> None:
    """Merge one schema into `acc`; anyOf/oneOf/allOf branches all add what they allow."""
    schema = _resolve(document, schema)
    if schema is True or schema == {}:
        acc.any_type = True
        return
    if not isinstance(schema, Mapping):
        return
    branches = [b for key in ("anyOf", "oneOf", "allOf") for b in schema.get(key, [])]
    declared = schema.get("type")
    types = {declared} if isinstance(declared, str) else set(declared or [])
    if schema.get("nullable") is True:
        types.add("null")
    acc.types |= types
    if "enum" in schema or "const" in schema:
        values = schema["enum"] if "enum" in schema else [schema["const"]]
        acc.enum = (acc.enum or set()) | {_render(v) for v in values}
        acc.types |= {_json_type(v) for v in values} if not types else set()
    elif types:
        # A plain typed branch beside an enum branch (anyOf [enum, string]) makes the enum open.
        acc.open_enum = True
    elif not branches and not any(k in schema for k in ("properties", "items")):
        acc.any_type = True
    for name, sub in (schema.get("properties") or {}).items():
        acc.properties.setdefault(name, []).append(sub)
    acc.required |= set(schema.get("required") or [])
    if "items" in schema:
        acc.items.append(schema["items"])
    if depth < _MAX_DEPTH:
        for branch in branches:
            _collect(document, branch, acc, depth + 1)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def flatten_schema(
    document: Mapping[str, Any], schemas: Sequence[Any], *, required: bool, path: str = "", depth: int = 0
) -> Iterator[tuple[str, Node]]:
    """Yield (dotted path, facts) for a schema and everything below it; `[]` marks array items."""
    acc = _Acc(set(), None, False, False, {}, set(), [])
    for schema in schemas:
        _collect(document, schema, acc, depth)
    if acc.properties:
        acc.types.add("object")
    if acc.items:
        acc.types.add("array")
    enum = frozenset(acc.enum) if acc.enum is not None else None
    types = frozenset() if acc.any_type and not acc.enum else frozenset(acc.types)
    node = Node(types, enum, enum is not None and acc.open_enum, required, bool(acc.properties or acc.items))
    yield path, node
    if depth >= _MAX_DEPTH:
        return
    for name, subs in acc.properties.items():
        child = f"{path}.{name}" if path else name
        yield from flatten_schema(document, subs, required=name in acc.required, path=child, depth=depth + 1)
    if acc.items:
        yield from flatten_schema(document, acc.items, required=False, path=f"{path}[]", depth=depth + 1)


@dataclass(frozen=True)
class OperationFacts:
    fields: dict[str, Node]  # "where" -> facts, where is e.g. "request body: altType"
    statuses: frozenset[str]
    media_types: dict[str, frozenset[str]]  # "request body" / "response 200" -> media types
    headers: dict[str, frozenset[str]]  # "response 200" -> header names
    scopes: frozenset[frozenset[str]]


def _json_media(content: Mapping[str, Any]) -> Any:
    for media, spec in content.items():
        if "json" in media and isinstance(spec, Mapping):
            return spec.get("schema", {})
    return None


def operation_facts(document: Mapping[str, Any], wanted: Operation = SEND) -> OperationFacts:
    operation = find_operation(document, wanted)
    fields: dict[str, Node] = {}
    media_types: dict[str, frozenset[str]] = {}
    headers: dict[str, frozenset[str]] = {}

    for parameter in operation.get("parameters", []):
        parameter = _resolve(document, parameter)
        where = f"{parameter.get('in')} parameter {parameter.get('name')}"
        schema = parameter.get("schema", {})
        for _, node in flatten_schema(document, [schema], required=bool(parameter.get("required"))):
            fields[where] = node
            break

    body = _resolve(document, operation.get("requestBody"))
    if isinstance(body, Mapping):
        content = body.get("content", {})
        media_types["request body"] = frozenset(content)
        schema = _json_media(content)
        if schema is not None:
            for path, node in flatten_schema(document, [schema], required=bool(body.get("required"))):
                fields[f"request body: {path}" if path else "request body"] = node

    statuses: set[str] = set()
    for status, response in (operation.get("responses") or {}).items():
        status = str(status)
        statuses.add(status)
        response = _resolve(document, response)
        content = response.get("content", {}) if isinstance(response, Mapping) else {}
        media_types[f"response {status}"] = frozenset(content)
        headers[f"response {status}"] = frozenset(str(h).lower() for h in (response.get("headers") or {}))
        schema = _json_media(content)
        if schema is not None:
            for path, node in flatten_schema(document, [schema], required=True):
                fields[f"response {status} body: {path}" if path else f"response {status} body"] = node

    security = operation.get("security", document.get("security", []))
    scopes = frozenset(frozenset(s for scopes in req.values() for s in scopes) for req in security)
    return OperationFacts(fields, frozenset(statuses), media_types, headers, scopes)


# --- comparison ----------------------------------------------------------------------------------


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


# --- known differences ---------------------------------------------------------------------------


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


def suggest(differences: Sequence[Difference]) -> str:
    entries = [
        {"where": d.where, "aspect": d.aspect, "upstream": d.upstream, "ours": d.ours, "reason": "TODO: why we differ"}
        for d in differences
    ]
    return yaml.safe_dump(entries, sort_keys=False, width=120, allow_unicode=True)


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


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "upstream",
        nargs="*",
        help="upstream documents (paths or URLs; default: the operation's vendored excerpts, v2 and v3 for the send)",
    )
    parser.add_argument("--operation", choices=sorted(OPERATIONS), default="send", help="which call (default send)")
    parser.add_argument("--spec", type=Path, default=SPEC_PATH, help="our spec (default: spec/openapi.yaml)")
    parser.add_argument("--known", type=Path, help="known and intended differences (YAML; default: the operation's)")
    parser.add_argument(
        "--suggest-known", action="store_true", help="print YAML entries for the new differences, to fill in"
    )
    args = parser.parse_args(argv)
    operation = OPERATIONS[args.operation]
    upstreams = args.upstream or [str(path) for path in operation.upstreams]
    known = args.known or operation.known
    try:
        reports, stale = run_all(upstreams, spec=args.spec, known=known, operation=operation)
    except DriftError as exc:
        print(f"upstream-drift: {exc}", file=sys.stderr)
        return 2
    for index, (report, upstream) in enumerate(zip(reports, upstreams, strict=True)):
        shown = upstream if "://" in upstream else _shown(Path(upstream))
        text = render(report, ours=_shown(args.spec), upstream=shown, stale=False, operation=operation)
        print(("\n" if index else "") + text)
    if stale:
        print("\n" + render_stale(stale))
    new = sorted({d for report in reports for d in report.new})
    if args.suggest_known and new:
        print("\n# Entries for " + str(known) + " (fill in each reason):")
        print(suggest(new))
    return 1 if new else 0


if __name__ == "__main__":
    sys.exit(main())
