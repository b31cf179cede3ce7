"""`_runtime/types.py`: UNSET, a falsy singleton that survives pickle and copy, and the Response of a
`*_detailed` call."""

from __future__ import annotations

import copy
import pickle

from leadway_invoices_client.types import UNSET, Response, Unset


def test_unset_is_falsy_and_shows_as_unset() -> None:
    assert not UNSET
    assert bool(UNSET) is False
    assert repr(UNSET) == "UNSET"
    assert isinstance(UNSET, Unset)


def test_unset_stays_the_one_unset_through_pickle_and_copy() -> None:
    for twin in (pickle.loads(pickle.dumps(UNSET)), copy.copy(UNSET), copy.deepcopy(UNSET)):
        assert twin is UNSET
    assert pickle.loads(pickle.dumps({"due": UNSET}))["due"] is UNSET


def test_a_response_holds_any_status_as_a_plain_int() -> None:
    response: Response[None] = Response(status_code=520, content=b"<html>", headers={"X-A": "1"}, parsed=None)

    assert (response.status_code, response.content, response.headers, response.parsed) == (
        520,
        b"<html>",
        {"X-A": "1"},
        None,
    )
    assert response == Response(520, b"<html>", {"X-A": "1"}, None)
