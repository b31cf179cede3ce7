"""`contract_tests.record`: scenarios recorded scrubbed, production only on explicit opt-in."""

from __future__ import annotations

from pathlib import Path

import pytest

from contract_tests import CONTRACT_TOKEN_ENV as TOKEN_ENV
from contract_tests import scenarios
from contract_tests.exchanges import load_cassette
from contract_tests.record import main, record
from contract_tests.scenarios import SCENARIOS, Call, Scenario
from contract_tests.scrub import AUTHORIZATION_PLACEHOLDER, find_leaks_in_text
from contract_tests.targets import RecordingError, sandbox_target
from scripts.sandbox import SPEC_SERVER_URL as SANDBOX_URL


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
        lambda t: [Call(scenarios.UNKNOWN_INVOICE_ID, scenarios.body(t))],
    )
    with pytest.raises(RecordingError, match=r"expected statuses \(200,\), got \(404,\)"):
        record(sandbox_target(), [wrong], out=tmp_path, modes=["sync"], log=lambda _: None)
    assert list(tmp_path.rglob("*.yaml")) == []
