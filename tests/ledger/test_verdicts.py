"""`_ledger/verdicts.py`: the rules that judge each read of an invoice after a send whose outcome is
unknown, without any I/O: when the reads are due, what one read proves at once, which failed read
ends it, and the answer once the last read is in."""

from __future__ import annotations

import datetime as dt
import enum
import itertools
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from leadway_invoices_client import AuthenticatedClient, LeadwayError, Outcome
from leadway_invoices_client._ledger.verdicts import MAX_KEPT, SENT_OR_LATER, Reading, text_of
from leadway_invoices_client._runtime.errors import from_response, from_transport_error
from leadway_invoices_client.models import ErrorResponse, Invoice
from leadway_invoices_client.models.invoice_status import InvoiceStatus

from tests.mock_api import BASE_URL, INVOICE_ID, LOCATION, TOKEN, json_response

BEFORE = "2026-01-01T10:00:00.000Z"
AFTER = "2026-01-01T10:00:05.000Z"
ATTEMPT = dt.datetime(2026, 1, 1, 10, 0, 2, tzinfo=dt.UTC)


def reading(**changes: Any) -> Reading:
    arguments: dict[str, Any] = {
        "client": AuthenticatedClient(BASE_URL, TOKEN),
        "invoice_id": INVOICE_ID,
        "alt_id": LOCATION,
        "alt_type": "location",
        "attempted_at": None,
        "before_status": None,
        "before_updated_at": None,
        "grace_period": 10.0,
        "max_reads": 4,
    }
    return Reading.build(**{**arguments, **changes})


def invoice(status: str, updated_at: str | None = None, invoice_id: str = INVOICE_ID) -> Invoice:
    body: dict[str, Any] = {"_id": invoice_id, "status": status}
    if updated_at is not None:
        body["updatedAt"] = updated_at
    return Invoice.from_dict(body)


def read_error(status: int) -> LeadwayError:
    answer = json_response(status, {"statusCode": status, "message": "no"})
    return from_response(answer, ErrorResponse, method="GET", invoice_id=INVOICE_ID)


# --- when the reads are due -----------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(grace=st.floats(0, 3600), reads=st.integers(1, 100))
def test_the_reads_are_spread_evenly_over_the_grace_period_the_last_at_its_end(grace: float, reads: int) -> None:
    offsets = list(reading(grace_period=grace, max_reads=reads).offsets())

    assert len(offsets) == reads
    assert offsets[-1] == pytest.approx(grace)
    assert offsets == sorted(offsets)
    if reads > 1:
        assert offsets[0] == 0
        steps = [later - earlier for earlier, later in itertools.pairwise(offsets)]
        assert max(steps) - min(steps) == pytest.approx(0, abs=1e-9)


# --- what one read proves at once -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "read", "why"),
    [
        ({"before_status": "draft"}, invoice("sent"), "the invoice was draft before the send and now reads sent"),
        ({"before_status": "draft"}, invoice("paid"), "the invoice was draft before the send and now reads paid"),
        (
            {"before_status": "sent", "before_updated_at": BEFORE},
            invoice("sent", AFTER),
            "it reads sent and its updatedAt moved past the one read before",
        ),
        (
            {"attempted_at": ATTEMPT},
            invoice("partially_paid", AFTER),
            "it reads partially_paid, updated after the send",
        ),
        ({"attempted_at": ATTEMPT}, invoice("sent", "2026-01-01T10:00:05"), "updated after the send was attempted"),
    ],
)
def test_a_read_showing_the_send_is_sent_at_once(changes: dict[str, Any], read: Invoice, why: str) -> None:
    judged = reading(**changes).judge_read(read)

    assert judged is not None
    assert judged.outcome is Outcome.SENT
    assert why in judged.reason


@pytest.mark.parametrize(
    ("changes", "read"),
    [
        ({}, invoice("sent", AFTER)),  # nothing to compare with
        ({"before_status": "sent", "before_updated_at": AFTER}, invoice("sent", AFTER)),  # updatedAt did not move
        ({"attempted_at": ATTEMPT}, invoice("sent", BEFORE)),  # updated before the attempt
        ({"attempted_at": ATTEMPT}, invoice("sent", "yesterday")),  # not a time
        ({"before_status": "draft"}, invoice("draft", AFTER)),
        ({"before_status": "draft"}, invoice("void", AFTER)),
    ],
)
def test_a_read_that_does_not_show_the_send_waits_for_the_last_read(changes: dict[str, Any], read: Invoice) -> None:
    assert reading(**changes).judge_read(read) is None


def test_an_answer_about_another_invoice_proves_nothing() -> None:
    judging = reading(before_status="draft")
    assert judging.judge_read(invoice("sent", AFTER, invoice_id="6578278e879ad2646715ffff")) is None
    assert judging.after_status is None
    final = judging.final()
    assert (final.outcome, final.read_again) == (Outcome.UNDETERMINED, True)
    assert final.reason == "at the end of the grace period the answer named another invoice"


# --- a failed read --------------------------------------------------------------------------------


