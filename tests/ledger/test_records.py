"""`_ledger/records.py`: what the ledger keeps about a key, whatever store keeps it: the check of a key,
how an error and a reconciliation's evidence are stored, and where a key stands after its
reconciliation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from leadway_invoices_client import Outcome, Reconciliation, SendLedger, SendState

from tests.mock_api import mock_client

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
