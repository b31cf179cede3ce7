"""Extra invoices from a JSON file, the seed itself, and clear errors for bad files."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from scripts.sandbox import (
    DRAFT_INVOICE_ID,
    LOCATION_TOKEN,
    OTHER_LOCATION_DRAFT_ID,
    PAID_INVOICE_ID,
    SECOND_DRAFT_INVOICE_ID,
    SEED_LOCATIONS,
    VOID_INVOICE_ID,
    SandboxConfig,
    SandboxError,
    create_app,
)
from scripts.sandbox.state import SEED_PATH, load_invoices, seed_invoices
from tests.sandbox.conftest import auth, send_body

EXTRA_ID = "aaaaaaaaaaaaaaaaaaaaaaaa"
EXTRA_LOCATION = "third-location"


def extra_invoice(**overrides: Any) -> dict[str, Any]:
    invoice = copy.deepcopy(seed_invoices()[0])
    invoice.update({"_id": EXTRA_ID, "altId": EXTRA_LOCATION, "invoiceNumber": 7, "status": "draft"}, **overrides)
    return invoice


def write(tmp_path: Path, document: Any) -> Path:
    path = tmp_path / "invoices.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def test_seed_matches_the_documented_constants() -> None:
    by_id = {invoice["_id"]: invoice for invoice in seed_invoices()}

    assert tuple(dict.fromkeys(i["altId"] for i in by_id.values())) == SEED_LOCATIONS
    assert by_id[DRAFT_INVOICE_ID]["status"] == "draft"
    assert by_id[DRAFT_INVOICE_ID]["altId"] == SEED_LOCATIONS[0]
    assert by_id[SECOND_DRAFT_INVOICE_ID]["altId"] == SEED_LOCATIONS[0]
    assert (by_id[PAID_INVOICE_ID]["status"], by_id[PAID_INVOICE_ID]["altId"]) == ("paid", SEED_LOCATIONS[0])
    assert (by_id[VOID_INVOICE_ID]["status"], by_id[VOID_INVOICE_ID]["altId"]) == ("void", SEED_LOCATIONS[1])
    assert (by_id[OTHER_LOCATION_DRAFT_ID]["status"], by_id[OTHER_LOCATION_DRAFT_ID]["altId"]) == (
        "draft",
        SEED_LOCATIONS[1],
    )


@pytest.mark.parametrize("wrapped", [True, False], ids=["object", "list"])
async def test_extra_invoices_are_loaded_and_sendable(tmp_path: Path, wrapped: bool) -> None:
    path = write(tmp_path, {"invoices": [extra_invoice()]} if wrapped else [extra_invoice()])
    app = create_app(SandboxConfig(invoices_file=path))

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://testserver") as client:
        listed = (await client.get("/_sandbox/invoices")).json()
        sent = await client.post(f"/invoices/{EXTRA_ID}/send", json=send_body(altId=EXTRA_LOCATION), headers=auth())
        forbidden = await client.post(
            f"/invoices/{EXTRA_ID}/send", json=send_body(altId=EXTRA_LOCATION), headers=auth(LOCATION_TOKEN)
        )
        await client.post("/_sandbox/reset")
        after_reset = (await client.get("/_sandbox/invoices")).json()

    assert len(listed) == 7
    assert listed[-1] == {"id": EXTRA_ID, "location": EXTRA_LOCATION, "status": "draft", "invoiceNumber": 7}
    assert sent.status_code == 200
    assert sent.json()["invoice"]["status"] == "sent"
    assert forbidden.status_code == 403
    # Reset restores the file's invoices too, not just the seed.
    assert after_reset == listed


def test_missing_file_gets_a_clear_message(tmp_path: Path) -> None:
    with pytest.raises(SandboxError, match=r"cannot read invoices file .*nope\.json: No such file"):
        create_app(SandboxConfig(invoices_file=tmp_path / "nope.json"))


def test_directory_gets_a_clear_message(tmp_path: Path) -> None:
    with pytest.raises(SandboxError, match="cannot read invoices file"):
        load_invoices(tmp_path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{not json", "is not valid JSON: Expecting property name"),
        (b"\xff\xfe", "is not UTF-8 text"),
        (b'"just a string"', "expected a list of invoices"),
        (b'{"invoices": {"_id": 1}}', "expected a list of invoices"),
    ],
)
def test_unreadable_content_gets_a_clear_message(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "invoices.json"
    path.write_bytes(content)

    with pytest.raises(SandboxError, match=message):
        load_invoices(path)


@pytest.mark.parametrize(
    ("invoice", "message"),
    [
        (extra_invoice(currency=None), r'invoice #1 at currency: null is not of type "string"'),
        ({"_id": EXTRA_ID}, r'invoice #1: "\w+" is a required property'),
        (extra_invoice(_id="short"), r'_id "short" must be 24 hexadecimal characters'),
        (extra_invoice(_id=DRAFT_INVOICE_ID), f'invoices.json: _id "{DRAFT_INVOICE_ID}" is already a seeded invoice'),
    ],
)
def test_invoices_breaking_the_spec_are_refused(tmp_path: Path, invoice: dict[str, Any], message: str) -> None:
    with pytest.raises(SandboxError, match=message):
        create_app(SandboxConfig(invoices_file=write(tmp_path, [invoice])))


def test_duplicates_inside_one_file_are_refused(tmp_path: Path) -> None:
    with pytest.raises(SandboxError, match=r"invoice #2: duplicate _id"):
        load_invoices(write(tmp_path, [extra_invoice(), extra_invoice()]))


def test_seed_file_is_the_state_module_seed() -> None:
    document = json.loads(SEED_PATH.read_text(encoding="utf-8"))

    assert document["invoices"] == seed_invoices()
