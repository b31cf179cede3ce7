"""Checks on path and query parameters, before any I/O.

A path parameter is pasted into the URL, so a value such as `..`, `a/b` or `x?y` would send the
request to another endpoint or add a query. Only RFC 3986 unreserved characters pass; the spec's
stricter 24-hex pattern is left to the server, so a well-formed but unknown id still gets its 404.
"""

from __future__ import annotations

import math
import re

MAX_LENGTH = 128
_SAFE = re.compile(r"[A-Za-z0-9._~-]+")


def path_segment(name: str, value: object) -> str:
    """Return `value` as a plain str if it is safe as one URL path segment, else raise ValueError.

    A str subclass (a str-valued Enum member among them) is checked and sent as the same plain
    string: its own __str__/__format__ could otherwise put another text into the URL than the one
    checked here.
    """
    if not isinstance(value, str):
        raise ValueError(f"{name} must be a string, not {type(value).__name__}")
    value = str.__str__(value)
    if _SAFE.fullmatch(value) and len(value) <= MAX_LENGTH and value not in {".", ".."}:
        return value
    if not value:
        raise ValueError(f"{name} must not be empty")
    if len(value) > MAX_LENGTH:
        raise ValueError(f"{name} is {len(value)} characters long; at most {MAX_LENGTH} are allowed")
    if value in {".", ".."}:
        raise ValueError(f"{name} {value!r} would change the request's path")
    bad = next(c for c in value if not _SAFE.fullmatch(c))
    raise ValueError(
        f"{name} contains {bad!r}, which would change the request's path or query;"
        " only letters, digits and '-', '_', '.', '~' are allowed"
    )


def query_string(name: str, value: object) -> str:
    """Return `value` as a plain str if it can be a required string query parameter, else raise
    ValueError. httpx percent-encodes it, so any text is safe in the URL; empty text is refused (the
    spec's `minLength: 1`), and so are control characters, which no id holds."""
    if not isinstance(value, str):
        raise ValueError(f"{name} must be a string, not {type(value).__name__}")
    value = str.__str__(value)
    if not value:
        raise ValueError(f"{name} must not be empty")
    if len(value) > MAX_LENGTH:
        raise ValueError(f"{name} is {len(value)} characters long; at most {MAX_LENGTH} are allowed")
    if not value.isprintable():
        raise ValueError(f"{name} contains a control or other non-printable character")
    return value


def url_text(name: str, value: object) -> str:
    """Return `value` as a plain str if it can be a URL's text, else raise ValueError: a space or a
    control character (a trailing `\\r` from a file with CRLF line endings) would pass a scheme and host
    check, then fail every request with httpx's InvalidURL."""
    if not isinstance(value, str):
        raise ValueError(f"{name} must be a string, not {type(value).__name__}")
    value = str.__str__(value)
    bad = next((char for char in value if char.isspace() or not char.isprintable()), None)
    if bad is not None:
        raise ValueError(
            f"{name} contains {bad!r} at position {value.index(bad)}: a URL holds no spaces or control"
            " characters (a line ending copied from a file?)"
        )
    return value


def wrong_type(where: str, expected: str, value: object) -> TypeError:
    """The error a model's `from_dict` raises for a value that breaks the spec (UNSET: key missing)."""
    if type(value).__name__ == "Unset":
        return TypeError(f"{where}: required, missing")
    return TypeError(f"{where}: expected {expected}, got {type(value).__name__}")


def seconds(name: str, value: object, *, positive: bool = False, maximum: float | None = None) -> float:
    """`value` as a float of seconds if it is a finite number, at least 0 (above 0 when `positive`)
    and at most `maximum`; else ValueError naming `name` and the rule, before any I/O. The one check
    of every duration the package takes (timeouts aside: httpx checks those)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number of seconds, not {value!r}")
    if value < 0 or (positive and value == 0):
        raise ValueError(f"{name} must be {'> 0' if positive else '>= 0'} seconds, not {value!r}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be a number of seconds from 0 to {maximum:g}, not {value!r}")
    return float(value)
