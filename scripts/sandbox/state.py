"""The sandbox's invoices and outbox, and the business rules of a send."""

from __future__ import annotations

import copy
import datetime as dt
import functools
import json
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from openapi_schema_validator import OAS31Validator

from scripts.sandbox.auth import FORBIDDEN_MESSAGE, Grant
from scripts.sandbox.config import SPEC_PATH, SandboxError
from scripts.sandbox.json_words import json_text, schema_message

SEED_PATH = Path(__file__).with_name("seed.json")

#: The two seeded locations; the first is the Leadway page's example id.
SEED_LOCATIONS: tuple[str, str] = ("6578278e879ad2646715ba9c", "65782a3c879ad2646715bb11")
#: A draft in the first location: the Leadway page's example invoice (its id is the spec's example id).
DRAFT_INVOICE_ID = "6578278e879ad2646715ba9c"
#: A second draft in the first location, whose contact has an additional email address.
SECOND_DRAFT_INVOICE_ID = "6578278e879ad2646715ba9d"
#: A paid invoice in the first location (a send is refused with 400).
PAID_INVOICE_ID = "6578278e879ad2646715ba9e"
#: A draft in the second location (the location token gets 403 on it).
OTHER_LOCATION_DRAFT_ID = "65782a3c879ad2646715bb12"
#: A void invoice in the second location (a send is refused with 400).
VOID_INVOICE_ID = "65782a3c879ad2646715bb14"
#: A user id for the `userId` field (the Leadway page's example; the sandbox accepts any non-empty id).
SEED_USER_ID = "6578278e879ad2646715ba9c"

_INVOICE_ID = re.compile(r"^[0-9a-fA-F]{24}$")
#: The Leadway example's creation time: `fixed_clock` stays there, so stamps are reproducible.
EPOCH = dt.datetime(2023, 12, 12, 9, 27, 42, 355000, tzinfo=dt.UTC)
# Every `updatedAt` a send writes is at least this much later than the one before.
_TICK = dt.timedelta(milliseconds=1)


def wall_clock() -> dt.datetime:
    """The real time (UTC): the default, so `updatedAt` after a send is later than the send's attempt,
    as upstream's is."""
    return dt.datetime.now(dt.UTC)


def fixed_clock() -> dt.datetime:
    """A clock that never moves: with the 1 ms tick per send, the same requests after a reset give
    byte-identical answers (cassettes, determinism tests)."""
    return EPOCH


_DEFAULT_SENDER_EMAIL = "invoices@leadway-sandbox.invalid"


@dataclass(frozen=True)
class Delivery:
    """One email or SMS the sandbox pretended to deliver."""

    sequence: int
    invoice_id: str
    invoice_number: str
    location_id: str
    channel: Literal["email", "sms"]
    recipient: str
    live_mode: bool

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of `GET /_sandbox/outbox` (camelCase, like the API)."""
        return {
            "sequence": self.sequence,
            "invoiceId": self.invoice_id,
            "invoiceNumber": self.invoice_number,
            "locationId": self.location_id,
            "channel": self.channel,
            "recipient": self.recipient,
            "liveMode": self.live_mode,
        }


class SendRefused(Exception):
    """A send the API refuses: `status_code` is the HTTP status, `message` the client-facing reason."""

    def __init__(self, status_code: int, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message


@dataclass(frozen=True)
class SendResult:
    """A successful send: the three keys of the spec's SendInvoiceResponse."""

    invoice: dict[str, Any]
    sms_data: dict[str, Any]
    email_data: dict[str, Any]

    def to_response(self) -> dict[str, Any]:
        """The 200 body."""
        return {"invoice": self.invoice, "smsData": self.sms_data, "emailData": self.email_data}


@functools.cache
def _invoice_validator() -> OAS31Validator:
    spec = yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))
    # The components travel with the schema so its `$ref`s resolve inside this one document.
    return OAS31Validator({"$ref": "#/components/schemas/Invoice", "components": spec["components"]})


