"""`scripts.record_cassettes`: scenarios recorded scrubbed, production only on explicit opt-in."""

from __future__ import annotations

from pathlib import Path

import pytest

from contract_tests.exchanges import load_cassette
from scripts import record_cassettes
from scripts.record_cassettes import (
    SANDBOX_URL,
    SCENARIOS,
    TOKEN_ENV,
    Call,
    RecordingError,
    Scenario,
    main,
    production_target,
    record,
    sandbox_target,
)
from scripts.scrub import AUTHORIZATION_PLACEHOLDER, find_leaks_in_text


def test_the_scenarios_cover_every_action_mode_variant_and_error_path() -> None:
    actions = {call.body["action"] for s in SCENARIOS.values() for call in s.calls(sandbox_target())}
    assert {"email", "sms", "sms_and_email", "send_manually"} <= actions
    live_modes = {call.body["liveMode"] for s in SCENARIOS.values() for call in s.calls(sandbox_target())}
    assert live_modes == {False, True}
    bodies = [call.body for s in SCENARIOS.values() for call in s.calls(sandbox_target())]
    assert any("sentFrom" in b for b in bodies)
    assert {b["autoPayment"].get("type") for b in bodies if "autoPayment" in b} >= {"card", "us_bank_account"}
    statuses = {status for s in SCENARIOS.values() for status in s.expect}
    assert statuses >= {200, 400, 401, 403, 404, 422, 429, 503}


def test_production_refuses_without_token_and_ids(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    assert main(["--target", "production", "--invoice-id", "a" * 24, "--location-id", "b", "--user-id", "c"]) == 2
    assert f"${TOKEN_ENV}" in capsys.readouterr().err
    monkeypatch.setenv(TOKEN_ENV, "some-token")
    assert main(["--target", "production", "--invoice-id", "a" * 24]) == 2
    err = capsys.readouterr().err
    assert "--location-id" in err
    assert "--user-id" in err
    assert "some-token" not in err


def test_production_refuses_to_send_a_token_over_plain_http() -> None:
    with pytest.raises(RecordingError, match="https only"):
        production_target(token="t", invoice="i", location="l", user="u", base_url="http://services.example")


def test_against_production_only_scenarios_that_deliver_nothing_run() -> None:
    target = production_target(token="t", invoice="i" * 24, location="l", user="u")
    runs = {name for name, s in SCENARIOS.items() if s.runs_on(target)}
    assert runs == {"send-manually-test-mode", "invalid-token-401", "unknown-invoice-404", "invalid-body-422"}
    for name in runs:
        for call in SCENARIOS[name].calls(target):
            assert call.body["liveMode"] is False
            assert call.body["action"] in {"send_manually", "fax"}
            assert call.fault is None


def test_list_shows_every_scenario(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--list"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in SCENARIOS)


def test_recorded_cassettes_are_scrubbed_and_show_the_spec_server(tmp_path: Path) -> None:
    scenarios = [SCENARIOS["sent-from"], SCENARIOS["resend"], SCENARIOS["invalid-token-401"]]
    written = record(sandbox_target(), scenarios, out=tmp_path, log=lambda _: None)
    assert len(written) == 6
    target = sandbox_target()
    for path in written:
        text = path.read_text(encoding="utf-8")
        assert all(token not in text for token in target.secrets)
        for exchange in load_cassette(path):
            assert exchange.url.startswith(f"{SANDBOX_URL}/invoices/")
            assert exchange.request_headers["host"] == "127.0.0.1:8765"
            assert exchange.request_headers["authorization"] == AUTHORIZATION_PLACEHOLDER
            assert "date" not in exchange.response_headers
            assert find_leaks_in_text(exchange.response_body.decode(), "response") == []
            assert find_leaks_in_text((exchange.request_body or b"").decode(), "request") == []
    resend = load_cassette(tmp_path / "sandbox" / "async" / "resend.yaml")
    assert [e.status for e in resend] == [200, 200]


def test_a_scenario_that_misbehaves_fails_and_leaves_no_cassette(tmp_path: Path) -> None:
    wrong = Scenario(
        "wrong-expectation",
        "expects 200 for an unknown invoice",
        (200,),
        lambda t: [Call(record_cassettes.UNKNOWN_INVOICE_ID, record_cassettes.body(t))],
    )
    with pytest.raises(RecordingError, match=r"expected statuses \(200,\), got \(404,\)"):
        record(sandbox_target(), [wrong], out=tmp_path, modes=["sync"], log=lambda _: None)
    assert list(tmp_path.rglob("*.yaml")) == []
