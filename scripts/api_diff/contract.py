"""The HTTP-contract view: `redocly diff` of the two specs, each change rated by our rules.

Redocly (pinned in package.json) finds the changes and rates them for a strict client; we keep its
findings (what changed, where, in a request or an answer) and rate them again by `rules.py`, naming
each by what a user's code touches: the generator's own naming (openapi-python-client's
`ClassName`, `PythonIdentifier`, its enum member rule) turns `#/components/schemas/SendInvoiceRequest
/properties/sentFrom` into `SendInvoiceRequest.sent_from`.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from openapi_python_client.strings import ClassName, PythonIdentifier, snake_case

from scripts.api_diff.changes import Bump, Change
from scripts.api_diff.rules import RULES
from scripts.project import ROOT

REDOCLY = ROOT / "node_modules" / ".bin" / "redocly"
DOCUMENTATION = frozenset({"description", "summary", "title", "example", "examples", "externalDocs", "version"})
METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})
# Sections of `components` from which nothing is generated until an operation uses them (schemas are
# not among them: every schema becomes a model class).
DEFINITIONS = {
    "headers": "header",
    "responses": "answer",
    "parameters": "parameter",
    "requestBodies": "request body",
    "examples": "example",
    "links": "link",
    "callbacks": "callback",
}
# No telemetry and no update check: the diff runs offline.
QUIET = {"REDOCLY_TELEMETRY": "off", "REDOCLY_SUPPRESS_UPDATE_NOTICE": "true"}


class ContractError(RuntimeError):
    """Redocly could not compare the two specs (the message says why)."""


def redocly_diff(base: Path, new: Path, *, redocly: Path = REDOCLY) -> dict[str, Any]:
    """Redocly's JSON report of the changes from `base` to `new`."""
    if not redocly.exists():
        raise ContractError(f"{redocly} is missing: run `npm ci` (the api-diff session does)")
    with tempfile.TemporaryDirectory(prefix="api-diff-") as scratch:
        output = Path(scratch, "diff.json")
        # --fail-on none: the rating is ours; a non-zero exit then means Redocly itself failed.
        result = subprocess.run(
            [str(redocly), "diff", str(base), str(new), "--format=json", f"--output={output}", "--fail-on=none"],
            capture_output=True,
            text=True,
            env={**os.environ, **QUIET},
            check=False,
        )
        if result.returncode != 0 or not output.is_file():
            detail = (result.stderr.strip() or result.stdout.strip()).splitlines()[-5:]
            raise ContractError("redocly diff failed: " + " / ".join(detail))
        report: dict[str, Any] = json.loads(output.read_text(encoding="utf-8"))
    return report


def rate(report: Mapping[str, Any], base: Mapping[str, Any], new: Mapping[str, Any]) -> list[Change]:
    """Every change of Redocly's report, rated by our rules (shared schemas once per place seen)."""
    return [change for entry in report.get("changes", []) for change in _rate_one(entry, base, new)]


def _segments(pointer: str) -> list[str]:
    return [part.replace("~1", "/").replace("~0", "~") for part in pointer.lstrip("#").split("/") if part]


def _pointer(segments: Sequence[str]) -> str:
    return "#/" + "/".join(part.replace("~", "~0").replace("/", "~1") for part in segments)


def _resolve(document: Mapping[str, Any], segments: Sequence[str]) -> Any:
    node: Any = document
    for part in segments:
        if isinstance(node, Mapping) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node


def _rule(rule_id: str, *, in_request: bool, subject: str, what: str, redocly: Bump = Bump.MAJOR) -> Change:
    rule = RULES[rule_id]
    rating = rule.request if in_request else rule.answer
    return Change(redocly if rating is None else rating, subject, what, rule_id)


def operation_module(document: Mapping[str, Any], path: str, method: str) -> str:
    """`api.invoices.send_invoice`: where the generator puts an operation (its first tag's folder)."""
    operation = _resolve(document, ["paths", path, method]) or {}
    tags = operation.get("tags") or ["default"]
    name = operation.get("operationId") or f"{method}_{path}"
    return f"api.{snake_case(tags[0])}.{PythonIdentifier(name, prefix='')}"


