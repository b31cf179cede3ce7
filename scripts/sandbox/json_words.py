"""How the sandbox's answers quote a value and word a schema error: in JSON, the language of the
request it answers.

jsonschema and openapi-core write their messages with Python's `repr` (`None is not of type
'object'`, `'v3' is not one of ['2021-07-28']`), which a caller in another language has to translate.
Every message the sandbox answers quotes values with `json_text` (`null`, `true`, `"v3"`) and words a
schema error with `schema_message`, here and nowhere else.
"""

from __future__ import annotations

import json
import re
from typing import Any

#: A quoted value longer than this is cut (and ends with `…`): an answer names a value, it does not echo a body.
MAX_QUOTED = 100

_LENGTH_PHRASES = {
    # keyword: (phrase when the bound is the smallest, phrase otherwise), as jsonschema words them.
    "minLength": (1, "should be non-empty", "is too short"),
    "minItems": (1, "should be non-empty", "is too short"),
    "minProperties": (1, "should be non-empty", "does not have enough properties"),
    "maxLength": (0, "is expected to be empty", "is too long"),
    "maxItems": (0, "is expected to be empty", "is too long"),
    "maxProperties": (0, "is expected to be empty", "has too many properties"),
}
_BOUND_PHRASES = {
    "minimum": "is less than the minimum of",
    "maximum": "is greater than the maximum of",
    "exclusiveMinimum": "is less than or equal to the minimum of",
    "exclusiveMaximum": "is greater than or equal to the maximum of",
    "multipleOf": "is not a multiple of",
}


def json_text(value: Any) -> str:
    """`value` as JSON (`null`, `true`, `"text"`, `{"a": [1]}`), ASCII only, cut at MAX_QUOTED characters."""
    try:
        text = json.dumps(value, ensure_ascii=True)
    except (TypeError, ValueError):  # not a JSON value (never so from a decoded request): quote its text
        text = json.dumps(str(value), ensure_ascii=True)
    return text if len(text) <= MAX_QUOTED else text[: MAX_QUOTED - 1] + "…"


def schema_message(error: Any) -> str:
    """A jsonschema `ValidationError` worded as jsonschema words it, with every value quoted in JSON."""
    keyword, expected, instance = error.validator, error.validator_value, error.instance
    value = json_text(instance)
    if keyword is None:  # the `false` schema
        return f"false schema does not allow {value}"
    if keyword == "type":
        types = expected if isinstance(expected, list) else [expected]
        return f"{value} is not of type {', '.join(json_text(t) for t in types)}"
    if keyword == "enum":
        return f"{value} is not one of {json_text(expected)}"
    if keyword == "const":
        return f"{json_text(expected)} was expected"
    if keyword == "required":
        return f"{json_text(_missing(error))} is a required property"
    if keyword == "additionalProperties":
        extras = _extras(instance, error.schema)
        verb = "was" if len(extras) == 1 else "were"
        return f"Additional properties are not allowed ({', '.join(json_text(e) for e in extras)} {verb} unexpected)"
    if keyword == "pattern":
        return f"{value} does not match {json_text(expected)}"
    if keyword == "format":
        return f"{value} is not a {json_text(expected)}"
    if keyword in _LENGTH_PHRASES:
        edge, at_edge, otherwise = _LENGTH_PHRASES[keyword]
        return f"{value} {at_edge if expected == edge else otherwise}"
    if keyword in _BOUND_PHRASES:
        return f"{value} {_BOUND_PHRASES[keyword]} {json_text(expected)}"
    if keyword in ("anyOf", "oneOf"):
        return f"{value} is not valid under {'any' if keyword == 'anyOf' else 'exactly one'} of the given schemas"
    return f"{value} breaks the schema's {json_text(keyword)} keyword"


def _missing(error: Any) -> Any:
    # jsonschema yields one error per missing property, in the keyword's order, and names it in the
    # message only: find which one this error is about.
    missing = [
        name for name in error.validator_value if isinstance(error.instance, dict) and name not in error.instance
    ]
    return next((name for name in missing if error.message.startswith(f"{name!r} ")), missing[0] if missing else "")


def _extras(instance: Any, schema: Any) -> list[str]:
    # What jsonschema's additionalProperties reports: keys neither named by `properties` nor matched
    # by a `patternProperties` regex, sorted.
    if not isinstance(instance, dict) or not isinstance(schema, dict):
        return []
    named = schema.get("properties") or {}
    patterns = list(schema.get("patternProperties") or {})
    return sorted(
        (key for key in instance if key not in named and not any(re.search(p, key) for p in patterns)), key=str
    )
