"""The error tree of the client, the one place that maps an answer or a network failure to it, and
the one place that decides what a failure proves about sending.

Sending an invoice is not idempotent, so every error says whether the request provably did not
run (`safe_to_retry`): only then may the caller send again without checking the invoice first.
"""

from __future__ import annotations

import datetime
import json
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, ClassVar, TypeGuard

import httpx

from . import wire
from .parsing import Reader
from .wire import RateLimit as RateLimit

if TYPE_CHECKING:  # for annotations only: the generated operations hand the model in
    from ..models.error_response import ErrorResponse

# What a generated `from_dict` raises on an answer that breaks the spec (missing key, wrong type,
# not an object), and what json.loads raises on a truncated or non-JSON body (JSONDecodeError and
# UnicodeDecodeError are ValueErrors). Caught where the answer is parsed, turned into
# ContractViolationError.
CONTRACT_ERRORS = (KeyError, TypeError, ValueError, AttributeError, RecursionError)

# Failures that happen before a single byte of the request leaves the machine: the request cannot
# have run, whatever the method. UnsupportedProtocol and ProxyError stop before the origin is
# contacted; a connect or pool timeout before a connection exists.
NOT_SENT: tuple[type[httpx.RequestError], ...] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.UnsupportedProtocol,
    httpx.ProxyError,
)
# Failures after the request may have been written: harmless to repeat only for an idempotent call.
MAYBE_SENT: tuple[type[httpx.RequestError], ...] = (
    httpx.ReadTimeout,
    httpx.WriteTimeout,
    httpx.ReadError,
    httpx.WriteError,
    httpx.RemoteProtocolError,
)

_MAX_MESSAGE = 200
# A 2xx is read from the bytes as sent; when it echoed the token, the transport files a copy without
# it in the answer's extensions under this key, and an error made from the answer carries the copy.
REDACTED_COPY = "leadway_invoices_client.redacted_copy"


def _rebuild(cls: type[LeadwayError], message: str) -> LeadwayError:
    # Pickle and copy rebuild an error without calling its __init__ (whose arguments they do not
    # have); the attributes come back through __dict__.
    error = cls.__new__(cls)
    Exception.__init__(error, message)
    return error


class LeadwayError(Exception):
    """Base of every error this client raises (besides ValueError for invalid arguments).

    `str()` stays short: status, method, invoice id and message. The full answer, when there is one,
    is on `response`; the token is never part of any of it.
    """

    safe_to_retry: ClassVar[bool] = False
    """True only when the request provably did not run, so sending again cannot double-send."""

    status_code: int | None = None
    response: httpx.Response | None = None

    def __init__(
        self,
        summary: str,
        *,
        method: str = "POST",
        invoice_id: str | None = None,
        alt_id: str | None = None,
        alt_type: str | None = None,
        attempted_at: datetime.datetime | None = None,
    ) -> None:
        # The plain string the URL got, also for a str subclass or a str-valued Enum member.
        invoice_id = str.__str__(invoice_id) if isinstance(invoice_id, str) else invoice_id
        self.method = method
        self.invoice_id = invoice_id
        # What reconcile() needs to read the invoice again: the location the request named (the
        # send's body or the read's query) and when the call began (UTC). Never the token, never
        # any other field of the body.
        self.alt_id = str.__str__(alt_id) if isinstance(alt_id, str) else None
        self.alt_type = str.__str__(alt_type) if isinstance(alt_type, str) else None
        self.attempted_at = attempted_at
        where = f"{method} invoice {invoice_id}" if invoice_id is not None else method
        super().__init__(f"{where}: {summary}")

    @property
    def rate_limit(self) -> RateLimit | None:
        """The answer's rate-limit headers, or None when no answer arrived."""
        return RateLimit.from_headers(self.response.headers) if self.response is not None else None

    @property
    def content(self) -> bytes | None:
        """The raw body of the answer, or None when no answer arrived."""
        return self.response.content if self.response is not None else None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), str(self)), dict(self.__dict__))


class TransportError(LeadwayError):
    """The request never reached the server (connection refused, DNS, connect or pool timeout).

    Nothing was sent, so it is safe to send again; the client already retried it per its RetryPolicy.
    """

    safe_to_retry = True


class TokenError(TransportError):
    """The token a token provider returned cannot go into a header (not a string, empty, or holding
    spaces, line breaks or other characters outside visible ASCII). Nothing was sent; the token is
    not shown."""


class OutcomeUnknownError(LeadwayError):
    """The server may have processed the request: read timeout, connection dropped after sending,
    a 5xx or an undocumented status. Never retried automatically: check the invoice before
    sending again, or the customer may get the invoice twice.
    """


class ContractViolationError(LeadwayError):
    """A success status whose body breaks the spec (not JSON, truncated, HTML, wrong shape).

    The status says the invoice was sent, so do not send it again; `reason` says what broke and
    `response` keeps the raw answer.
    """

    def __init__(
        self, response: httpx.Response, reason: str, *, method: str, invoice_id: str | None, **context: Any
    ) -> None:
        response = response.extensions.get(REDACTED_COPY, response)
        self.response = response
        self.status_code = response.status_code
        self.reason = reason
        super().__init__(
            f"{response.status_code} answer breaks the spec: {reason}", method=method, invoice_id=invoice_id, **context
        )