def check_invoices(invoices: Any, source: str) -> list[dict[str, Any]]:
    """Check a list of invoices against the spec's Invoice schema, so that every answer built from
    them conforms too; ids must be addressable (24 hex characters) and unique.

    Raises:
        SandboxError: naming `source`, the invoice and the first problem.
    """
    if not isinstance(invoices, list):
        raise SandboxError(f'{source}: expected a list of invoices (or {{"invoices": [...]}})')
    seen: set[str] = set()
    checked: list[dict[str, Any]] = []
    for index, invoice in enumerate(invoices):
        where = f"{source}: invoice #{index + 1}"
        errors = sorted(_invoice_validator().iter_errors(invoice), key=lambda e: list(e.path))
        if errors:
            path = "/".join(str(p) for p in errors[0].path)
            raise SandboxError(f"{where}{f' at {path}' if path else ''}: {schema_message(errors[0])}")
        invoice_id = invoice["_id"]
        if not _INVOICE_ID.match(invoice_id):
            raise SandboxError(
                f"{where}: _id {json_text(invoice_id)} must be 24 hexadecimal characters, like the API's ids"
            )
        if invoice_id in seen:
            raise SandboxError(f"{where}: duplicate _id {json_text(invoice_id)}")
        seen.add(invoice_id)
        checked.append(invoice)
    return checked


