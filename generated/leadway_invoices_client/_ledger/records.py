"""What the send ledger keeps about a key, whatever store keeps it: the states, the record, how an
error and a reconciliation's evidence are stored, and the check of a key."""

from __future__ import annotations

import datetime as dt
import enum
import json

import attrs

from .._runtime.errors import LeadwayError
from .reconcile import Outcome, Reconciliation

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


@attrs.frozen
class LedgerRecord:
    """One key's entry, as a send left it.

    `skipped` is True when no request went out in this call: the key was already SENT, is being
    sent by someone else, NEEDS_ATTENTION, or its reconciliation left it unsettled.
    """

    key: str
    invoice_id: str
    alt_id: str
    state: SendState
    reason: str
    attempts: int
    evidence: Reconciliation | None = None
    skipped: bool = False


def check_key(key: object) -> str:
    """`key` as a plain str, if it can name a send; else TypeError or ValueError, before any I/O."""
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
    return str.__str__(key)


def describe(error: BaseException) -> str:
    """An error as the ledger stores it: its class, status and failure kind, never a server's text
    (an answer's message could quote customer data)."""
    name = type(error).__name__
    status = getattr(error, "status_code", None)
    if status is not None:
        return f"{name} {status}"
    if error.__cause__ is not None:
        return f"{name} ({type(error.__cause__).__name__})"
    return name


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