class APIStatusError(LeadwayError):
    """An error status. `body` is the parsed ErrorResponse (None when the body is not one);
    `message` its message, a string or (for 422) a list of strings."""

    response: httpx.Response
    status_code: int

    def __init__(
        self,
        response: httpx.Response,
        body: ErrorResponse | None,
        *,
        method: str,
        invoice_id: str | None,
        **context: Any,
    ) -> None:
        self.response = response
        self.status_code = response.status_code
        self.body = body
        self.message: str | list[str] | None = wire.error_message(_json_or_none(response))
        super().__init__(self._summary(), method=method, invoice_id=invoice_id, **context)

    def _summary(self) -> str:
        try:
            phrase = HTTPStatus(self.status_code).phrase
        except ValueError:
            phrase = "Unknown Status"
        text = "; ".join(self.message) if isinstance(self.message, list) else self.message
        if text and len(text) > _MAX_MESSAGE:
            text = text[: _MAX_MESSAGE - 3] + "..."
        return f"{self.status_code} {phrase}" + (f": {text}" if text else "")


class BadRequestError(APIStatusError):
    """400: a business rule refused the send (for example the invoice is void or paid)."""


class AuthenticationError(APIStatusError):
    """401: the token is missing, expired or revoked. Nothing was sent."""

    safe_to_retry = True


class PermissionDeniedError(APIStatusError):
    """403: the token has no access to the invoice's location or lacks the scope."""


class NotFoundError(APIStatusError):
    """404: no invoice with this id."""


class UnprocessableEntityError(APIStatusError):
    """422: the request breaks the API's schema; `message` lists the problems."""


class RateLimitError(APIStatusError):
    """429: a rate limit is exhausted and the request was not processed (retries used up)."""

    safe_to_retry = True


class ServerError(APIStatusError, OutcomeUnknownError):
    """5xx (any, 520 included): the outcome is unknown; never retried automatically."""


class UnexpectedStatusError(APIStatusError, OutcomeUnknownError):
    """A status the spec does not document (1xx, 3xx, 499, ...): the outcome is unknown."""


_BY_STATUS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


def _json_or_none(response: httpx.Response) -> Any:
    try:
        return json.loads(response.content)
    except (ValueError, RecursionError):
        return None


def parse_error_body(response: httpx.Response, model: type[ErrorResponse]) -> ErrorResponse | None:
    """The error `model` (the spec's ErrorResponse) in an error answer, or None when the body is not
    one (HTML, truncated...)."""
    data = _json_or_none(response)
    try:
        # Strict: an error's `body` is all or nothing; its class and raw content say the rest.
        return model.from_dict(data, Reader(strict=True)) if isinstance(data, dict) else None
    except CONTRACT_ERRORS:
        return None


def from_response(
    response: httpx.Response,
    error_model: type[ErrorResponse],
    *,
    method: str = "POST",
    invoice_id: str | None = None,
    **context: Any,
) -> LeadwayError:
    """The error for an answer that is not the documented success: one class per status, its body
    read into `error_model`."""
    code = response.status_code
    if 200 <= code < 300:
        return ContractViolationError(
            response, "undocumented success status", method=method, invoice_id=invoice_id, **context
        )
    cls = _BY_STATUS.get(code) or (ServerError if 500 <= code < 600 else UnexpectedStatusError)
    return cls(response, parse_error_body(response, error_model), method=method, invoice_id=invoice_id, **context)


def from_transport_error(
    exc: httpx.RequestError, *, method: str = "POST", invoice_id: str | None = None, **context: Any
) -> LeadwayError:
    """The error for a request that got no answer: sent or not, decided by the failure's kind."""
    kind = type(exc).__name__
    if isinstance(exc, NOT_SENT):
        return TransportError(f"request not sent ({kind}: {exc})", method=method, invoice_id=invoice_id, **context)
    advice = (
        "the invoice may have been sent, check it before sending again"
        if method == "POST"
        else "nothing was changed by this read"
    )
    return OutcomeUnknownError(
        f"outcome unknown ({kind}: {exc}); {advice}",
        method=method,
        invoice_id=invoice_id,
        **context,
    )


def outcome_unknown(error: object) -> TypeGuard[OutcomeUnknownError | ContractViolationError]:
    """Whether the request may have been carried out although the call failed (a timeout or dropped
    connection after sending, a 5xx, an undocumented status, a 2xx whose body breaks the spec): read
    the invoice (`reconcile`) before sending it again."""
    return isinstance(error, OutcomeUnknownError | ContractViolationError)


def proves_not_sent(error: LeadwayError) -> bool:
    """Whether the error proves the request did not run, so sending again cannot send twice: the
    error tree's own verdict (`safe_to_retry`: a failure before any byte left, 401, 429), or another
    error status below 500 (the API refused the request)."""
    if outcome_unknown(error):
        return False
    status = error.status_code
    return error.safe_to_retry or (status is not None and 400 <= status < 500)
