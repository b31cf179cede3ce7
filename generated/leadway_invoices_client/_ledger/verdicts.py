"""What reads of an invoice prove about a send: the outcomes, the Reconciliation that carries them
with their evidence, and the rules that judge each read (see reconcile.py for how the reads are made).
"""

from __future__ import annotations

import datetime
import enum
import logging
from collections.abc import Callable, Iterator

import attrs

from .._runtime.call import Call
from .._runtime.client import AuthenticatedClient
from .._runtime.constants import LOGGER_NAME
from .._runtime.errors import (
    AuthenticationError,
    BadRequestError,
    LeadwayError,
    NotFoundError,
    PermissionDeniedError,
    UnprocessableEntityError,
)
from .._runtime.text import plain
from .._runtime.types import Unset
from .._runtime.validation import seconds
from ..api.invoices import get_invoice
from ..models.invoice import Invoice

logger = logging.getLogger(LOGGER_NAME)

# States a send leaves an invoice in, or that follow from one (a payment after the send).
SENT_OR_LATER = frozenset({"sent", "payment_processing", "paid", "partially_paid"})
# Read failures that another read will not cure.
_PERMANENT = (AuthenticationError, PermissionDeniedError, NotFoundError, BadRequestError, UnprocessableEntityError)
_WEBHOOK = "the InvoiceSent webhook (one delivery per send) is the remaining evidence"
READS_LIMIT = 100
# An hour: longer is a mistake (minutes given as seconds twice over), not a grace period.
MAX_GRACE_PERIOD = 3600.0


class Outcome(enum.StrEnum):
    """What reconciliation concluded about one send."""

    SENT = "sent"
    NOT_SENT = "not_sent"
    UNDETERMINED = "undetermined"


@attrs.frozen
class Reconciliation:
    """The outcome of one send and its evidence: the invoice's status and `updatedAt` before the
    send (when known) and at the last successful read."""

    outcome: Outcome
    invoice_id: str
    reason: str
    """One sentence saying why; no customer data, no token."""
    before_status: str | None
    before_updated_at: str | None
    after_status: str | None
    after_updated_at: str | None
    reads: int
    """Reads made (each `get_invoice` call, its own retries included in one)."""
    read_again: bool = False
    """True when no answer settled it but a later reconciliation may: the last read failed for a
    passing reason (timeout, dropped connection, 5xx, 429, an unusable answer) or for the token
    (401, 403: it may be fixed). False for an invoice that was read, and for a read refused as
    asked (400, 404, 422): reading again will not find another invoice."""


def text_of(value: object) -> str | None:
    """A status or time the answer held as the plain string it is (an enum member's value), or None."""
    if isinstance(value, enum.Enum):
        value = value.value
    return str.__str__(value) if isinstance(value, str) else None


def _timestamp(value: str | None) -> datetime.datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=datetime.UTC)


def _check_seconds(grace_period: object, max_reads: object) -> tuple[float, int]:
    grace = seconds("grace_period", grace_period, maximum=MAX_GRACE_PERIOD)
    if isinstance(max_reads, bool) or not isinstance(max_reads, int) or not 1 <= max_reads <= READS_LIMIT:
        raise ValueError(f"max_reads must be an int from 1 to {READS_LIMIT}, not {max_reads!r}")
    return grace, max_reads


