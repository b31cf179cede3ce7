"""What the send ledger keeps about a key, whatever store keeps it: the states, the record, how an
error and a reconciliation's evidence are stored, and the check of a key."""

from __future__ import annotations

import datetime as dt
import enum
import json
import unicodedata
from typing import TYPE_CHECKING, TypeGuard

import attrs

from .._runtime.errors import APIStatusError, LeadwayError
from .._runtime.text import plain
from .claims import Owner, alive
from .reconcile import Outcome, Reconciliation

if TYPE_CHECKING:  # a row of any store
    from .store import Row

MAX_KEY_LENGTH = 1024


class LedgerError(ValueError):
    """The ledger cannot be used as asked: its file (a directory, not a ledger, corrupt, written by a
    newer version), a key reused for another invoice, or a closed ledger. Raised before any I/O."""


class SendState(enum.StrEnum):
    """Where a key stands."""

    PENDING = "pending"
    """Intent recorded; being sent, or left by a send that was interrupted or whose invoice could
    not be read yet: reconciled by the next call."""
    SENT = "sent"
    """Sent (a 2xx, or reconciled as sent): never sent again."""
    NOT_SENT = "not_sent"
    """Provably not sent (a 4xx, a failure before any I/O, or reconciled): the next call sends it."""
    NEEDS_ATTENTION = "needs_attention"
    """The outcome could not be determined: never sent again until a person `resolve`s it."""
    REFUSED = "refused"
    """Not sent, and sending again would be refused again: the API refused it as asked (400, a paid
    or void invoice; 403; 404, no such invoice; 422), or the invoice no longer read `draft` before
    the key's first send. Left alone unless a send asks for it again (`retry_refused`)."""


@attrs.frozen
class LedgerRecord:
    """One key's entry, as a send left it.

    `skipped` is True when no request went out in this call: the key was already SENT, is being
    sent by someone else, NEEDS_ATTENTION, REFUSED, or its reconciliation left it unsettled.
    `status_code` is the status of the answer this call got to its send (None when none was sent or
    none answered); it is not stored.
    """

    key: str
    invoice_id: str
    alt_id: str
    state: SendState
    reason: str
    attempts: int
    evidence: Reconciliation | None = None
    skipped: bool = False
    status_code: int | None = None


def check_key(key: object) -> str:
    """`key` as a plain str in Unicode's composed form (NFC), if it can name a send; else TypeError
    or ValueError, before any I/O. The same key typed or exported another way (a spreadsheet may
    decompose an accent) names the same send."""
    if not isinstance(key, str):
        raise TypeError(f"a ledger key must be a str, not {type(key).__name__}")
    if not key:
        raise ValueError("a ledger key must not be empty")
    if len(key) > MAX_KEY_LENGTH:
        raise ValueError(f"a ledger key is at most {MAX_KEY_LENGTH} characters; got {len(key)}")
    try:
        key.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(f"ledger key {key!r} is not valid Unicode text (a lone surrogate)") from exc
    return unicodedata.normalize("NFC", str.__str__(key))


MAX_MESSAGE = 200
"""Characters of an API's refusal kept with the record: enough for "the invoice is void"."""
REFUSING_STATUSES = frozenset({400, 403, 404, 422})
"""The answers that refuse a send as asked: sending it again would be refused again."""


def describe(error: BaseException) -> str:
    """An error as the ledger stores it: its class, status and failure kind."""
    name = type(error).__name__
    status = getattr(error, "status_code", None)
    if status is not None:
        return f"{name} {status}"
    if error.__cause__ is not None:
        return f"{name} ({type(error.__cause__).__name__})"
    return name


def refused(error: BaseException) -> TypeGuard[APIStatusError]:
    """Whether the API refused the request as asked (see REFUSING_STATUSES)."""
    return isinstance(error, APIStatusError) and error.status_code in REFUSING_STATUSES


def refusal(error: APIStatusError) -> str:
    """A refusal as the ledger stores it: `describe`, and the API's own reason (the `message` of its
    error answer, which the client scrubbed of the token; printable, cut to MAX_MESSAGE characters):
    whether the invoice was paid, void or unknown."""
    text = "; ".join(error.message) if isinstance(error.message, list) else error.message
    return describe(error) + (f": {plain(text, MAX_MESSAGE)}" if text else "")


def record_of(row: Row) -> LedgerRecord:
    """A stored row as the ledger's record of its key."""
    return LedgerRecord(
        key=row["key"],
        invoice_id=row["invoice_id"],
        alt_id=row["alt_id"],
        state=SendState(row["state"]),
        reason=row["reason"],
        attempts=row["attempts"],
        evidence=decode_evidence(row["evidence"], row["invoice_id"]) if row["evidence"] else None,
    )