def _schema_subject(document: Mapping[str, Any], segments: Sequence[str]) -> str:
    """The class (and attribute) a schema pointer names: `SendInvoiceRequest.sent_from`, `ApiVersion`."""
    subject, rest = "", list(segments)
    if rest[:2] == ["components", "schemas"] and len(rest) > 2:
        subject, rest = str(ClassName(rest[2], "")), rest[3:]
    else:
        # An inline schema (a parameter's): the generator names it by its title when it has one.
        for end in range(len(rest), 0, -1):
            node = _resolve(document, rest[:end])
            if isinstance(node, Mapping) and node.get("title") and "schema" in rest[:end]:
                subject, rest = str(ClassName(node["title"], "")), rest[end:]
                break
        else:
            return _pointer(segments)
    attribute = ""
    while len(rest) >= 2:
        if rest[0] == "properties":
            if attribute:  # an inline object: the generator names its class after the path to it
                subject = str(ClassName(f"{subject}_{attribute}", ""))
            attribute = str(PythonIdentifier(rest[1], prefix=""))
            rest = rest[2:]
        else:
            rest = rest[1:]
    return f"{subject}.{attribute}" if attribute else subject


def enum_members(schema: Mapping[str, Any], values: Sequence[Any]) -> list[str]:
    """The generator's enum member names for `values` of `schema` (its rule: `x-enum-varnames` when
    it names every value, else the value upper-cased, else VALUE_<index>)."""
    every = list(schema.get("enum") or [])
    names = list(schema.get("x-enum-varnames") or [])
    use_names = len(names) == len(every)
    members = []
    for value in values:
        index = every.index(value) if value in every else 0
        if use_names and value in every:
            key = str(names[index])
        elif isinstance(value, str) and value[:1].isalpha():
            key = value.upper()
        else:
            key = f"VALUE_{index}"
        members.append(snake_case(key).upper())
    return members


def _enum_changes(
    segments: Sequence[str], base: Mapping[str, Any], new: Mapping[str, Any], *, in_request: bool
) -> Iterator[Change]:
    """Members added, removed, or renamed (the same value under another Python name: the generator
    names every member by its value once `x-enum-varnames` no longer names them all)."""
    old_schema, new_schema = _resolve(base, segments) or {}, _resolve(new, segments) or {}
    old_values, new_values = list(old_schema.get("enum") or []), list(new_schema.get("enum") or [])
    enum_class = _schema_subject(new, segments)
    old_members = dict(zip(old_values, enum_members(old_schema, old_values), strict=True))
    new_members = dict(zip(new_values, enum_members(new_schema, new_values), strict=True))
    for value, member in new_members.items():
        if value not in old_members:
            yield _rule("enum-value-added", in_request=in_request, subject=f"{enum_class}.{member}", what="added")
        elif old_members[value] != member:
            what = f"renamed to {enum_class}.{member}"
            yield _rule("name-changed", in_request=in_request, subject=f"{enum_class}.{old_members[value]}", what=what)
    for value, member in old_members.items():
        if value not in new_members:
            yield _rule("enum-value-removed", in_request=in_request, subject=f"{enum_class}.{member}", what="removed")


def _types(value: Any) -> frozenset[str]:
    if isinstance(value, str):
        return frozenset({value})
    return frozenset(str(item) for item in value or ())


