"""Leadway invoices: a typed client for sending an invoice and reading it back, a send ledger that sends
each invoice once, and reconciliation of sends whose outcome is unknown.

The names below are the public API. `api/` and `models/` are generated from spec/openapi.yaml; the
client runtime every call passes through is `_runtime/`; the send ledger and reconciliation `_ledger/`;
bulk sending `_bulk/`; the command line `cli/` (the `[cli]` extra).
"""

from ._ledger.ledger import LedgerRecord, SendLedger, SendState
from ._ledger.reconcile import Outcome, Reconciliation, areconcile, areconcile_send, reconcile, reconcile_send
from ._ledger.records import LedgerError
from ._runtime.auth import TokenProvider
from ._runtime.client import DEFAULT_RETRY, AuthenticatedClient
from ._runtime.constants import DEFAULT_API_VERSION, DEFAULT_TIMEOUT, LOGGER_NAME
from ._runtime.errors import (
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    ContractViolationError,
    LeadwayError,
    NotFoundError,
    OutcomeUnknownError,
    PermissionDeniedError,
    RateLimit,
    RateLimitError,
    ServerError,
    TokenError,
    TransportError,
    UnexpectedStatusError,
    UnprocessableEntityError,
)
from ._runtime.pacing import Pacer
from ._runtime.parsing import Deviation
from ._runtime.retry import RetryPolicy
from ._runtime.version import __version__

__all__ = (
    "DEFAULT_API_VERSION",
    "DEFAULT_RETRY",
    "DEFAULT_TIMEOUT",
    "LOGGER_NAME",
    "APIStatusError",
    "AuthenticatedClient",
    "AuthenticationError",
    "BadRequestError",
    "ContractViolationError",
    "Deviation",
    "LeadwayError",
    "LedgerError",
    "LedgerRecord",
    "NotFoundError",
    "Outcome",
    "OutcomeUnknownError",
    "Pacer",
    "PermissionDeniedError",
    "RateLimit",
    "RateLimitError",
    "Reconciliation",
    "RetryPolicy",
    "SendLedger",
    "SendState",
    "ServerError",
    "TokenError",
    "TokenProvider",
    "TransportError",
    "UnexpectedStatusError",
    "UnprocessableEntityError",
    "__version__",
    "areconcile",
    "areconcile_send",
    "reconcile",
    "reconcile_send",
)