def _check_optional_str(name: str, value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str or None, not {type(value).__name__}")
    return str.__str__(value)


MAX_KEPT = 64
"""Characters kept of a status or time an answer held: the API's are under 30; a longer one is cut."""


def _kept(redact: Callable[[str], str], value: str | None) -> str | None:
    """A string from an answer as a reconciliation keeps it: without the token, printable, bounded."""
    return None if value is None else plain(redact(value), MAX_KEPT)


@attrs.define
class Reading:
    """One reconciliation: its inputs, checked; its read of the invoice, prepared once; and the rules
    that judge each answer."""

    read: Call
    redact: Callable[[str], str]
    """The client's `redact`: a read's status or time is kept (stored, printed) without the token."""
    attempted_at: datetime.datetime | None
    before_status: str | None
    before_updated_at: str | None
    grace_period: float
    max_reads: int
    answered_2xx: bool = False
    reads: int = 0
    after_status: str | None = None
    after_updated_at: str | None = None
    failure: str | None = None

    @classmethod
    def build(
        cls,
        client: object,
        invoice_id: object,
        alt_id: object,
        alt_type: object,
        attempted_at: object,
        before_status: object,
        before_updated_at: object,
        grace_period: object,
        max_reads: object,
        answered_2xx: bool = False,
    ) -> Reading:
        if not isinstance(client, AuthenticatedClient):
            raise TypeError(f"client must be an AuthenticatedClient, not {type(client).__name__}")
        if attempted_at is not None:
            if not isinstance(attempted_at, datetime.datetime):
                raise TypeError(f"attempted_at must be a datetime or None, not {type(attempted_at).__name__}")
            if attempted_at.tzinfo is None or attempted_at.utcoffset() is None:
                raise ValueError("attempted_at must be timezone-aware (UTC), not a naive datetime")
        grace, reads = _check_seconds(grace_period, max_reads)
        return cls(
            # The id, location and alt type are checked (at run time, whatever their static type) as
            # the read takes them.
            read=get_invoice.prepare(invoice_id, alt_id=alt_id, alt_type=alt_type),  # type: ignore[arg-type]
            redact=client.redact,
            attempted_at=attempted_at,
            before_status=_kept(client.redact, _check_optional_str("before_status", before_status)),
            before_updated_at=_kept(client.redact, _check_optional_str("before_updated_at", before_updated_at)),
            grace_period=grace,
            max_reads=reads,
            answered_2xx=answered_2xx,
        )

    def offsets(self) -> Iterator[float]:
        """Seconds after the start at which each read is due: evenly over the grace period."""
        if self.max_reads == 1:
            yield self.grace_period
            return
        for index in range(self.max_reads):
            yield self.grace_period * index / (self.max_reads - 1)

    @property
    def invoice_id(self) -> str:
        return self.read.invoice_id

    def result(self, outcome: Outcome, reason: str, *, read_again: bool = False) -> Reconciliation:
        logger.info("reconcile invoice %s: %s after %d read(s): %s", self.invoice_id, outcome, self.reads, reason)
        return Reconciliation(
            outcome=outcome,
            invoice_id=self.invoice_id,
            reason=reason,
            before_status=self.before_status,
            before_updated_at=self.before_updated_at,
            after_status=self.after_status,
            after_updated_at=self.after_updated_at,
            reads=self.reads,
            read_again=read_again,
        )

    def judge_read(self, invoice: Invoice) -> Reconciliation | None:
        """SENT at once when the read shows the send; otherwise None (wait for the last read)."""
        self.failure = None
        if text_of(invoice.id) != self.invoice_id:
            self.failure = "the answer named another invoice"
            return None
        self.after_status = _kept(self.redact, text_of(invoice.status))
        updated = invoice.updated_at
        self.after_updated_at = None if isinstance(updated, Unset) else _kept(self.redact, text_of(updated))
        if self.after_status not in SENT_OR_LATER:
            return None
        if self.before_status == "draft":
            return self.result(Outcome.SENT, f"the invoice was draft before the send and now reads {self.after_status}")
        after = _timestamp(self.after_updated_at)
        before = _timestamp(self.before_updated_at)
        if after is not None and before is not None and after > before:
            why = f"it reads {self.after_status} and its updatedAt moved past the one read before"
            return self.result(Outcome.SENT, why)
        if after is not None and self.attempted_at is not None and after > self.attempted_at:
            return self.result(Outcome.SENT, f"it reads {self.after_status}, updated after the send was attempted")
        return None

    def judge_failure(self, error: LeadwayError) -> Reconciliation | None:
        """UNDETERMINED at once for a failure no later read cures; otherwise None (read again)."""
        status = f" {error.status_code}" if error.status_code is not None else ""
        self.failure = f"the read failed ({type(error).__name__}{status})"
        if isinstance(error, _PERMANENT):
            return self.result(
                Outcome.UNDETERMINED,
                f"{self.failure}, and reading again will not help",
                read_again=isinstance(error, (AuthenticationError, PermissionDeniedError)),
            )
        return None

    def final(self) -> Reconciliation:
        """The answer once the last read is in."""
        if self.failure is not None:
            return self.result(Outcome.UNDETERMINED, f"at the end of the grace period {self.failure}", read_again=True)
        status = self.after_status
        if status == "draft":
            if self.answered_2xx:
                return self.result(
                    Outcome.UNDETERMINED, "the API answered the send with a 2xx, yet the invoice still reads draft"
                )
            return self.result(Outcome.NOT_SENT, "the invoice still reads draft after the grace period")
        if status in SENT_OR_LATER:
            if self.before_status in SENT_OR_LATER:
                why = f"it was already {self.before_status} before the send and nothing visible changed"
            else:
                why = f"it reads {status}, but nothing shows that it changed after the send was attempted"
            return self.result(Outcome.UNDETERMINED, f"{why}; {_WEBHOOK}")
        shown = repr(status[:40]) if status is not None else "no status"
        return self.result(Outcome.UNDETERMINED, f"the invoice reads {shown}, which a send does not produce")
