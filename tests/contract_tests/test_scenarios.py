"""`contract_tests.scenarios`: every action, mode and error path, and only harmless ones for production."""

from __future__ import annotations

from contract_tests.scenarios import SCENARIOS
from contract_tests.targets import production_target, sandbox_target


def test_the_scenarios_cover_every_action_mode_variant_and_error_path() -> None:
    sends = [call for s in SCENARIOS.values() for call in s.calls(sandbox_target()) if call.kind == "send"]
    actions = {call.body["action"] for call in sends}
    assert {"email", "sms", "sms_and_email", "send_manually"} <= actions
    live_modes = {call.body["liveMode"] for call in sends}
    assert live_modes == {False, True}
    bodies = [call.body for call in sends]
    assert any("sentFrom" in b for b in bodies)
    assert {b["autoPayment"].get("type") for b in bodies if "autoPayment" in b} >= {"card", "us_bank_account"}
    statuses = {status for s in SCENARIOS.values() for status in s.expect}
    assert statuses >= {200, 400, 401, 403, 404, 422, 429, 503}
    reads = [s for s in SCENARIOS.values() if any(c.kind == "read" for c in s.calls(sandbox_target()))]
    assert {status for s in reads for status in s.expect} >= {200, 401, 403, 404, 422, 429}


def test_against_production_only_scenarios_that_deliver_nothing_run() -> None:
    target = production_target(token="t", invoice="i" * 24, location="l", user="u")
    runs = {name for name, s in SCENARIOS.items() if s.runs_on(target)}
    assert runs == {
        "send-manually-test-mode",
        "invalid-token-401",
        "unknown-invoice-404",
        "invalid-body-422",
        "read-draft",
        "read-invalid-token-401",
        "read-unknown-invoice-404",
        "read-invalid-query-422",
    }
    for name in runs:
        for call in SCENARIOS[name].calls(target):
            assert call.fault is None
            if call.kind == "read":
                continue  # a read changes nothing
            assert call.body["liveMode"] is False
            assert call.body["action"] in {"send_manually", "fax"}
