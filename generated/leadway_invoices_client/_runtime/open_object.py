"""Shared by the models of open JSON objects (answers): fields the spec does not name are kept, not
dropped, and the decoded JSON stays reachable as `raw`."""

from __future__ import annotations

from typing import Any

from .parsing import Deviation


class OpenObject:
    """Unknown fields of the decoded object live in `additional_properties` and go back out in
    `to_dict`; the model also reads and writes them like a dict (`model["brandNew"]`)."""

    __slots__ = ()
    additional_properties: dict[str, Any]
    _raw: dict[str, Any]
    _deviations: tuple[Deviation, ...]

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
