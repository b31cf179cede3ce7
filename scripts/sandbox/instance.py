"""One sandbox: its invoices, rate limiter, tokens, request validators and invoice faults, built from
its config. An app holds one as `app.state.sandbox`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from scripts.project import READ_PATH, SEND_PATH
from scripts.sandbox.auth import TokenRegistry
from scripts.sandbox.config import SPEC_PATH, SandboxConfig, SandboxError
from scripts.sandbox.invoice_faults import InvoiceFaults, load_fault_file
from scripts.sandbox.json_words import json_text
from scripts.sandbox.rate_limit import RateLimiter
from scripts.sandbox.state import SEED_LOCATIONS, Delivery, SandboxState, load_invoices, seed_invoices
from scripts.sandbox.validation import OperationValidator
from scripts.sandbox.webhooks import WebhookSender


@dataclass
class Sandbox:
    """Everything one sandbox app holds; reachable in-process as `app.state.sandbox`."""

    config: SandboxConfig
    state: SandboxState
    limiter: RateLimiter
    tokens: TokenRegistry
    validator: OperationValidator
    read_validator: OperationValidator
    faults: InvoiceFaults
    webhooks: WebhookSender | None = None

    @classmethod
    def from_config(cls, config: SandboxConfig) -> Sandbox:
        """Build the state from the seed and `config.invoices_file`.

        Raises:
            SandboxError: the invoices or faults file is unreadable or invalid, or a fault names an
                unknown invoice.
        """
        invoices = seed_invoices()
        if config.invoices_file is not None:
            seeded = {invoice["_id"] for invoice in invoices}
            extra = load_invoices(config.invoices_file)
            clashes = sorted(seeded.intersection(invoice["_id"] for invoice in extra))
            if clashes:
                raise SandboxError(f"{config.invoices_file}: _id {json_text(clashes[0])} is already a seeded invoice")
            invoices += extra
        faults = dict(config.faults)
        if config.faults_file is not None:
            from_file = load_fault_file(config.faults_file)
            clashes = sorted(faults.keys() & from_file.keys())
            if clashes:
                raise SandboxError(
                    f"{config.faults_file}: invoice {json_text(clashes[0])} already has a fault in the config"
                )
            faults.update(from_file)
        return cls(
            config=config,
            state=SandboxState(invoices, config.wall_clock),
            limiter=RateLimiter(config.burst_limit, config.burst_interval_ms, config.daily_limit, config.clock),
            tokens=TokenRegistry.for_sandbox(config.agency_token, config.location_token, SEED_LOCATIONS[0]),
            validator=OperationValidator(SPEC_PATH, SEND_PATH, "post"),
            read_validator=OperationValidator(SPEC_PATH, READ_PATH, "get"),
            faults=InvoiceFaults(faults, (invoice["_id"] for invoice in invoices), config.max_slow_seconds),
            webhooks=None
            if config.webhook_url is None
            else WebhookSender(config.webhook_url, config.webhook_faults, config.webhook_key_file),
        )

    def landed(self, invoice: dict[str, Any]) -> None:
        """A send landed (now, or a delayed one): its InvoiceSent goes out when webhooks are on."""
        if self.webhooks is not None:
            self.webhooks.sent(invoice)

    @property
    def outbox(self) -> tuple[Delivery, ...]:
        """Every email and SMS delivered since the last reset, oldest first."""
        return self.state.outbox

    @property
    def invoices(self) -> list[dict[str, Any]]:
        """Id, location, status and number of every invoice (what `GET /_sandbox/invoices` lists)."""
        return self.state.summaries()

    def reset(self) -> None:
        """Restore the seed, the invoices file and the startup faults; empty the outbox; forget rate-limit counts."""
        self.state.reset()
        self.limiter.reset()
        self.faults.reset()
