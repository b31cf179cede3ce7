"""The recorded cassettes: complete, replayable offline, valid against the spec, and clean.

* Every scenario of `contract_tests/scenarios.py` (sends and reads) has a sync and an async cassette,
  and nothing else is in the folder.
* Replaying each one with record mode `none` and the network blocked, the generated client gets
  exactly the recorded answers, parses them to the right model, and its raising call turns each
  error status into the right typed error.
* Every recorded request is validated by openapi-core and every recorded response by schemathesis's
  offline checks. Only the 422 scenario's request breaks the spec, and it must.
* No cassette holds a token, or an email, phone, name or address that is not a placeholder, or any
  of the sandbox's seeded customer data.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import vcr
from leadway_invoices_client import AuthenticatedClient, errors
from leadway_invoices_client.api.invoices import get_invoice, send_invoice
from leadway_invoices_client.models import AltType, SendInvoiceRequest

from contract_tests import CASSETTES, CONTRACT_TOKEN_ENV
from contract_tests.exchanges import ContractChecker, Exchange, iter_cassettes, load_cassette
from contract_tests.runner import MODES, cassette_path, check_outcomes, client_for, run
from contract_tests.scenarios import SCENARIOS, Scenario
from contract_tests.scrub import AUTHORIZATION_PLACEHOLDER, find_leaks_in_text
from contract_tests.targets import sandbox_target
from scripts.sandbox import SPEC_SERVER_URL as SANDBOX_URL

TARGET = sandbox_target()
RECORDED = [(s, mode) for s in SCENARIOS.values() if s.runs_on(TARGET) for mode in MODES]
ALL_CASSETTES = iter_cassettes()
SEED = Path(__file__).resolve().parent.parent / "scripts" / "sandbox" / "seed.json"


def _ids(value: Any) -> str:
    if isinstance(value, Scenario):
        return value.name
    if isinstance(value, Path):
        return str(value.relative_to(CASSETTES))
    return str(value)


@pytest.fixture(scope="module")
def checker() -> ContractChecker:
    return ContractChecker()


def test_every_scenario_has_a_sync_and_an_async_cassette_and_nothing_else_is_there() -> None:
    expected = {cassette_path(CASSETTES, TARGET, mode, scenario) for scenario, mode in RECORDED}
    sandbox = {p for p in ALL_CASSETTES if p.relative_to(CASSETTES).parts[0] == "sandbox"}
    assert sorted(expected - sandbox) == [], "missing: run `scripts/nox -s record`"
    assert sorted(sandbox - expected) == [], "stale cassettes of scenarios that no longer exist"
    assert len(expected) >= 40


# --- replay --------------------------------------------------------------------------------------


def replaying(path: Path, match_on: tuple[str, ...] = ("method", "scheme", "host", "port", "path", "query")) -> Any:
    # Record mode none: a request without its recorded twin raises instead of reaching any server.
    return vcr.VCR(record_mode="none", match_on=match_on).use_cassette(str(path), allow_playback_repeats=False)


@pytest.mark.block_network
@pytest.mark.parametrize(("scenario", "mode"), RECORDED, ids=_ids)
def test_the_client_replays_each_cassette_offline(scenario: Scenario, mode: str) -> None:
    with replaying(cassette_path(CASSETTES, TARGET, mode, scenario)) as cassette:
        outcomes = run(scenario, TARGET, SANDBOX_URL, mode)
        assert cassette.all_played, "the scenario made fewer calls than were recorded"
    check_outcomes(scenario, outcomes)
    for outcome, exchange in zip(
        outcomes, load_cassette(cassette_path(CASSETTES, TARGET, mode, scenario)), strict=True
    ):
        assert outcome.content == exchange.response_body


TYPED_ERRORS: dict[int, type[Exception]] = {
    400: errors.BadRequestError,
    401: errors.AuthenticationError,
    403: errors.PermissionDeniedError,
    404: errors.NotFoundError,
    422: errors.UnprocessableEntityError,
    429: errors.RateLimitError,
    503: errors.ServerError,
}
SINGLE_ERRORS = [s for s in SCENARIOS.values() if s.runs_on(TARGET) and len(s.expect) == 1 and s.expect[0] != 200]


@pytest.mark.block_network
@pytest.mark.parametrize("scenario", SINGLE_ERRORS, ids=_ids)
def test_the_raising_call_turns_each_recorded_error_into_its_typed_error(scenario: Scenario) -> None:
    [call] = scenario.calls(TARGET)

    def raising_call(client: AuthenticatedClient) -> object:
        if call.kind == "read":
            return get_invoice.sync(call.invoice, client=client, alt_id=TARGET.location, alt_type=AltType.LOCATION)
        body = SendInvoiceRequest.from_dict({**call.body, "userId": TARGET.user, "action": "email"})
        return send_invoice.sync(call.invoice, client=client, body=body)

    # The cassette matches on method and path, so a well-formed body (or a read's full query)
    # replays the recorded answer too.
    with (
        replaying(cassette_path(CASSETTES, TARGET, "sync", scenario), match_on=("method", "path")),
        client_for(TARGET, SANDBOX_URL, call) as client,
        pytest.raises(TYPED_ERRORS[scenario.expect[0]]) as caught,
    ):
        raising_call(client)
    assert isinstance(caught.value, errors.APIStatusError)
    assert caught.value.method == ("GET" if call.kind == "read" else "POST")
    assert caught.value.status_code == scenario.expect[0]
    # The token never shows in what a caller would log.
    assert TARGET.tokens[call.role] not in str(caught.value)
    assert TARGET.tokens[call.role] not in repr(caught.value)


# --- validation against the spec -----------------------------------------------------------------


def exchanges() -> Iterator[Exchange]:
    for path in ALL_CASSETTES:
        yield from load_cassette(path)


@pytest.mark.parametrize("path", ALL_CASSETTES, ids=_ids)
def test_every_recorded_exchange_conforms_to_the_spec(checker: ContractChecker, path: Path) -> None:
    for exchange in load_cassette(path):
        assert checker.response_problems(exchange) == []
        request_problems = checker.request_problems(exchange)
        if exchange.status == 422:
            # The API refused the request as invalid; the spec must agree that it is.
            assert request_problems, f"{exchange.where}: a 422 for a request the spec accepts"
        else:
            assert request_problems == []


# --- scrubbing -----------------------------------------------------------------------------------


def _seed_pii() -> set[str]:
    """Every customer and business value of the sandbox seed that must never reach a cassette."""
    seed = json.loads(SEED.read_text(encoding="utf-8"))
    invoices = seed["invoices"] if isinstance(seed, dict) else seed
    values: set[str] = set()

    def collect(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in {"email", "phoneNo", "name", "addressLine1", "addressLine2", "city", "postalCode"} and value:
                    values.add(str(value))
                collect(value)

    for invoice in invoices:
        collect(invoice.get("contactDetails"))
        collect(invoice.get("businessDetails"))
    return values


SECRETS = [*TARGET.secrets, os.environ.get(CONTRACT_TOKEN_ENV, "")]


@pytest.mark.parametrize("path", ALL_CASSETTES, ids=_ids)
def test_no_cassette_holds_a_token_or_unscrubbed_pii(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    for secret in filter(None, SECRETS):
        assert secret not in text, f"{path.name} holds a token"
    for value in _seed_pii():
        assert value not in text, f"{path.name} holds seeded customer data"
    for exchange in load_cassette(path):
        assert exchange.request_headers["authorization"] == AUTHORIZATION_PLACEHOLDER
        assert "cookie" not in exchange.request_headers
        assert "set-cookie" not in exchange.response_headers
        leaks = find_leaks_in_text(exchange.request_body.decode() if exchange.request_body else "", "request", SECRETS)
        leaks += find_leaks_in_text(exchange.response_body.decode(), "response", SECRETS)
        for name, value in {**exchange.request_headers, **exchange.response_headers}.items():
            leaks += find_leaks_in_text(value, f"header {name}", SECRETS)
        assert leaks == [], f"{exchange.where}: {leaks}"


def test_the_leak_check_sees_what_the_cassettes_would_leak(tmp_path: Path) -> None:
    # The check above must be able to fail: the same cassette with real data in it is caught.
    source = cassette_path(CASSETTES, TARGET, "sync", SCENARIOS["sent-from"])
    leaked = source.read_text(encoding="utf-8").replace("person-1@example.invalid", "alex@example.com")
    leaked = leaked.replace("Bearer REDACTED", f"Bearer {TARGET.tokens['agency']}")
    path = tmp_path / "leaked.yaml"
    path.write_text(leaked, encoding="utf-8")
    with pytest.raises(AssertionError, match="holds a token"):
        test_no_cassette_holds_a_token_or_unscrubbed_pii(path)
    path.write_text(leaked.replace(f"Bearer {TARGET.tokens['agency']}", "Bearer REDACTED"), encoding="utf-8")
    with pytest.raises(AssertionError, match="seeded customer data"):
        test_no_cassette_holds_a_token_or_unscrubbed_pii(path)