def load_invoices(path: Path) -> list[dict[str, Any]]:
    """Read invoices from a JSON file: `{"invoices": [...]}` (like seed.json) or a bare list.

    Raises:
        SandboxError: unreadable file, invalid JSON, or an invoice breaking the spec.
    """
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SandboxError(f"cannot read invoices file {path}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise SandboxError(f"invoices file {path} is not UTF-8 text: {exc.reason}") from exc
    except json.JSONDecodeError as exc:
        raise SandboxError(f"invoices file {path} is not valid JSON: {exc}") from exc
    if isinstance(document, dict) and "invoices" in document:
        document = document["invoices"]
    return check_invoices(document, str(path))


def seed_invoices() -> list[dict[str, Any]]:
    """The seeded invoices (`seed.json`)."""
    return load_invoices(SEED_PATH)


class SandboxState:
    """In-memory invoices and outbox. Thread-safe: the served app and a test may use it at once."""

    def __init__(self, initial: Sequence[Mapping[str, Any]], clock: Callable[[], dt.datetime] = wall_clock) -> None:
        self._initial = copy.deepcopy([dict(invoice) for invoice in initial])
        ids = [invoice["_id"] for invoice in self._initial]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise SandboxError(f"invoice ids must be unique; duplicated: {', '.join(duplicates)}")
        self._lock = threading.Lock()
        self._clock = clock
        self._invoices: dict[str, dict[str, Any]] = {}
        self._outbox: list[Delivery] = []
        self._last_stamp = EPOCH
        # Bumped by reset(): a `delayed-send` scheduled before a reset does not land after it.
        self.generation = 0
        self.reset()

    def reset(self) -> None:
        """Restore the initial invoices and empty the outbox."""
        with self._lock:
            self._invoices = {invoice["_id"]: copy.deepcopy(invoice) for invoice in self._initial}
            self._outbox = []
            self._last_stamp = EPOCH
            self.generation += 1

    @property
    def outbox(self) -> tuple[Delivery, ...]:
        """Every delivery since the last reset, oldest first."""
        with self._lock:
            return tuple(self._outbox)

    def deliveries_for(self, invoice_id: str) -> tuple[Delivery, ...]:
        """The deliveries of one invoice, oldest first."""
        return tuple(d for d in self.outbox if d.invoice_id == invoice_id)

    def invoice(self, invoice_id: str) -> dict[str, Any] | None:
        """A copy of one invoice, or None."""
        with self._lock:
            found = self._invoices.get(invoice_id)
            return copy.deepcopy(found) if found is not None else None

    def summaries(self) -> list[dict[str, Any]]:
        """What `GET /_sandbox/invoices` lists: id, location, status and number of every invoice."""
        with self._lock:
            return [
                {"id": i["_id"], "location": i["altId"], "status": i["status"], "invoiceNumber": i["invoiceNumber"]}
                for i in self._invoices.values()
            ]

    def read(self, invoice_id: str, alt_id: str, grant: Grant) -> dict[str, Any]:
        """`GET /invoices/{invoiceId}`: a copy of the invoice, checked like a send.

        Raises:
            SendRefused: 404 unknown invoice; 403 token without access to the invoice's location (or
                to `altId`); 404 `altId` is not the invoice's location.
        """
        with self._lock:
            return copy.deepcopy(self._find(invoice_id, alt_id, grant))

    def _find(self, invoice_id: str, alt_id: str, grant: Grant) -> dict[str, Any]:
        invoice = self._invoices.get(invoice_id)
        if invoice is None:
            raise SendRefused(404, "Invoice not found")
        location = invoice["altId"]
        if not grant.allows(location) or not grant.allows(alt_id):
            raise SendRefused(403, FORBIDDEN_MESSAGE)
        if alt_id != location:
            # Upstream looks invoices up by id within the location, so another location's invoice
            # is as absent as an unknown one.
            raise SendRefused(404, "Invoice not found")
        return invoice

    def send(self, invoice_id: str, body: Mapping[str, Any], grant: Grant, generation: int | None = None) -> SendResult:
        """Apply a schema-valid send request; the checks run in the order a real API would.

        Raises:
            SendRefused: 404 unknown invoice; 403 token without access to the invoice's location (or to
                `altId`); 404 `altId` is not the invoice's location; 400 invoice void or paid, or no
                address for a requested channel; 409 a `delayed-send` (scheduled in `generation`)
                landing after a reset.
        """
        with self._lock:
            if generation is not None and generation != self.generation:
                raise SendRefused(409, "The sandbox was reset before this delayed send landed")
            invoice = self._find(invoice_id, body["altId"], grant)
            if invoice["status"] == "void":
                raise SendRefused(400, "Invoice is void and cannot be sent")
            if invoice["status"] == "paid":
                raise SendRefused(400, "Invoice is already paid and cannot be sent")
            action = body["action"]
            email_to = _email_recipients(invoice) if action in ("email", "sms_and_email") else []
            sms_to = _sms_recipient(invoice) if action in ("sms", "sms_and_email") else None
            return self._commit(invoice, body, email_to, sms_to)

    def _commit(
        self, invoice: dict[str, Any], body: Mapping[str, Any], email_to: list[str], sms_to: str | None
    ) -> SendResult:
        # Strictly later than the last stamp, whatever the clock says (a fixed clock, a clock step back).
        self._last_stamp = max(self._clock().astimezone(dt.UTC), self._last_stamp + _TICK)
        stamp = self._last_stamp.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        # Payment states survive a resend (a reminder does not unpay an invoice); drafts become sent.
        # A send moves `updatedAt`; no source shows a separate send time on the invoice.
        if invoice["status"] in ("draft", "sent"):
            invoice["status"] = "sent"
        invoice["liveMode"] = body["liveMode"]
        invoice["updatedAt"] = stamp
        live_mode = bool(body["liveMode"])
        number = str(invoice["invoiceNumber"])
        business = str(invoice["businessDetails"].get("name", "Leadway"))

        def deliver(channel: Literal["email", "sms"], recipient: str) -> None:
            delivery = Delivery(
                sequence=len(self._outbox) + 1,
                invoice_id=invoice["_id"],
                invoice_number=number,
                location_id=invoice["altId"],
                channel=channel,
                recipient=recipient,
                live_mode=live_mode,
            )
            self._outbox.append(delivery)

        for to in email_to:
            deliver("email", to)
        # No source documents the keys of emailData and smsData (all show `{}`): these are the
        # sandbox's own, and carry no send time (no source shows one).
        email_data: dict[str, Any] = {}
        if email_to:
            sender = body.get("sentFrom") or {}
            email_data = {
                "to": email_to,
                "fromName": sender.get("fromName", business),
                "fromEmail": sender.get("fromEmail", _DEFAULT_SENDER_EMAIL),
                "subject": f"Invoice #{number} from {business}",
            }
        sms_data: dict[str, Any] = {}
        if sms_to is not None:
            deliver("sms", sms_to)
            amount = f"{invoice['currency']} {invoice.get('amountDue', invoice.get('total', 0))}"
            sms_data = {
                "to": sms_to,
                "message": f"{business} sent you invoice #{number} for {amount}.",
            }
        return SendResult(copy.deepcopy(invoice), sms_data, email_data)


def _email_recipients(invoice: Mapping[str, Any]) -> list[str]:
    contact = invoice["contactDetails"]
    recipients = [contact["email"]] if contact.get("email") else []
    recipients += [extra["email"] for extra in contact.get("additionalEmails", []) if extra.get("email")]
    if not recipients:
        raise SendRefused(400, "The invoice's contact has no email address")
    return recipients


def _sms_recipient(invoice: Mapping[str, Any]) -> str:
    phone = invoice["contactDetails"].get("phoneNo")
    if not phone:
        raise SendRefused(400, "The invoice's contact has no phone number")
    return str(phone)