def owner_of(row: Row) -> tuple[Owner, str, float] | None:
    """Who holds the row's claim, the claim and its lease; None when no send holds it."""
    if row["owner_claim"] is None:
        return None
    held_by = Owner(row["owner_host"], row["owner_namespace"], row["owner_pid"], row["owner_start"])
    return held_by, row["owner_claim"], row["lease_until"]


def held(row: Row, now: float) -> bool:
    """Whether the row's claim is held by a live owner (see `claims.alive`): a send is under way. `now`
    is the store's clock (`Tx.clock`: a shared store's is the database's, whatever each host's says),
    the one its leases are written with."""
    found = owner_of(row)
    if found is None:
        return False
    held_by, claim, lease_until = found
    return alive(held_by, claim, lease_until, now)


def reconciled_not_sent(row: Row) -> bool:
    """Whether a NOT_SENT row's last word came from a reconciliation (its evidence says NOT_SENT): a
    reading that a slow send may have overtaken since."""
    if row["state"] != SendState.NOT_SENT or not row["evidence"]:
        return False
    record = record_of(row)
    return record.evidence is not None and record.evidence.outcome is Outcome.NOT_SENT


@attrs.frozen
class WebhookEvent:
    """A verified webhook delivery as the ledger keeps it: no body (it names the customer), only what
    settles a send and tells a duplicate."""

    webhook_id: str
    invoice_id: str
    event_type: str
    """The event's `type`, or `InvoiceSent` when the delivery names none (the receiver's only event)."""
    sent_at: str
    """The body's `timestamp` (HighLevel's clock), as `stamp` writes times."""
    received_at: str


@attrs.frozen
class WebhookOutcome:
    """What recording a delivery did: `new` (False: its webhookId was recorded before, nothing done
    again) and the records of the keys it settled as SENT."""

    event: WebhookEvent
    new: bool
    settled: tuple[LedgerRecord, ...] = ()


def stamp(moment: dt.datetime) -> str:
    """A time as stored: ISO 8601 with microseconds and its offset (UTC)."""
    return moment.isoformat(timespec="microseconds")


def encode_evidence(found: Reconciliation) -> str:
    """A reconciliation as stored: its outcome and what it read, as JSON."""
    return json.dumps(
        {
            "outcome": Outcome(found.outcome).value,
            "reason": found.reason,
            "before_status": found.before_status,
            "before_updated_at": found.before_updated_at,
            "after_status": found.after_status,
            "after_updated_at": found.after_updated_at,
            "reads": found.reads,
        }
    )


def decode_evidence(stored: str, invoice_id: str) -> Reconciliation:
    """The reconciliation `encode_evidence` stored for `invoice_id`."""
    kept = json.loads(stored)
    return Reconciliation(invoice_id=invoice_id, **{**kept, "outcome": Outcome(kept["outcome"])})


def unreconciled_state(error: LeadwayError | None, failure: Exception) -> tuple[SendState, str]:
    """Where a key stands when its reconciliation could not run, and why."""
    # Reconciliation itself failed (bad input it refused, a bug): stay PENDING, released, so the
    # next call tries again. Nothing is resent.
    cause = f"outcome unknown: {describe(error)}" if error else "left pending"
    return SendState.PENDING, f"{cause}; reconciliation failed: {describe(failure)}"


def reconciled_state(error: LeadwayError | None, found: Reconciliation) -> tuple[SendState, str]:
    """Where a key stands after its reconciliation found `found`, and why (`error`: the send's, or
    None for a key an interrupted send left pending)."""
    cause = f"outcome unknown: {describe(error)}" if error else "left pending by an interrupted send"
    outcome = Outcome(found.outcome)
    if outcome is Outcome.UNDETERMINED and found.after_status is None and found.read_again:
        # No read succeeded (network, 5xx, 429, a token without the read scope): nothing was
        # learnt about the invoice, so a later call reads again rather than asking a person.
        # A read refused as asked (404: no such invoice there) would be refused again: a
        # person decides (NEEDS_ATTENTION), or the key would stay pending for ever.
        return SendState.PENDING, f"{cause}; not reconciled yet: {found.reason}"
    state = {Outcome.SENT: SendState.SENT, Outcome.NOT_SENT: SendState.NOT_SENT}.get(outcome, SendState.NEEDS_ATTENTION)
    return state, f"{cause}; reconciled {outcome.name}: {found.reason}"
