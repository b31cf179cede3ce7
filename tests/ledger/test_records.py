"""`_ledger/records.py`: what the ledger keeps about a key, whatever store keeps it: the check of a key,
how an error and a reconciliation's evidence are stored, and where a key stands after its
reconciliation."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import attrs
import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from leadway_invoices_client import Outcome, Reconciliation, SendLedger, SendState
from leadway_invoices_client._ledger.records import (
    MAX_KEY_LENGTH,
    check_key,
    decode_evidence,
    describe,
    encode_evidence,
    reconciled_state,
    stamp,
    unreconciled_state,
)
from leadway_invoices_client._runtime.errors import from_response, from_transport_error
from leadway_invoices_client.models import ErrorResponse

from tests.mock_api import json_response, mock_client

from . import ledger_workers as workers
from .ledger_workers import sms_body


@pytest.mark.parametrize(
    ("read_again", "state"), [(True, SendState.PENDING), (False, SendState.NEEDS_ATTENTION)], ids=["5xx", "404"]
)
def test_an_unreadable_invoice_stays_pending_only_while_reading_again_may_help(
    path: Path, read_again: bool, state: SendState
) -> None:
    # After a 5xx read a later call reads again; a 404 read (no such invoice there) would be
    # refused for ever, so a person decides instead of the key staying pending.
    def unread(**kwargs: Any) -> Reconciliation:
        reason = "the read failed (NotFoundError 404)" if not read_again else "the read failed (ServerError 503)"
        return Reconciliation(
            Outcome.UNDETERMINED, kwargs["invoice_id"], reason, None, None, None, None, 1, read_again=read_again
        )

    def dropped(request: httpx.Request) -> httpx.Response:
        raise httpx.RemoteProtocolError("peer closed connection", request=request)

    with SendLedger(path, reconciler=unread) as ledger:
        record = ledger.send("k", client=mock_client(dropped), invoice_id=workers.invoice_id(0), body=sms_body())

    assert record.state is state
    assert ("not reconciled yet" in record.reason) is read_again


# --- a key ----------------------------------------------------------------------------------------


class _Key(str):
    def __str__(self) -> str:
        return "another key"


def test_a_key_is_kept_as_the_plain_string_it_holds() -> None:
    assert check_key("march/6578278e") == "march/6578278e"
    assert type(check_key(_Key("k"))) is str
    assert check_key(_Key("k")) == "k"
    assert check_key("k" * MAX_KEY_LENGTH) == "k" * MAX_KEY_LENGTH


@pytest.mark.parametrize(
    ("key", "kind", "message"),
    [
        (None, TypeError, "a ledger key must be a str, not NoneType"),
        (b"k", TypeError, "a ledger key must be a str, not bytes"),
        ("", ValueError, "a ledger key must not be empty"),
        ("k" * (MAX_KEY_LENGTH + 1), ValueError, f"at most {MAX_KEY_LENGTH} characters; got {MAX_KEY_LENGTH + 1}"),
        ("a\udc80b", ValueError, "is not valid Unicode text"),
    ],
)
def test_a_key_that_cannot_name_a_send_is_refused(key: object, kind: type[Exception], message: str) -> None:
    with pytest.raises(kind, match=re.escape(message)):
        check_key(key)


# --- what is stored -------------------------------------------------------------------------------


def test_an_error_is_stored_by_its_class_status_and_failure_never_its_text() -> None:
    answer = json_response(503, {"statusCode": 503, "message": "alex@example.com cannot be emailed"})
    status_error = from_response(answer, ErrorResponse, invoice_id="i")
    timeout = from_transport_error(httpx.ReadTimeout("alex@example.com timed out"), invoice_id="i")
    timeout.__cause__ = httpx.ReadTimeout("alex@example.com timed out")

    assert describe(status_error) == "ServerError 503"
    assert describe(timeout) == "OutcomeUnknownError (ReadTimeout)"
    assert describe(RuntimeError("alex@example.com")) == "RuntimeError"


def test_a_time_is_stored_with_microseconds_and_its_offset() -> None:
    assert stamp(dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)) == "2026-01-02T03:04:05.000000+00:00"
    assert dt.datetime.fromisoformat(stamp(dt.datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=dt.UTC))).microsecond == 6


TEXT = st.one_of(st.none(), st.text(max_size=30))


@settings(max_examples=100, deadline=None)
@given(
    outcome=st.sampled_from(Outcome),
    reason=st.text(max_size=60),
    before=st.tuples(TEXT, TEXT),
    after=st.tuples(TEXT, TEXT),
    reads=st.integers(0, 100),
    read_again=st.booleans(),
)
def test_evidence_is_stored_and_read_back_whole_but_for_read_again(
    outcome: Outcome,
    reason: str,
    before: tuple[str | None, str | None],
    after: tuple[str | None, str | None],
    reads: int,
    read_again: bool,
) -> None:
    found = Reconciliation(outcome, "inv-1", reason, *before, *after, reads, read_again=read_again)
    stored = encode_evidence(found)

    assert decode_evidence(stored, "inv-1") == attrs.evolve(found, read_again=False)
    # The row holds the invoice id already, and read_again only ever decides the state.
    assert set(json.loads(stored)) == {
        "outcome",
        "reason",
        "before_status",
        "before_updated_at",
        "after_status",
        "after_updated_at",
        "reads",
    }


# --- where a key stands after its reconciliation --------------------------------------------------


def _found(outcome: Outcome, after_status: str | None = "draft", read_again: bool = False) -> Reconciliation:
    return Reconciliation(outcome, "inv-1", "why", None, None, after_status, None, 1, read_again=read_again)


SEND_ERROR = from_response(json_response(500, {"message": "boom"}), ErrorResponse, invoice_id="inv-1")


@pytest.mark.parametrize(
    ("found", "state", "reason"),
    [
        (_found(Outcome.SENT, "sent"), SendState.SENT, "outcome unknown: ServerError 500; reconciled SENT: why"),
        (_found(Outcome.NOT_SENT), SendState.NOT_SENT, "outcome unknown: ServerError 500; reconciled NOT_SENT: why"),
        (
            _found(Outcome.UNDETERMINED, None, read_again=True),
            SendState.PENDING,
            "outcome unknown: ServerError 500; not reconciled yet: why",
        ),
        (
            _found(Outcome.UNDETERMINED, "sent", read_again=True),
            SendState.NEEDS_ATTENTION,
            "outcome unknown: ServerError 500; reconciled UNDETERMINED: why",
        ),
        (
            _found(Outcome.UNDETERMINED, None),
            SendState.NEEDS_ATTENTION,
            "outcome unknown: ServerError 500; reconciled UNDETERMINED: why",
        ),
    ],
)
def test_a_reconciliation_decides_where_the_key_stands(found: Reconciliation, state: SendState, reason: str) -> None:
    assert reconciled_state(SEND_ERROR, found) == (state, reason)


def test_a_key_left_by_an_interrupted_send_says_so() -> None:
    assert reconciled_state(None, _found(Outcome.SENT, "sent")) == (
        SendState.SENT,
        "left pending by an interrupted send; reconciled SENT: why",
    )


def test_a_reconciliation_that_could_not_run_leaves_the_key_pending() -> None:
    assert unreconciled_state(SEND_ERROR, RuntimeError("alex@example.com")) == (
        SendState.PENDING,
        "outcome unknown: ServerError 500; reconciliation failed: RuntimeError",
    )
    assert unreconciled_state(None, ValueError("x")) == (
        SendState.PENDING,
        "left pending; reconciliation failed: ValueError",
    )