def _rate_one(entry: Mapping[str, Any], base: Mapping[str, Any], new: Mapping[str, Any]) -> Iterator[Change]:
    kind, prop = entry.get("kind"), entry.get("property")
    where = _segments(entry.get("path", ""))
    in_request = "requestBody" in where or "parameters" in where
    side = entry.get("revision") if kind == "added" else entry.get("base")
    side = side or entry.get("revision") or entry.get("base") or {}
    segments = _segments(side.get("pointer", entry.get("path", "")))
    document = new if kind == "added" else base
    redocly = Bump[str(entry.get("impact", "major")).upper()]
    if _answer_header(where) is not None:
        yield from _answer_header_changes(entry, where, base, new, redocly=redocly)
        return
    # Only a definition: each operation that starts or stops using it is a change of its own.
    definition = len(segments) == 3 and segments[0] == "components" and segments[1] in DEFINITIONS
    if kind in {"added", "removed"} and definition and where[:1] != ["paths"]:
        subject = f"{DEFINITIONS[segments[1]]} definition {segments[2]}"
        yield _rule("definition-only", in_request=False, subject=subject, what=str(kind))
        return
    if kind == "modified" and prop in DOCUMENTATION:
        parent = segments[:-1] if segments and segments[-1] == prop else segments
        subject = _subject(document, parent, where)
        yield _rule("documentation", in_request=in_request, subject=subject, what=f"{prop} changed")
        return
    if kind == "modified" and prop == "key" and segments[:1] == ["paths"] and len(segments) == 2:
        yield from _path_renamed(_segments(entry.get("base", {}).get("pointer", "")), segments_new(entry), base, new)
        return
    if kind == "modified" and prop == "key":  # Redocly's match of a property renamed
        old_subject = _schema_subject(base, _segments(entry.get("base", {}).get("pointer", "")))
        new_subject = _schema_subject(new, _segments(entry.get("revision", {}).get("pointer", "")))
        if old_subject == new_subject:  # userId -> userID: the same Python name
            old_key, new_key = entry.get("base", {}).get("value"), entry.get("revision", {}).get("value")
            what = f"JSON name {old_key} -> {new_key}"
            yield _rule("wire-name-changed", in_request=in_request, subject=new_subject, what=what)
        else:
            what = f"renamed to {new_subject.rsplit('.', 1)[-1]}"
            yield _rule("field-renamed", in_request=in_request, subject=old_subject, what=what)
        return
    if kind == "modified" and prop == "required":
        yield from _required(entry, segments, base, new, in_request=in_request, where=where)
        return
    if kind == "modified" and prop in {"enum", "x-enum-varnames"}:
        schema_segments = segments[:-1] if segments and segments[-1] == prop else segments
        yield from _enum_changes(schema_segments, base, new, in_request=in_request)
        return
    if kind == "modified" and prop == "type":
        old_types, new_types = (
            _types(entry.get("base", {}).get("value")),
            _types(entry.get("revision", {}).get("value")),
        )
        rule_id = (
            "type-widened" if new_types > old_types else "type-narrowed" if new_types < old_types else "type-changed"
        )
        subject = _schema_subject(new, segments[:-1] if segments[-1:] == ["type"] else segments)
        what = f"type {' | '.join(sorted(old_types))} -> {' | '.join(sorted(new_types))}"
        yield _rule(rule_id, in_request=in_request, subject=subject, what=what)
        return
    if kind in {"added", "removed"}:
        change = _added_or_removed(kind, segments, where, document, in_request=in_request)
        if change is not None:
            yield change
            return
    subject = _subject(document, segments, where)
    messages = "; ".join(verdict.get("message", "") for verdict in entry.get("verdicts", [])) or f"{kind} {prop or ''}"
    yield _rule("other", in_request=in_request, subject=subject, what=messages.strip(), redocly=redocly)


def _answer_header(where: Sequence[str]) -> tuple[str, str, str, str | None] | None:
    """(path, method, status, header name or None for the whole map) when Redocly saw the change in
    an answer's headers: `paths/{path}/{method}/responses/{status}/headers[/{name}]`."""
    if len(where) >= 6 and where[0] == "paths" and where[3] == "responses" and where[5] == "headers":
        return where[1], where[2], where[4], where[6] if len(where) > 6 else None
    return None


