"""Shared by the models of open JSON objects (answers): fields the spec does not name are kept, not
dropped, and the decoded JSON stays reachable as `raw`; `from_dict` is the tolerant reader's."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self

from .parsing import Deviates, Deviation, Reader


class OpenObject:
    """Unknown fields of the decoded object live in `additional_properties` and go back out in
    `to_dict`; the model also reads and writes them like a dict (`model["brandNew"]`)."""

    __slots__ = ()
    additional_properties: dict[str, Any]
    _raw: dict[str, Any]
    _deviations: tuple[Deviation, ...]

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any], reader: Reader | None = None, path: str = "$") -> Self:
        """Build from decoded JSON. Values that break the spec become UNSET and are listed in
        `deviations`, or raise TypeError naming the field with `Reader(strict=True)`; a value that is
        not an object, or a missing or mistyped field the spec marks `x-must-parse` (typed without
        `| Unset`), raises in both modes."""
        try:
            return cls._parse(src_dict)
        except Deviates:
            # Rare: read it again, this time keeping track of where and how it deviates.
            return cls._read(src_dict, Reader() if reader is None else reader, path)

    @classmethod
    def _parse(cls, src_dict: Any) -> Self:
        """The fast path, generated for each model: an object that follows the spec throughout, else
        Deviates."""
        raise NotImplementedError

    @classmethod
    def _read(cls, src_dict: Any, reader: Reader, path: str) -> Self:
        """The collecting path (fields.read_answer): each deviation goes to `reader`, which may raise."""
        raise NotImplementedError

    @property
    def deviations(self) -> tuple[Deviation, ...]:
        """Where the answer broke the spec within this object (JSONPaths from the parsed body's root
        `$`); each such field is UNSET. Empty for an answer that follows the spec."""
        try:
            return self._deviations
        except AttributeError:  # a model built by hand, or one that followed the spec
            return ()

    def to_dict(self) -> dict[str, Any]:
        raise NotImplementedError  # every generated model has its own

    @property
    def raw(self) -> dict[str, Any]:
        """The decoded JSON this model was read from, values that broke the spec included (the very
        object, not a copy: do not change it). For a model built by hand, its `to_dict()`."""
        try:
            return self._raw
        except AttributeError:  # a model built by hand
            return self.to_dict()

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties)

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