@pytest.mark.parametrize(("status", "read_again"), [(400, False), (404, False), (422, False), (401, True), (403, True)])
def test_a_read_refused_for_good_ends_it_undetermined(status: int, read_again: bool) -> None:
    judged = reading().judge_failure(read_error(status))

    assert judged is not None
    assert (judged.outcome, judged.read_again) == (Outcome.UNDETERMINED, read_again)
    assert judged.reason.endswith(f" {status}), and reading again will not help")


@pytest.mark.parametrize(
    "error",
    [read_error(503), read_error(429), from_transport_error(httpx.ReadTimeout("slow"), method="GET")],
    ids=["503", "429", "timeout"],
)
def test_a_passing_failure_waits_for_the_next_read_and_a_good_read_forgets_it(error: LeadwayError) -> None:
    judging = reading()
    assert judging.judge_failure(error) is None
    final = judging.final()
    assert (final.outcome, final.read_again) == (Outcome.UNDETERMINED, True)
    assert final.reason.startswith("at the end of the grace period the read failed (")

    assert judging.judge_read(invoice("draft")) is None
    assert judging.final().outcome is Outcome.NOT_SENT


# --- the answer once the last read is in ----------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "last", "outcome", "why"),
    [
        ({}, "draft", Outcome.NOT_SENT, "the invoice still reads draft after the grace period"),
        (
            {"answered_2xx": True},
            "draft",
            Outcome.UNDETERMINED,
            "the API answered the send with a 2xx, yet the invoice still reads draft",
        ),
        ({"before_status": "sent"}, "sent", Outcome.UNDETERMINED, "it was already sent before the send"),
        ({}, "paid", Outcome.UNDETERMINED, "it reads paid, but nothing shows that it changed"),
        ({}, "void", Outcome.UNDETERMINED, "the invoice reads 'void', which a send does not produce"),
        ({}, "x" * 60, Outcome.UNDETERMINED, f"the invoice reads '{'x' * 40}', which a send does not produce"),
    ],
)
def test_the_last_read_decides(changes: dict[str, Any], last: str, outcome: Outcome, why: str) -> None:
    judging = reading(**changes)
    judging.judge_read(invoice(last))
    final = judging.final()

    assert (final.outcome, final.after_status, final.read_again) == (outcome, last, False)
    assert why in final.reason
    if last in SENT_OR_LATER:
        assert "InvoiceSent webhook" in final.reason


def test_without_any_read_there_is_no_status_to_judge() -> None:
    final = reading().final()
    assert final.outcome is Outcome.UNDETERMINED
    assert final.reason == "the invoice reads no status, which a send does not produce"


def test_the_evidence_carries_what_was_read_before_and_after() -> None:
    judging = reading(before_status="draft", before_updated_at=BEFORE)
    judging.reads = 2
    judged = judging.judge_read(invoice("sent", AFTER))

    assert judged is not None
    assert (judged.invoice_id, judged.reads) == (INVOICE_ID, 2)
    assert (judged.before_status, judged.before_updated_at) == ("draft", BEFORE)
    assert (judged.after_status, judged.after_updated_at) == ("sent", AFTER)


# --- checked before any I/O, and read as plain text -----------------------------------------------


@pytest.mark.parametrize(
    ("changes", "kind", "message"),
    [
        ({"client": "https://api.test"}, TypeError, "client must be an AuthenticatedClient, not str"),
        ({"attempted_at": ATTEMPT.replace(tzinfo=None)}, ValueError, "timezone-aware"),
        ({"before_updated_at": 5}, TypeError, "before_updated_at must be a str or None, not int"),
        ({"grace_period": 3600.5}, ValueError, "from 0 to 3600"),
        ({"max_reads": 101}, ValueError, "max_reads must be an int from 1 to 100"),
        ({"alt_type": "galaxy"}, ValueError, "alt_type must be one of"),
    ],
)
def test_bad_input_is_refused_when_the_reading_is_built(
    changes: dict[str, Any], kind: type[Exception], message: str
) -> None:
    with pytest.raises(kind, match=message):
        reading(**changes)


class _Number(enum.Enum):
    ONE = 1


class _Id(str):
    def __str__(self) -> str:
        return "something else"


def test_a_status_or_time_reads_as_the_plain_string_it_holds() -> None:
    assert text_of(InvoiceStatus.SENT) == "sent"
    assert type(text_of(_Id("sent"))) is str
    assert text_of(_Id("sent")) == "sent"
    assert text_of(3) is None
    assert text_of(_Number.ONE) is None


def test_a_read_that_echoes_the_token_or_carries_escapes_is_kept_plain_bounded_and_without_the_token() -> None:
    judging = reading(before_status=f"draft Bearer {TOKEN}", before_updated_at="\x1b[2J" + "9" * 500)
    judging.judge_read(invoice(f"sent\r\nAuthorization: Bearer {TOKEN}", "x\x07" * 300))
    judged = judging.final()

    assert TOKEN not in judged.reason
    assert judged.reason.isprintable()
    kept = [judged.before_status, judged.before_updated_at, judged.after_status, judged.after_updated_at]
    assert all(value is not None and TOKEN not in value for value in kept)
    assert all(value is not None and len(value) <= MAX_KEPT and value.isprintable() for value in kept)
    assert judged.after_status is not None
    assert judged.after_status.startswith("sent??Authorization: Bearer ")