def _answer_header_changes(
    entry: Mapping[str, Any], where: Sequence[str], base: Mapping[str, Any], new: Mapping[str, Any], *, redocly: Bump
) -> Iterator[Change]:
    """An answer's header documented, made required, made optional or dropped: the answer-header rules
    (a header's `required` is not a parameter's, and a header map added or removed is its headers)."""
    path, method, status, name = _answer_header(where) or ("", "", "", None)
    kind, prop = entry.get("kind"), entry.get("property")
    document = base if kind == "removed" else new
    module = operation_module(document, path, method).rsplit(".", 1)[-1]
    headers = ["paths", path, method, "responses", status, "headers"]
    names = [name] if name is not None else sorted(_resolve_refs(document, headers) or {})
    for header in names:
        subject = f"{module} {status} answer header {header}"
        required = (_resolve_refs(document, [*headers, header]) or {}).get("required") is True
        if kind == "added":
            what = "added, required" if required else "added"
            yield _rule("answer-header-added", in_request=False, subject=subject, what=what)
        elif kind == "removed":
            yield _rule("answer-header-removed", in_request=False, subject=subject, what="removed")
        elif prop == "required":
            now = entry.get("revision", {}).get("value") is True
            rule_id = "answer-header-added" if now else "answer-header-removed"
            yield _rule(rule_id, in_request=False, subject=subject, what="now required" if now else "now optional")
        elif prop in DOCUMENTATION:
            yield _rule("documentation", in_request=False, subject=subject, what=f"{prop} changed")
        else:
            what = "; ".join(v.get("message", "") for v in entry.get("verdicts", [])) or f"{kind} {prop or ''}"
            yield _rule("other", in_request=False, subject=subject, what=what.strip(), redocly=redocly)


def _resolve_refs(document: Mapping[str, Any], segments: Sequence[str]) -> Any:
    """`_resolve`, following each local `$ref` on the way (an answer and its headers are often shared)."""
    node = _dereferenced(document, document)
    for part in segments:
        if not (isinstance(node, Mapping) and part in node):
            return None
        node = _dereferenced(document, node[part])
    return node


def _dereferenced(document: Mapping[str, Any], node: Any) -> Any:
    for _ in range(8):  # a chain of references, not a cycle
        reference = node.get("$ref") if isinstance(node, Mapping) else None
        if not (isinstance(reference, str) and reference.startswith("#/")):
            return node
        node = _resolve(document, _segments(reference))
    return node


def segments_new(entry: Mapping[str, Any]) -> list[str]:
    return _segments(entry.get("revision", {}).get("pointer", ""))


def _path_renamed(
    old: Sequence[str], new_segments: Sequence[str], base: Mapping[str, Any], new: Mapping[str, Any]
) -> Iterator[Change]:
    """A path Redocly matched with a new one: the same operation at another URL, or one operation
    removed and another added."""
    old_ops = {operation_module(base, old[1], m): m for m in (_resolve(base, old) or {}) if m in METHODS}
    new_ops = {
        operation_module(new, new_segments[1], m): m for m in (_resolve(new, new_segments) or {}) if m in METHODS
    }
    for module in sorted(old_ops.keys() & new_ops.keys()):
        what = f"path {old[1]} -> {new_segments[1]}"
        yield _rule("wire-name-changed", in_request=True, subject=module, what=what)
    for module in sorted(old_ops.keys() - new_ops.keys()):
        yield _rule("operation-removed", in_request=True, subject=module, what="removed")
    for module in sorted(new_ops.keys() - old_ops.keys()):
        yield _rule("operation-added", in_request=True, subject=module, what="added")


def _subject(document: Mapping[str, Any], segments: Sequence[str], where: Sequence[str]) -> str:
    if segments[:1] == ["components"]:
        return _schema_subject(document, segments)
    if segments[:1] == ["paths"] and len(segments) >= 3 and segments[2] in METHODS:
        module = operation_module(document, segments[1], segments[2]).rsplit(".", 1)[-1]
        rest = segments[3:]
        if "schema" in rest:
            return _schema_subject(document, segments)
        return module + ("" if not rest else " " + "/".join(rest))
    if segments[:1] == ["info"]:
        return "info"
    return _pointer(segments) if segments else _pointer(where)


