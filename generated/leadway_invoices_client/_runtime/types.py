"""UNSET marks an optional field left out of the JSON; Response is the whole answer of a `*_detailed` call."""

from collections.abc import MutableMapping
from typing import Final, Generic, Literal, TypeVar

from attrs import define


class Unset:
    """The type of UNSET: falsy, so `if model.field:` skips an absent field as it skips None."""

    __slots__ = ()

    def __bool__(self) -> Literal[False]:
        return False

    def __repr__(self) -> str:
        return "UNSET"

    def __reduce__(self) -> str:
        # The singleton survives pickle and copy, so `is UNSET` and model equality still hold.
        return "UNSET"


UNSET: Final = Unset()

T = TypeVar("T")


@define
class Response(Generic[T]):
    """`status_code` is a plain int, not http.HTTPStatus: the API and its proxies answer codes that
    HTTPStatus cannot hold (499, 520). `parsed` is the documented model for the status, read
    tolerantly (deviations from the spec listed on `parsed.deviations`), or None when the status is
    undocumented or the body is unusable, or with strict=True breaks the spec at all (the raw body
    stays in `content`).
    """

    status_code: int
    content: bytes
    headers: MutableMapping[str, str]
    parsed: T | None


__all__ = ["UNSET", "Response", "Unset"]
