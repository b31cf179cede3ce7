"""The field tables of the generated models, and the one copy of the code that reads and writes by them.

Every generated model lists its fields once, in a table (`_FIELDS` in its module): the JSON key, the
attribute, the kind of JSON value the spec gives it (`STRING`, `NUMBER`, `Model(Address)`,
`ListOf(Model(InvoiceItem))`, `AnyOf(Model(Address), STRING)`, ...) and whether it may be missing.
What is the same for every model lives here and walks that table:

* `read_answer`, the collecting pass of the tolerant reader (parsing.py tells the whole story): each
  value that breaks the spec goes to the Reader with its JSONPath, and the field becomes UNSET, or,
  in a list, the item is left out with a deviation naming its index; `MUST` fields (the spec's
  `x-must-parse`) raise whatever the mode;
* `read_request`, the strict `from_dict` of a request model: TypeError/ValueError naming the field
  (`Model.key`) at the first value that breaks the spec;
* `dump_answer` and `dump_request`, `to_dict`; a request's also checks what the caller gave it
  (`enum_value`, `model_dict`), before any I/O.

The one part a model still generates itself is the tolerant reader's fast path, `_parse`:
straight-line checks with no table to walk, since most answers follow the spec and that path is timed
(bench c). It must accept exactly what `read_answer` reads without a deviation, and convert it alike.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum
from typing import Any, Final, Literal, TypeVar

from .open_object import OpenObject
from .parsing import Reader, enum_value, model_dict
from .types import UNSET, Unset
from .validation import wrong_type

Mode = Literal["must", "required", "optional"]
MUST: Final = "must"
"""Required, and without it the answer says nothing usable: a missing or mistyped value raises even
when reading tolerantly. The attribute is typed `X`, not `X | Unset`."""
REQUIRED: Final = "required"
"""Required by the spec: missing is a deviation (an answer) or an error (a request)."""
OPTIONAL: Final = "optional"
"""May be missing: then UNSET, and left out of `to_dict`."""

T = TypeVar("T")
A = TypeVar("A", bound=OpenObject)


class Kind:
    """A kind of JSON value: its check, its name in errors and deviations, how a value that passed the
    check becomes the attribute (tolerantly or strictly) and how the attribute goes back to JSON."""

    __slots__ = ("expected",)

    converts = False
    """Whether a checked value needs converting (to a model, an enum member, ...), else kept as is."""
    plain = False
    """Whether a checked value is read as it is, with nothing inside to look at (a scalar)."""

    def __init__(self, expected: str) -> None:
        self.expected = expected

    def check(self, value: object) -> bool:
        """Has `value` this JSON type? (A list: is it an array; its items are read one by one.)"""
        raise NotImplementedError

    def whole(self, value: object) -> bool:
        """The check as a member of a union, where a list must be well-formed throughout."""
        return self.check(value)

    def owns(self, value: object) -> bool:
        """Is the attribute `value` one this kind converted (a model, an enum member)?"""
        return False

    def read(self, value: Any, reader: Reader, where: str) -> Any:
        """A value that passed `check`, read tolerantly; `where` is its JSONPath."""
        return value

    def parse(self, value: Any, where: str) -> Any:
        """A present value, read strictly: TypeError/ValueError naming `where` if it breaks the spec."""
        if not self.check(value):
            raise wrong_type(where, self.expected, value)
        return value

    def dump(self, value: Any) -> Any:
        """The JSON value of an attribute (an answer's: it came from JSON, or was set by hand)."""
        return value

    def dump_checked(self, value: Any, where: str) -> Any:
        """The JSON value of a request's attribute, checked: the caller built it."""
        return self.dump(value)


class _String(Kind):
    __slots__ = ()
    plain = True

    def check(self, value: object) -> bool:
        return isinstance(value, str)


class _Boolean(Kind):
    __slots__ = ()
    plain = True

    def check(self, value: object) -> bool:
        return isinstance(value, bool)


# JSON has no integer type of its own, and Python's bool is an int: exact types, as the fast path checks.
class _Integer(Kind):
    __slots__ = ()
    plain = True

    def check(self, value: object) -> bool:
        return type(value) is int


class _Number(Kind):
    __slots__ = ()
    plain = True

    def check(self, value: object) -> bool:
        return type(value) is float or type(value) is int


STRING: Final[Kind] = _String("string")
BOOLEAN: Final[Kind] = _Boolean("boolean")
INTEGER: Final[Kind] = _Integer("integer")
NUMBER: Final[Kind] = _Number("number")


class Model(Kind):
    """An object the spec describes by a schema of its own: a generated model."""

    __slots__ = ("model",)
    converts = True

    def __init__(self, model: type[Any]) -> None:
        super().__init__("object")
        self.model = model

    def check(self, value: object) -> bool:
        return isinstance(value, dict)

    def owns(self, value: object) -> bool:
        return isinstance(value, self.model)

    def read(self, value: Any, reader: Reader, where: str) -> Any:
        return self.model._read(value, reader, where)

    def parse(self, value: Any, where: str) -> Any:
        return self.model.from_dict(value)  # its own checks, naming its own fields

    def dump(self, value: Any) -> Any:
        return value.to_dict()

    def dump_checked(self, value: Any, where: str) -> Any:
        return model_dict(value, self.model, where)


class OneOf(Kind):
    """An enum: one of the spec's `values` (in the spec's order, for the error), read as its member."""

    __slots__ = ("_members", "_type", "enum")
    converts = True

    def __init__(self, enum: type[Enum], *values: str | int) -> None:
        super().__init__("one of " + ", ".join(str(value) for value in values))
        self.enum = enum
        self._members = enum._value2member_map_
        self._type = type(values[0])

    def check(self, value: object) -> bool:
        return isinstance(value, self._type) and value in self._members

    def owns(self, value: object) -> bool:
        return isinstance(value, self.enum)

    def read(self, value: Any, reader: Reader, where: str) -> Any:
        return self.enum(value)

    def parse(self, value: Any, where: str) -> Any:
        return self.enum(super().parse(value, where))

    def dump(self, value: Any) -> Any:
        return value.value

    def dump_checked(self, value: Any, where: str) -> Any:
        return enum_value(value, self.enum, where)


class ListOf(Kind):
    """An array of `item`s. Read tolerantly, an item that breaks the spec is left out of the list
    (its well-formed siblings kept, in order), a deviation naming its index."""

    __slots__ = ("converts", "item")

    def __init__(self, item: Kind) -> None:
        super().__init__("array")
        self.item = item
        self.converts = item.converts

    def check(self, value: object) -> bool:
        return isinstance(value, list)

    def whole(self, value: object) -> bool:
        return isinstance(value, list) and all(self.item.check(item) for item in value)

    def read(self, value: Any, reader: Reader, where: str) -> Any:
        item = self.item
        if not self.converts and all(item.check(element) for element in value):
            return value  # the very list, as the fast path keeps it
        kept: list[Any] = []
        for i, element in enumerate(value):
            if item.check(element):
                kept.append(item.read(element, reader, f"{where}[{i}]"))
            else:
                reader.wrong(f"{where}[{i}]", "", item.expected, element)
        return kept

    def parse(self, value: Any, where: str) -> Any:
        if not isinstance(value, list):
            raise wrong_type(where, self.expected, value)
        items = [self.item.parse(element, where + "[]") for element in value]
        return items if self.converts else value

    def dump(self, value: Any) -> Any:
        return [self.item.dump(element) for element in value] if self.converts else value

    def dump_checked(self, value: Any, where: str) -> Any:
        if not self.converts:
            return value
        return [self.item.dump_checked(element, where + "[]") for element in value]


class AnyOf(Kind):
    """A value of the first of `members` it matches (the spec's `anyOf`, or a type list)."""

    __slots__ = ("converts", "members", "plain")

    def __init__(self, *members: Kind) -> None:
        super().__init__(" or ".join(member.expected for member in members))
        self.members = members
        self.converts = any(member.converts for member in members)
        self.plain = all(member.plain for member in members)

    def _member(self, value: object) -> Kind | None:
        return next((member for member in self.members if member.whole(value)), None)

    def check(self, value: object) -> bool:
        return self._member(value) is not None

    def read(self, value: Any, reader: Reader, where: str) -> Any:
        member = self._member(value)
        return value if member is None else member.read(value, reader, where)

    def parse(self, value: Any, where: str) -> Any:
        member = self._member(value)
        if member is None:
            raise wrong_type(where, self.expected, value)
        return member.parse(value, where)

    def dump(self, value: Any) -> Any:
        member = next((member for member in self.members if member.owns(value)), None)
        return value if member is None else member.dump(value)


class Field:
    """One field of a model: JSON `key`, Python attribute `name`, `kind` of value and `mode`."""

    __slots__ = ("key", "kind", "mode", "name")

    def __init__(self, key: str, name: str, kind: Kind, mode: Mode) -> None:
        self.key = key
        self.name = name
        self.kind = kind
        self.mode = mode


class Fields:
    """A model's fields in the spec's order (the order they are read, and deviations listed)."""

    __slots__ = ("fields", "keys", "model", "where")

    def __init__(self, model: str, *fields: Field) -> None:
        self.model = model
        self.fields = fields
        self.keys = frozenset(field.key for field in fields)
        self.where = tuple(f"{model}.{field.key}" for field in fields)  # how a request's errors name them


def read_answer(model: Callable[..., A], fields: Fields, src: Any, reader: Reader, path: str) -> A:
    """Read an answer's object at JSONPath `path`, handing each deviation to `reader`."""
    if not isinstance(src, dict):
        raise reader.fatal(path, "", "object", src)
    found = len(reader.found)
    get = src.get
    answer = model(**{field.name: _read(field, get(field.key, UNSET), reader, path) for field in fields.fields})
    # Unknown keys are rare: a subset test in C finds there are none, with no copy of the dict.
    if not src.keys() <= fields.keys:
        answer.additional_properties = {key: value for key, value in src.items() if key not in fields.keys}
    answer._raw = src
    if len(reader.found) > found:
        answer._deviations = tuple(reader.found[found:])
    return answer


def _read(field: Field, value: Any, reader: Reader, path: str) -> Any:
    kind = field.kind
    if kind.check(value):
        return value if kind.plain else kind.read(value, reader, f"{path}.{field.key}")
    if field.mode == MUST:
        raise reader.fatal(path, field.key, kind.expected, value)
    if value is UNSET and field.mode == OPTIONAL:
        return UNSET
    return reader.wrong(path, field.key, kind.expected, value)


def read_request(model: Callable[..., T], fields: Fields, src: Any) -> T:
    """Build a request model from decoded JSON, raising at the first value that breaks the spec."""
    if not isinstance(src, dict):
        raise wrong_type(fields.model, "object", src)
    values: dict[str, Any] = {}
    for field, where in zip(fields.fields, fields.where, strict=True):
        value = src.get(field.key, UNSET)
        if value is not UNSET:
            value = field.kind.parse(value, where)
        elif field.mode != OPTIONAL:
            raise wrong_type(where, field.kind.expected, value)
        values[field.name] = value
    return model(**values)


def dump_answer(answer: OpenObject, fields: Fields) -> dict[str, Any]:
    """An answer model's JSON: its unknown fields first, so that a declared field always wins."""
    dumped = dict(answer.additional_properties)
    for field in fields.fields:
        value = getattr(answer, field.name)
        if field.mode == MUST or not isinstance(value, Unset):
            dumped[field.key] = field.kind.dump(value) if field.kind.converts else value
    return dumped


def dump_request(request: object, fields: Fields) -> dict[str, Any]:
    """A request model's JSON; ValueError/TypeError naming the field for an enum or model field that
    holds something else (a plain string is fine for an enum if it is one of its values)."""
    dumped: dict[str, Any] = {}
    for field, where in zip(fields.fields, fields.where, strict=True):
        value = getattr(request, field.name)
        if field.mode != OPTIONAL or not isinstance(value, Unset):
            dumped[field.key] = field.kind.dump_checked(value, where) if field.kind.converts else value
    return dumped
