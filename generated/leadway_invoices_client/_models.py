# Copied from spec/runtime/_models.py by a post hook in spec/generator.yaml. Edit that file, then run scripts/nox -s generate.
# Source sha256: ad71ab412d356ee61471576421c4472d2f72ce6e1aac2cce61fd7b9e9bc62fb8
"""Shared by the models of open JSON objects: fields the spec does not name are kept, not dropped."""

from __future__ import annotations

from typing import Any


class OpenObject:
    """Unknown fields of the decoded object live in `additional_properties` and go back out in
    `to_dict`; the model also reads and writes them like a dict (`model["brandNew"]`)."""

    __slots__ = ()
    additional_properties: dict[str, Any]

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
