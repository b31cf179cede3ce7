"""Hypothesis strategies for spec-valid (and spec-breaking) request and response bodies.

hypothesis-jsonschema is broken with the hypothesis we pin, so everything comes from schemathesis's
own generator (`APIOperation.as_strategy()`). Schemathesis only generates requests; to draw response
bodies we build a scratch document whose operations take each response schema as their request
body, sharing the spec's `components` so every `$ref` resolves exactly as in the spec.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

import schemathesis
from hypothesis import strategies as st
from schemathesis import GenerationMode

from scripts.sandbox import SEND_PATH, SPEC_DIR, SPEC_PATH, load_spec

INVOICE_STATUSES = frozenset({"draft", "sent", "payment_processing", "paid", "void", "partially_paid"})


def response_schemas(spec: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    """Status -> JSON schema of the send operation's response body, `$ref`s kept."""
    spec = spec if spec is not None else load_spec()
    responses = spec["paths"][SEND_PATH]["post"]["responses"]
    result: dict[str, dict[str, Any]] = {}
    for status, response in responses.items():
        if "$ref" in response:
            response = spec["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
        result[str(status)] = response["content"]["application/json"]["schema"]
    return result


@cache
def _responses_as_requests(path: Path) -> Any:
    spec = load_spec(path)
    paths = {
        f"/response/{status}": {
            "post": {
                "requestBody": {"required": True, "content": {"application/json": {"schema": copy.deepcopy(schema)}}},
                "responses": {"200": {"description": "unused"}},
            }
        }
        for status, schema in response_schemas(spec).items()
    }
    document = {
        "openapi": spec["openapi"],
        "info": {"title": "Response bodies of the send operation, as request bodies", "version": "1"},
        "paths": paths,
        "components": copy.deepcopy(spec["components"]),
    }
    return schemathesis.openapi.from_dict(document)


def response_bodies(status: str, *, valid: bool = True, spec_path: Path = SPEC_PATH) -> st.SearchStrategy[Any]:
    """Bodies the spec allows (or, with `valid=False`, forbids) for the send operation's `status`."""
    operation = _responses_as_requests(spec_path)[f"/response/{status}"]["POST"]
    mode = GenerationMode.POSITIVE if valid else GenerationMode.NEGATIVE
    cases: st.SearchStrategy[Any] = operation.as_strategy(generation_mode=mode)
    return cases.map(lambda case: case.body)


def request_bodies(*, spec_path: Path = SPEC_PATH) -> st.SearchStrategy[Any]:
    """Spec-valid bodies of the send operation's request."""
    operation = schemathesis.openapi.from_path(spec_path)[SEND_PATH]["POST"]
    cases: st.SearchStrategy[Any] = operation.as_strategy(generation_mode=GenerationMode.POSITIVE)
    return cases.map(lambda case: case.body)


# Names the spec never uses, so an extra key is always unknown to the models.
unknown_keys = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=12).map(lambda s: f"x_{s}")
json_scalars = st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=20)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
unknown_statuses = st.text(min_size=1, max_size=20).filter(lambda s: s not in INVOICE_STATUSES)


@st.composite
def with_unknown_properties(draw: st.DrawFn, body: Any) -> Any:
    """`body` with unknown keys added to some of its objects, at any depth."""
    if isinstance(body, list):
        return [draw(with_unknown_properties(item)) for item in body]
    if not isinstance(body, dict):
        return body
    result = {key: draw(with_unknown_properties(value)) for key, value in body.items()}
    if draw(st.booleans()):
        for key, value in draw(st.dictionaries(unknown_keys, json_values, min_size=1, max_size=2)).items():
            result.setdefault(key, value)
    return result


# --- answers valid under upstream's own schema -----------------------------------------------------

UPSTREAM_SEND = SPEC_DIR / "upstream" / "send-invoice.openapi.json"


def from_json_schema(schema: dict[str, Any], components: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values valid under `schema`, for the subset of JSON Schema upstream's excerpt uses.

    Written here because hypothesis-jsonschema is broken with our hypothesis, and because an untyped
    `{type: object}` must yield objects whose values can be anything (schemathesis keeps them small).
    Typed objects get each optional property or not; every object may carry unknown keys.
    """
    if "$ref" in schema:
        return st.deferred(lambda: from_json_schema(components[schema["$ref"].rsplit("/", 1)[1]], components))
    if "allOf" in schema:
        [only] = schema["allOf"]  # upstream uses allOf only to attach a description to a $ref
        return from_json_schema(only, components)
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kind = schema.get("type")
    if kind == "string":
        return st.text(max_size=12)
    if kind == "number":
        return st.integers(-(10**6), 10**6) | st.floats(allow_nan=False, allow_infinity=False, width=32)
    if kind == "integer":
        return st.integers(-(10**6), 10**6)
    if kind == "boolean":
        return st.booleans()
    if kind == "array":
        return st.lists(from_json_schema(schema.get("items", {}), components), max_size=3)
    if kind == "object" and "properties" in schema:
        required = set(schema.get("required", []))
        fixed = {k: from_json_schema(v, components) for k, v in schema["properties"].items() if k in required}
        optional = {k: from_json_schema(v, components) for k, v in schema["properties"].items() if k not in required}
        extra = st.dictionaries(unknown_keys, json_values, max_size=2)
        return st.tuples(st.fixed_dictionaries(fixed, optional=optional), extra).map(lambda pair: extra_first(*pair))
    if kind == "object":
        return st.dictionaries(_spec_property_names() | st.text(max_size=10), json_values, max_size=4)
    return json_values  # no type: anything


def _spec_property_names() -> st.SearchStrategy[str]:
    """Keys our spec names, so that untyped objects also hold odd values where our models look."""
    names = {name for schema in load_spec()["components"]["schemas"].values() for name in schema.get("properties", {})}
    return st.sampled_from(sorted(names))


def extra_first(declared: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    return {**extra, **declared}


@cache
def _upstream_send() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(UPSTREAM_SEND.read_text(encoding="utf-8"))
    return document


def upstream_answers() -> st.SearchStrategy[dict[str, Any]]:
    """200 bodies valid under upstream's own send schema, as vendored: line items typed as strings,
    untyped business/contact/discount objects, `invoiceNumber` a number, `invoice._id` and `status`
    strings (upstream's types; `status` one of its six values)."""
    document = _upstream_send()
    schema = document["paths"][SEND_PATH]["post"]["responses"]["200"]["content"]["application/json"]["schema"]
    return from_json_schema(schema, document["components"]["schemas"])
