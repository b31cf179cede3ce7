"""UNSET, its type, and the Response of a `*_detailed` call (the module generated models import them from)."""

from ._runtime.types import UNSET, Response, Unset

__all__ = ["UNSET", "Response", "Unset"]
