"""`scripts.upstream_drift`: readable differences, known ones accepted, new ones fail the run."""

from __future__ import annotations

import copy
import http.server
import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from scripts.project import SPEC_PATH
from scripts.upstream_drift.check import run, run_all
from scripts.upstream_drift.cli import main
from scripts.upstream_drift.differences import Difference
from scripts.upstream_drift.documents import DriftError
from scripts.upstream_drift.operations import (
    INVOICE_SENT,
    KNOWN_PATH,
    READ,
    SEND,
    UPSTREAM_DEFAULT,
    UPSTREAM_DIR,
    UPSTREAM_DOCUMENTS,
    Operation,
)

Mutation = Callable[[dict[str, Any]], None]


@pytest.fixture(scope="module")
def upstream_document() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(UPSTREAM_DEFAULT.read_text(encoding="utf-8"))
    return document


def write_upstream(tmp_path: Path, document: dict[str, Any], mutate: Mutation | None = None) -> Path:
    changed = copy.deepcopy(document)
    if mutate is not None:
        mutate(changed)
    path = tmp_path / "upstream.json"
    path.write_text(json.dumps(changed), encoding="utf-8")
    return path


def schemas(document: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = document["components"]["schemas"]
    return result


def operation(document: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = document["paths"]["/invoices/{invoiceId}/send"]["post"]
    return result


def test_the_reference_excerpts_differ_only_in_known_and_intended_ways(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 0
    out = capsys.readouterr().out
    assert out.count("0 new") == 2
    assert "compared with spec/upstream/send-invoice.openapi.json" in out
    assert "compared with spec/upstream/send-invoice-v3.openapi.json" in out
    assert "response 200 body: invoice.status: enum: upstream [draft, paid" in out
    assert "why: Open enum on purpose" in out
    assert "no longer found" not in out


def test_every_known_difference_is_still_found_and_has_a_reason() -> None:
    reports, stale = run_all([str(path) for path in UPSTREAM_DOCUMENTS])
    assert stale == []
    for report in reports:
        assert report.new == []
        assert all(len(k.reason.split()) >= 5 for k in report.known)


@pytest.mark.parametrize("watched", [SEND, READ], ids=["send", "read"])
def test_upstreams_v3_document_differs_from_v2_only_in_the_version_header(watched: Operation) -> None:
    _, v2 = run(str(watched.upstreams[0]), operation=watched)
    _, v3 = run(str(watched.upstreams[1]), operation=watched)
    ours = "[2021-07-28, 2023-02-21, v3]"
    assert set(v3) - set(v2) == {Difference("header parameter Version", "enum", "[v3]", ours)}
    assert set(v2) - set(v3) == {Difference("header parameter Version", "enum", "[2021-07-28]", ours)}


def test_a_single_document_run_reports_entries_only_another_one_shows_as_stale(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main([str(UPSTREAM_DEFAULT)]) == 0
    stale = capsys.readouterr().out.split("no longer found", 1)[1]
    assert "header parameter Version: enum: upstream [v3]" in stale


def test_every_vendored_excerpt_has_its_provenance() -> None:
    readme = (UPSTREAM_DIR / "README.md").read_text(encoding="utf-8")
    excerpts = sorted(path.name for path in [*UPSTREAM_DIR.glob("*.json"), *UPSTREAM_DIR.glob("webhook-*.md")])
    assert {path.name for path in (*SEND.upstreams, *READ.upstreams)} <= set(excerpts)
    for name in excerpts:
        row = next(line for line in readme.splitlines() if f"`{name}`" in line)
        assert "GoHighLevel/highlevel-api-docs" in row
        assert "CC0-1.0" in row
        assert any(len(word.strip("`,()")) == 40 for word in row.split()), f"{name}: no full commit"


def test_our_spec_compared_with_itself_has_no_differences() -> None:
    report, differences = run(str(SPEC_PATH), known=Path("/nonexistent"))
    assert differences == []
    assert report.new == []


def _add_action(d: dict[str, Any]) -> None:
    schemas(d)["SendInvoiceDto"]["properties"]["action"]["enum"].append("whatsapp")


def _require_sent_from(d: dict[str, Any]) -> None:
    schemas(d)["SendInvoiceDto"]["required"].append("sentFrom")


def _live_mode_string(d: dict[str, Any]) -> None:
    schemas(d)["DefaultInvoiceResponseDto"]["properties"]["liveMode"]["type"] = "string"


def _new_request_field(d: dict[str, Any]) -> None:
    schemas(d)["SendInvoiceDto"]["properties"]["scheduledAt"] = {"type": "string"}


def _new_status(d: dict[str, Any]) -> None:
    operation(d)["responses"]["409"] = {"description": "Conflict"}


def _drop_sms_data(d: dict[str, Any]) -> None:
    response = schemas(d)["SendInvoicesResponseDto"]
    del response["properties"]["smsData"]
    response["required"].remove("smsData")


def _rename_invoice_id(d: dict[str, Any]) -> None:
    invoice = schemas(d)["DefaultInvoiceResponseDto"]
    invoice["properties"]["id"] = invoice["properties"].pop("_id")
    invoice["required"] = ["id" if r == "_id" else r for r in invoice["required"]]


def _json_body(d: dict[str, Any]) -> None:
    operation(d)["requestBody"]["content"] = {"application/x-www-form-urlencoded": {"schema": {"type": "object"}}}


def _new_scope(d: dict[str, Any]) -> None:
    operation(d)["security"] = [{"Location-Access": ["invoices.write", "invoices.send"]}]


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (_add_action, "request body: action: enum: upstream [email, send_manually, sms, sms_and_email, whatsapp]"),
        (_require_sent_from, "request body: sentFrom: required: upstream required; ours optional"),
        (_live_mode_string, "response 200 body: invoice.liveMode: type: upstream [string]; ours [boolean]"),
        (_new_request_field, "request body: scheduledAt: field: upstream present (optional); ours absent"),
        (_new_status, "response 409: status: upstream documented; ours not documented"),
        (_drop_sms_data, "response 200 body: smsData: field: upstream absent; ours present (required)"),
        (_rename_invoice_id, "response 200 body: invoice._id: field: upstream absent; ours present (required)"),
        (_json_body, "request body: media types: upstream [application/x-www-form-urlencoded]"),
        (_new_scope, "security: scopes: upstream [invoices.send, invoices.write]; ours [invoices.write]"),
    ],
    ids=lambda v: v.__name__.strip("_") if callable(v) else "",
)
def test_an_upstream_change_is_a_new_difference_and_fails_the_run(
    tmp_path: Path,
    upstream_document: dict[str, Any],
    capsys: pytest.CaptureFixture[str],
    mutate: Mutation,
    expected: str,
) -> None:
    path = write_upstream(tmp_path, upstream_document, mutate)
    assert main([str(path)]) == 1
    out = capsys.readouterr().out
    new_section = out.split("NEW (not in the known-differences list):", 1)[1].split("Known and intended:", 1)[0]
    assert expected in new_section


def test_nothing_is_reported_below_a_field_upstream_leaves_free_form() -> None:
    _, differences = run(str(UPSTREAM_DEFAULT))
    wheres = {d.where for d in differences}
    assert "response 200 body: invoice.businessDetails" in wheres
    assert not any(w.startswith("response 200 body: invoice.businessDetails.") for w in wheres)
    assert not any(w.startswith("response 200 body: invoice.invoiceItems[].") for w in wheres)


def test_a_known_difference_that_moves_again_is_new_and_its_entry_stale(
    tmp_path: Path, upstream_document: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    def add_status(d: dict[str, Any]) -> None:
        schemas(d)["DefaultInvoiceResponseDto"]["properties"]["status"]["enum"].append("archived")

    path = write_upstream(tmp_path, upstream_document, add_status)
    assert main([str(path)]) == 1
    out = capsys.readouterr().out
    assert "upstream [archived, draft, paid, partially_paid, payment_processing, sent, void]" in out
    stale = out.split("no longer found", 1)[1]
    assert "response 200 body: invoice.status: enum" in stale


def test_suggested_entries_with_reasons_make_the_run_pass(
    tmp_path: Path, upstream_document: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    upstream = write_upstream(tmp_path, upstream_document, _add_action)
    assert main([str(upstream), "--suggest-known"]) == 1
    suggestion = capsys.readouterr().out.split("(fill in each reason):\n", 1)[1]
    entries = yaml.safe_load(suggestion)
    assert [e["where"] for e in entries] == ["request body: action"]
    known = yaml.safe_load(KNOWN_PATH.read_text(encoding="utf-8"))
    for entry in entries:
        entry["reason"] = "We decided to wait until WhatsApp sending is documented."
    known_path = tmp_path / "known.yaml"
    known_path.write_text(yaml.safe_dump(known + entries), encoding="utf-8")
    assert main([str(upstream), "--known", str(known_path)]) == 0


def test_an_entry_without_a_reason_is_refused(tmp_path: Path) -> None:
    known = yaml.safe_load(KNOWN_PATH.read_text(encoding="utf-8"))
    known[0]["reason"] = "  "
    path = tmp_path / "known.yaml"
    path.write_text(yaml.safe_dump(known), encoding="utf-8")
    with pytest.raises(DriftError, match="empty reason"):
        run(str(UPSTREAM_DEFAULT), known=path)
    assert main(["--known", str(path)]) == 2


def test_the_operation_is_found_by_operation_id_when_its_path_moves(
    tmp_path: Path, upstream_document: dict[str, Any]
) -> None:
    def move(d: dict[str, Any]) -> None:
        d["paths"] = {"/v2/invoices/{id}/send": d["paths"].pop("/invoices/{invoiceId}/send")}

    report, _ = run(str(write_upstream(tmp_path, upstream_document, move)))
    assert report.new == []


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read"),
        ("[1, 2", "neither JSON nor YAML"),
        ('{"openapi": "3.0.0"}', "not an OpenAPI document"),
        ('{"paths": {"/other": {"post": {}}}}', "no POST /invoices/{invoiceId}/send"),
        (
            '{"paths": {"/invoices/{invoiceId}/send": {"post": {"requestBody": {"$ref": "other.json#/x"}}}}}',
            "only local",
        ),
    ],
)
def test_unreadable_documents_exit_2_with_a_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | None, message: str
) -> None:
    path = tmp_path / "upstream.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    assert main([str(path)]) == 2
    assert message in capsys.readouterr().err


@pytest.fixture
def loopback_server(upstream_document: dict[str, Any]) -> Iterator[str]:
    body = json.dumps(upstream_document).encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path != "/openapi.json":
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_an_upstream_document_can_be_fetched_by_url(loopback_server: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([f"{loopback_server}/openapi.json"]) == 0
    assert main([f"{loopback_server}/missing.json"]) == 2
    assert "404" in capsys.readouterr().err


def test_difference_lines_name_both_sides() -> None:
    line = Difference("request body: action", "enum", "[a]", "[a, b]").line()
    assert line == "request body: action: enum: upstream [a]; ours [a, b]"


def test_the_read_differs_from_upstreams_get_invoice_only_in_known_ways(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--operation", "read"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("GET /invoices/{invoiceId}: spec/openapi.yaml compared with")
    assert "0 new" in out
    assert out.count("0 new") == 2
    reports, stale = run_all([str(path) for path in READ.upstreams], operation=READ)
    assert stale == []
    assert all(report.new == [] for report in reports)


def test_a_change_to_upstreams_read_is_new(tmp_path: Path) -> None:
    document = json.loads(READ.upstreams[0].read_text(encoding="utf-8"))
    document["components"]["schemas"]["GetInvoiceResponseDto"]["properties"]["sentAt"] = {"type": "string"}
    changed = tmp_path / "get-invoice.json"
    changed.write_text(json.dumps(document), encoding="utf-8")

    report, _ = run(str(changed), operation=READ)

    assert [d.line() for d in report.new] == [
        "response 200 body: sentAt: field: upstream present (optional); ours absent"
    ]


def test_the_webhook_differs_from_upstreams_invoicesent_page_only_in_known_ways(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["--operation", "webhook"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("POST InvoiceSent: spec/openapi.yaml compared with spec/upstream/webhook-InvoiceSent.md")
    assert "0 new" in out
    report, _ = run(str(INVOICE_SENT.upstreams[0]), operation=INVOICE_SENT)
    assert report.stale == []


def test_a_change_to_upstreams_webhook_page_is_new_and_a_page_without_its_schema_is_refused(tmp_path: Path) -> None:
    page = INVOICE_SENT.upstreams[0].read_text(encoding="utf-8")
    changed = tmp_path / "webhook-InvoiceSent.md"
    changed.write_text(page.replace('"amountDue": {\n      "type": "number"', '"amountDue": {\n      "type": "string"'))

    report, _ = run(str(changed), operation=INVOICE_SENT)

    assert [d.line() for d in report.new] == ["request body: amountDue: type: upstream [string]; ours [number]"]
    changed.write_text("# InvoiceSent\n\nNo schema here.\n")
    with pytest.raises(DriftError, match="no ```json json_schema block"):
        run(str(changed), operation=INVOICE_SENT)


def test_no_known_difference_cites_a_send_time_no_source_shows() -> None:
    # Issue 11: no upstream source shows an invoice `sentAt`; neither list may claim one.
    for known in (SEND.known, READ.known):
        assert "sentAt" not in known.read_text(encoding="utf-8")