def _required(
    entry: Mapping[str, Any],
    segments: Sequence[str],
    base: Mapping[str, Any],
    new: Mapping[str, Any],
    *,
    in_request: bool,
    where: Sequence[str],
) -> Iterator[Change]:
    old_value, new_value = entry.get("base", {}).get("value"), entry.get("revision", {}).get("value")
    parent = list(segments[:-1] if segments[-1:] == ["required"] else segments)
    if isinstance(new_value, bool) or isinstance(old_value, bool):  # a parameter's `required`
        subject = _parameter_subject(new, parent, where)
        if new_value:
            yield _rule("required-parameter-added", in_request=True, subject=subject, what="now required")
        else:
            yield _rule("parameter-added", in_request=True, subject=subject, what="now optional")
        return
    old_names, new_names = list(old_value or []), list(new_value or [])
    old_properties = (_resolve(base, parent) or {}).get("properties") or {}
    new_properties = (_resolve(new, parent) or {}).get("properties") or {}
    for name in new_names:
        if name not in old_names and name in old_properties:
            subject = _schema_subject(new, [*parent, "properties", name])
            yield _rule("field-now-required", in_request=in_request, subject=subject, what="now required")
    for name in old_names:
        if name not in new_names and name in new_properties:
            subject = _schema_subject(new, [*parent, "properties", name])
            yield _rule("field-now-optional", in_request=in_request, subject=subject, what="now optional")


def _parameter_subject(document: Mapping[str, Any], segments: Sequence[str], where: Sequence[str]) -> str:
    """`send_invoice(version)`: the operation (from where Redocly saw the change) and the argument."""
    parameter = _resolve(document, segments) or {}
    name = str(PythonIdentifier(str(parameter.get("name", segments[-1] if segments else "?")), prefix=""))
    if where[:1] == ["paths"] and len(where) >= 3:
        module = operation_module(document, where[1], where[2]).rsplit(".", 1)[-1]
        return f"{module}({name})"
    return name


def _added_or_removed(
    kind: str, segments: Sequence[str], where: Sequence[str], document: Mapping[str, Any], *, in_request: bool
) -> Change | None:
    verb = "added" if kind == "added" else "removed"
    if len(segments) >= 2 and segments[-2] == "properties":
        subject = _schema_subject(document, segments)
        if kind == "removed":
            return _rule("field-removed", in_request=in_request, subject=subject, what="removed")
        required = (_resolve(document, segments[:-2]) or {}).get("required") or []
        if segments[-1] in required:
            return _rule("required-field-added", in_request=in_request, subject=subject, what="added, required")
        return _rule("field-added", in_request=in_request, subject=subject, what="added")
    if segments[:1] == ["paths"] and len(segments) == 2:
        methods = sorted(method for method in (_resolve(document, segments) or {}) if method in METHODS)
        modules = ", ".join(operation_module(document, segments[1], method) for method in methods)
        return _rule(f"operation-{verb}", in_request=True, subject=modules or _pointer(segments), what=verb)
    if segments[:1] == ["paths"] and len(segments) == 3 and segments[2] in METHODS:
        subject = operation_module(document, segments[1], segments[2])
        return _rule(f"operation-{verb}", in_request=True, subject=subject, what=verb)
    if len(segments) >= 2 and segments[-2] == "responses" and where[:1] == ["paths"] and len(where) >= 3:
        module = operation_module(document, where[1], where[2]).rsplit(".", 1)[-1]
        what = f"status {segments[-1]} " + ("documented" if kind == "added" else "no longer documented")
        return _rule(f"status-{verb}", in_request=False, subject=module, what=what)
    parameter = _resolve(document, segments)
    if "parameters" in segments[-2:-1] or (isinstance(parameter, Mapping) and {"name", "in"} <= set(parameter)):
        subject = _parameter_subject(document, segments, where)
        if kind == "removed":
            return _rule("parameter-removed", in_request=True, subject=subject, what="removed")
        required = isinstance(parameter, Mapping) and parameter.get("required") is True
        rule_id = "required-parameter-added" if required else "parameter-added"
        return _rule(rule_id, in_request=True, subject=subject, what="added, required" if required else "added")
    return None
