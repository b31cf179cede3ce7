"""The facts a client depends on in one operation of a document: fields with their JSON types, enums
and whether they are required; documented statuses, media types and headers; the scopes it needs."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from scripts.upstream_drift.documents import find_operation, resolve
from scripts.upstream_drift.operations import SEND, Operation

# Deeper nesting than this only happens through a recursive schema; the send operation has none.
_MAX_DEPTH = 12


@dataclass(frozen=True)
class Node:
    """What a client can rely on at one place of a schema."""

    types: frozenset[str]  # JSON types; empty means any
    enum: frozenset[str] | None  # rendered values; None when any value of `types` is allowed
    open_enum: bool  # some branch accepts any value of the type besides the enum
    required: bool
    has_children: bool  # declares properties (object) or items (array)


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
    schema = resolve(document, schema)
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
        parameter = resolve(document, parameter)
        where = f"{parameter.get('in')} parameter {parameter.get('name')}"
        schema = parameter.get("schema", {})
        for _, node in flatten_schema(document, [schema], required=bool(parameter.get("required"))):
            fields[where] = node
            break

    body = resolve(document, operation.get("requestBody"))
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
        response = resolve(document, response)
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
