"""Text from outside (a server's answer, a file, a person's note) made safe to store and to print.

A terminal runs the escape sequences a string carries, a log line breaks at its newlines, and a
server that echoes what it was sent can put anything in a field: before such text is stored or shown,
every control character becomes `?` and the text is cut to a bound (`…` marks the cut).
"""

from __future__ import annotations

import unicodedata

ELLIPSIS = "…"


# Control, format, private-use and unassigned characters; line and paragraph separators (U+2028, U+2029).
_UNSAFE = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def plain(text: str, limit: int) -> str:
    """`text` with its control and format characters (Unicode categories C*: escapes, newlines, bidi
    overrides, zero-widths) and line and paragraph separators replaced by `?`, and cut to at most
    `limit` characters."""
    cleaned = "".join("?" if unicodedata.category(char) in _UNSAFE else char for char in text)
    return cleaned if len(cleaned) <= limit else cleaned[: max(0, limit - 1)] + ELLIPSIS
