"""The generated client, strict as the whole suite, replaying a cassette whose answer drifted from the
spec raises its typed error (`ContractViolationError`) naming the field; for the send and the read.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import vcr
from leadway_invoices_client import AuthenticatedClient, errors
from leadway_invoices_client.api.invoices import get_invoice, send_invoice
from leadway_invoices_client.models import AltType, SendInvoiceRequest

from contract_tests.api_changes import (
    RECORDED_CASSETTE,
    RECORDED_READ,
    live_mode_as_string,
    read_renamed_id,
    read_updated_at_a_number,
    rename_email_data,
    rename_id,
    response_change,
)
from contract_tests.exchanges import dump_cassette, load_cassette
from scripts.sandbox import DRAFT_INVOICE_ID
from scripts.sandbox import SPEC_SERVER_URL as SANDBOX_URL


@pytest.mark.block_network
@pytest.mark.parametrize(
    ("change", "named"),
    [(rename_id, "_id"), (rename_email_data, "emailData"), (live_mode_as_string, "liveMode")],
)
def test_the_client_replaying_a_drifted_cassette_raises_its_typed_error(
    tmp_path: Path, change: Callable[[dict[str, Any]], None], named: str
) -> None:
    [recorded] = load_cassette(RECORDED_CASSETTE)
    cassette = tmp_path / "drifted.yaml"
    dump_cassette([response_change(change)(recorded)], cassette)
    client = AuthenticatedClient(base_url=SANDBOX_URL, token="replay", retry=None, strict=True)
    body = SendInvoiceRequest.from_dict(recorded.request_json())
    with (
        vcr.VCR(record_mode="none").use_cassette(str(cassette)),
        pytest.raises(errors.ContractViolationError) as caught,
    ):
        send_invoice.sync(urlsplit(recorded.url).path.split("/")[2], client=client, body=body)
    assert named in str(caught.value)


@pytest.mark.block_network
@pytest.mark.parametrize(("change", "named"), [(read_renamed_id, "_id"), (read_updated_at_a_number, "updatedAt")])
def test_the_client_replaying_a_drifted_read_raises_its_typed_error(
    tmp_path: Path, change: Callable[[dict[str, Any]], None], named: str
) -> None:
    [recorded] = load_cassette(RECORDED_READ)
    cassette = tmp_path / "drifted.yaml"
    dump_cassette([response_change(change)(recorded)], cassette)
    client = AuthenticatedClient(base_url=SANDBOX_URL, token="replay", retry=None, strict=True)
    with (
        vcr.VCR(record_mode="none").use_cassette(str(cassette)),
        pytest.raises(errors.ContractViolationError) as caught,
    ):
        get_invoice.sync(DRAFT_INVOICE_ID, client=client, alt_id="6578278e879ad2646715ba9c", alt_type=AltType.LOCATION)
    assert named in str(caught.value)
    assert caught.value.method == "GET"
