"""Running a scenario against a target with the generated client, sync or async, and checking that
each call got its expected status and model; where each scenario's cassette lives."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from leadway_invoices_client import AuthenticatedClient
from leadway_invoices_client.api.invoices import get_invoice, send_invoice
from leadway_invoices_client.models import AltType, ErrorResponse, Invoice, SendInvoiceRequest, SendInvoiceResponse

from contract_tests.scenarios import Call, Scenario
from contract_tests.targets import RecordingError, RecordingTarget

MODES = ("sync", "async")
VERSION = "2021-07-28"


@dataclass(frozen=True)
class Outcome:
    status: int
    parsed: object | None  # what the generated client parsed (None for raw calls)
    content: bytes = field(repr=False, default=b"")
    kind: str = "send"


def client_for(target: RecordingTarget, base_url: str, call: Call) -> AuthenticatedClient:
    headers = {"X-Sandbox-Fault": call.fault} if call.fault else {}
    # Retries off: a cassette must hold exactly the attempts the scenario made. Strict, as the whole
    # contract suite: an answer that deviates from the spec is not parsed.
    return AuthenticatedClient(
        base_url=base_url, token=target.tokens[call.role], headers=headers, retry=None, strict=True
    )


def _raw_kwargs(call: Call) -> dict[str, Any]:
    return {"json": call.body, "headers": {"Version": VERSION}}


def _read_kwargs(call: Call) -> dict[str, Any]:
    return {"alt_id": call.body["altId"], "alt_type": AltType(call.body["altType"])}


def run_sync(scenario: Scenario, target: RecordingTarget, base_url: str) -> list[Outcome]:
    outcomes: list[Outcome] = []
    for call in scenario.calls(target):
        with client_for(target, base_url, call) as client:
            if call.kind == "read" and call.raw:
                response = client.get_httpx_client().get(
                    f"/invoices/{call.invoice}", params=call.body, headers={"Version": VERSION}
                )
                outcomes.append(Outcome(response.status_code, None, response.content, "read"))
            elif call.kind == "read":
                answer = get_invoice.sync_detailed(call.invoice, client=client, **_read_kwargs(call))
                outcomes.append(Outcome(int(answer.status_code), answer.parsed, answer.content, "read"))
            elif call.raw:
                response = client.get_httpx_client().post(f"/invoices/{call.invoice}/send", **_raw_kwargs(call))
                outcomes.append(Outcome(response.status_code, None, response.content))
            else:
                detailed = send_invoice.sync_detailed(
                    call.invoice, client=client, body=SendInvoiceRequest.from_dict(call.body)
                )
                outcomes.append(Outcome(int(detailed.status_code), detailed.parsed, detailed.content))
    return outcomes


async def run_async(scenario: Scenario, target: RecordingTarget, base_url: str) -> list[Outcome]:
    outcomes: list[Outcome] = []
    for call in scenario.calls(target):
        async with client_for(target, base_url, call) as client:
            if call.kind == "read" and call.raw:
                response = await client.get_async_httpx_client().get(
                    f"/invoices/{call.invoice}", params=call.body, headers={"Version": VERSION}
                )
                outcomes.append(Outcome(response.status_code, None, response.content, "read"))
            elif call.kind == "read":
                answer = await get_invoice.asyncio_detailed(call.invoice, client=client, **_read_kwargs(call))
                outcomes.append(Outcome(int(answer.status_code), answer.parsed, answer.content, "read"))
            elif call.raw:
                response = await client.get_async_httpx_client().post(
                    f"/invoices/{call.invoice}/send", **_raw_kwargs(call)
                )
                outcomes.append(Outcome(response.status_code, None, response.content))
            else:
                detailed = await send_invoice.asyncio_detailed(
                    call.invoice, client=client, body=SendInvoiceRequest.from_dict(call.body)
                )
                outcomes.append(Outcome(int(detailed.status_code), detailed.parsed, detailed.content))
    return outcomes


def run(scenario: Scenario, target: RecordingTarget, base_url: str, mode: str) -> list[Outcome]:
    if mode == "sync":
        return run_sync(scenario, target, base_url)
    return asyncio.run(run_async(scenario, target, base_url))


def check_outcomes(scenario: Scenario, outcomes: Sequence[Outcome]) -> None:
    """Raise RecordingError unless every call got its expected status and parsed to the right model."""
    statuses = tuple(o.status for o in outcomes)
    if statuses != scenario.expect:
        raise RecordingError(f"{scenario.name}: expected statuses {scenario.expect}, got {statuses}")
    for outcome in outcomes:
        if outcome.parsed is None:
            continue
        success = Invoice if outcome.kind == "read" else SendInvoiceResponse
        expected = success if outcome.status == 200 else ErrorResponse
        if not isinstance(outcome.parsed, expected):
            parsed = type(outcome.parsed).__name__
            raise RecordingError(f"{scenario.name}: a {outcome.status} parsed as {parsed}, not {expected.__name__}")


def cassette_path(out: Path, target: RecordingTarget, mode: str, scenario: Scenario) -> Path:
    return out / target.name / mode / f"{scenario.name}.yaml"
