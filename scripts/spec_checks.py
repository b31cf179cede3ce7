"""Checks the spec must pass before anything is generated from it.

The document must be valid OpenAPI 3.1 (openapi-spec-validator), and every example in it — named
`examples`, single `example`s and schema-level `examples` lists — must validate against the schema
it illustrates, with every `$ref` resolved against the document itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from openapi_schema_validator import OAS31Validator
from openapi_spec_validator import validate
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SPEC_URI = "urn:leadway:spec"
# Keys whose children are schemas, so an `examples` list there illustrates that schema.
_SUBSCHEMAS = {"schemas", "properties", "anyOf", "oneOf", "allOf"}


class SpecError(Exception):
    """The spec is invalid, or one of its examples breaks its schema."""


def load_spec(path: Path) -> dict[str, Any]:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise SpecError(f"cannot read {path}: {exc}") from exc
    if not isinstance(document, dict):
        raise SpecError(f"{path} is not an OpenAPI document (top level is not a mapping)")
    return document


def _pointer(parts: tuple[str | int, ...]) -> str:
    return "#/" + "/".join(str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def iter_examples(document: dict[str, Any]) -> Iterator[tuple[str, str, Any]]:
    """Yield (where, pointer of the schema, example value) for every example in the document."""

    def walk(node: Any, parts: tuple[str | int, ...]) -> Iterator[tuple[str, str, Any]]:
        if isinstance(node, list):
            for index, item in enumerate(node):
                yield from walk(item, (*parts, index))
            return
        if not isinstance(node, dict):
            return
        is_schema = bool(parts) and (parts[-1] in {"schema", "items"} or (len(parts) >= 2 and parts[-2] in _SUBSCHEMAS))
        has_schema = isinstance(node.get("schema"), dict)
        schema_pointer = _pointer((*parts, "schema"))
        if has_schema and "example" in node:
            yield _pointer((*parts, "example")), schema_pointer, node["example"]
        if has_schema and isinstance(node.get("examples"), dict):
            for name, example in node["examples"].items():
                if isinstance(example, dict) and "value" in example:
                    yield _pointer((*parts, "examples", name)), schema_pointer, example["value"]
        if is_schema and isinstance(node.get("examples"), list):
            for index, value in enumerate(node["examples"]):
                yield _pointer((*parts, "examples", index)), _pointer(parts), value
        for key, value in node.items():
            if key in {"example", "examples"}:
                continue
            yield from walk(value, (*parts, key))

    yield from walk(document, ())


def check_examples(document: dict[str, Any]) -> list[str]:
    """Return one message per example that breaks its schema (empty when all pass)."""
    registry: Registry[Any] = Registry().with_resource(
        SPEC_URI, Resource.from_contents(document, default_specification=DRAFT202012)
    )
    problems: list[str] = []
    count = 0
    for where, schema_pointer, value in iter_examples(document):
        count += 1
        validator = OAS31Validator({"$ref": SPEC_URI + schema_pointer}, registry=registry)
        errors = sorted(validator.iter_errors(value), key=lambda e: list(e.absolute_path))
        for error in errors:
            path = "/".join(str(p) for p in error.absolute_path) or "(root)"
            problems.append(f"example {where} breaks its schema at {path}: {error.message}")
    if count == 0:
        problems.append("the spec has no examples; expected at least the Leadway page's request and response")
    return problems


def check_spec(path: Path) -> None:
    """Raise SpecError naming every problem when the spec at `path` is not fit to generate from."""
    document = load_spec(path)
    try:
        validate(document)
    except OpenAPIValidationError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "(root)"
        raise SpecError(f"{path} is not valid OpenAPI at {where}: {exc.message}") from exc
    problems = check_examples(document)
    if problems:
        raise SpecError(f"{path} has examples that break their schemas:\n  " + "\n  ".join(problems))
