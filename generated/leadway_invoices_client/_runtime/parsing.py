"""The tolerant reader of answers, and the checks of the strict writer of requests.

An answer model's `from_dict` (OpenObject's) first tries the model's generated fast path, which only
checks (most answers follow the spec); if something deviates, it reads the answer again from the
model's field table (fields.py) and hands each deviating value to a `Reader`. A tolerant reader (the
default) records a `Deviation` and the field becomes UNSET (a list item that deviates is left out of
the list, its well-formed siblings kept), so a typed attribute never holds a value of another type; a
strict reader raises TypeError instead, which the endpoint turns into ContractViolationError. A few
fields (`x-must-parse` in the spec, such as the invoice's `_id` and `status`) raise in both modes:
without them the answer says nothing usable.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from enum import Enum
from typing import Any, NamedTuple, Protocol, TypeVar

from .constants import LOGGER_NAME
from .types import UNSET, Unset
from .validation import wrong_type

logger = logging.getLogger(LOGGER_NAME)

# At most this many deviations are named in the one warning per answer; all stay on the model.
_LOGGED = 20


class Deviation(NamedTuple):
    """Where an answer broke the spec and how: JSON types only, never the value itself."""

    path: str
    """JSONPath of the value, `$` being the parsed body: `$.invoice.invoiceItems[0].qty`."""
    expected: str
    """What the spec says, e.g. `number`, `object`, `string or number`."""
    got: str
    """The JSON type that came: `missing`, `null`, `boolean`, `number`, `string`, `array`, `object`."""

    def __str__(self) -> str:
        return f"{self.path}: expected {self.expected}, got {self.got}"


def json_type(value: object) -> str:
    """The JSON type name of a decoded value (`missing` for UNSET)."""
    if value is UNSET:
        return "missing"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


class Deviates(Exception):
    """Raised by a model's fast path at the first value that breaks the spec; never escapes
    `from_dict`, which then reads the answer again with a Reader to find every deviation."""


class Reader:
    """Collects the deviations of one answer; `strict=True` raises at the first one instead."""

    __slots__ = ("found", "strict")

    def __init__(self, strict: bool = False) -> None:
        self.strict = strict
        self.found: list[Deviation] = []

    def wrong(self, path: str, key: str, expected: str, value: object) -> Unset:
        """Record that `path.key` is not `expected` (tolerant: UNSET takes its place) or raise."""
        where = f"{path}.{key}" if key else path
        if self.strict:
            raise wrong_type(where, expected, value)
        self.found.append(Deviation(where, expected, json_type(value)))
        return UNSET

    def fatal(self, path: str, key: str, expected: str, value: object) -> TypeError:
        """The error for a value without which the answer is unusable, whatever the mode."""
        return wrong_type(f"{path}.{key}" if key else path, expected, value)


def log_deviations(deviations: Sequence[Deviation], *, method: str, operation: str) -> None:
    """One WARNING per answer. Paths and JSON type names only: values may be customer data."""
    if not deviations:
        return
    shown = "; ".join(str(d) for d in deviations[:_LOGGED])
    more = f"; and {len(deviations) - _LOGGED} more" if len(deviations) > _LOGGED else ""
    logger.warning(
        "%s %s: the answer deviates from the spec in %d place(s), UNSET or left out of their list"
        " (see .deviations): %s%s",
        method,
        operation,
        len(deviations),
        shown,
        more,
    )


# --- the strict writer of requests ----------------------------------------------------------------

E = TypeVar("E", bound=Enum)


class _Dumpable(Protocol):
    def to_dict(self) -> dict[str, Any]: ...


def enum_value(value: object, enum: type[E], where: str) -> Any:
    """The JSON value of an enum field given a member or one of its values as a plain string.

    Anything else raises ValueError naming the field and the allowed values, before any I/O.
    """
    if isinstance(value, enum):
        return value.value
    if isinstance(value, str) and value in enum._value2member_map_:
        return enum(value).value
    allowed = ", ".join(repr(m.value) for m in enum)
    short = value is None or (isinstance(value, str) and len(value) <= 40)
    shown = repr(value) if short else f"a {type(value).__name__}"
    raise ValueError(f"{where} must be one of {allowed} (or {enum.__name__}.*), got {shown}")


def model_dict(value: object, model: type[_Dumpable], where: str) -> dict[str, Any]:
    """`value.to_dict()` if `value` is a `model`; else a TypeError saying how to build one."""
    if isinstance(value, model):
        return value.to_dict()
    name = model.__name__
    raise TypeError(
        f"{where} must be a {name}, not {type(value).__name__}"
        f" (build it with {name}(...), or {name}.from_dict(...) from a dict)"
    )
