"""`_runtime/text.py`: text from outside made safe to store and print."""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st
from leadway_invoices_client._runtime.text import ELLIPSIS, plain


def test_escapes_line_breaks_and_bidi_overrides_become_question_marks() -> None:
    assert plain("ok\x1b[31mred\r\nnext\u2028sep\u202eevil\x85", 100) == "ok?[31mred??next?sep?evil?"


def test_text_is_cut_to_its_limit_with_a_mark() -> None:
    assert plain("abcdef", 6) == "abcdef"
    assert plain("abcdefg", 6) == "abcde" + ELLIPSIS


@given(st.text(), st.integers(0, 50))
def test_the_result_is_one_printable_line_within_the_limit(text: str, limit: int) -> None:
    shown = plain(text, limit)

    assert len(shown) <= max(limit, 1)
    assert len(shown.splitlines()) <= 1
    assert not any(unicodedata.category(char)[0] == "C" for char in shown)
