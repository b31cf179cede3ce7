"""One call of an operation, from its checked request to its model or its error: the steps every
generated operation takes, written here once.

An operation's `prepare(...)` checks its arguments and serialises its body once, before any I/O, into
a `Call`, which also holds what every error of the call carries (method, invoice id, location). `send`
/ `asend` send it through the client: the time it went out is the caller's own when it gave one (the
send ledger passes its clock down), else taken just before; the location rides on the request for the
pacer. `read_success` and `read_detailed` read the answer into the operation's model or an error.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, Self, TypeVar

import httpx

from . import errors
from .pacing import LOCATION
from .parsing import Reader, log_deviations
from .types import Response

if TYPE_CHECKING:  # for annotations only: the client imports nothing of this module's users
    from .client import AuthenticatedClient


class _Model(Protocol):
    @classmethod
    def from_dict(cls, src_dict: Any, reader: Reader | None = None) -> Self: ...


M = TypeVar("M", bound=_Model)
T = TypeVar("T")


@dataclasses.dataclass(frozen=True, slots=True)
class Call:
    """One request of an operation, checked and serialised (by the operation's `prepare`).

    `attempted_at` (aware, UTC) is when the request went out, for reconciliation to compare with the
    invoice's `updatedAt`; None lets `send` take it. A caller with its own record of the attempt (the
    send ledger) gives its own: `dataclasses.replace(call, attempted_at=...)`.
    """

    method: str
    path: str
    """The URL path, its parameters checked (`validation.path_segment`)."""
    operation: str
    """The operation's name, for log lines."""
    invoice_id: str
    alt_id: str | None = None
    alt_type: str | None = None
    """The location the request names (a send's body, a read's query): the pacer's key, and what an
    error carries for reconciliation. No other field: no customer data."""
    json: dict[str, Any] | None = None
    params: dict[str, str] | None = None
    headers: dict[str, str] = dataclasses.field(default_factory=dict)
    attempted_at: datetime.datetime | None = None

    def context(self, attempted_at: datetime.datetime | None) -> dict[str, Any]:
        """What every error of this call carries (keywords of the errors' constructors)."""
        return {
            "method": self.method,
            "invoice_id": self.invoice_id,
            "alt_id": self.alt_id,
            "alt_type": self.alt_type,
            "attempted_at": attempted_at,
        }

    def _request(self, http: httpx.Client | httpx.AsyncClient) -> dict[str, Any]:
        # The URL whole: httpx would parse the path, then the path joined to its base URL; one parse
        # of the joined text is a fifth of the client's cost per call. (Without an absolute base URL,
        # httpx's own merge says what is wrong.)
        base = http.base_url
        if not base.is_absolute_url:
            url: httpx.URL | str = self.path
        else:
            prefix = str(base)  # with a path of its own, httpx ends it with "/"; without, str() has none
            url = httpx.URL(f"{prefix.removesuffix('/')}{self.path}")
        return {
            "method": self.method,
            "url": url,
            "json": self.json,
            "params": self.params,
            "headers": self.headers,
            "extensions": {LOCATION: self.alt_id or ""},
        }


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def send(client: AuthenticatedClient, call: Call) -> tuple[httpx.Response, dict[str, Any]]:
    """Send `call`; its answer, and the context its errors carry. Raises the client's TransportError
    or OutcomeUnknownError when no answer came."""
    context = call.context(call.attempted_at or _now())
    http = client.get_httpx_client()
    try:
        return http.request(**call._request(http)), context
    except httpx.RequestError as exc:
        raise errors.from_transport_error(exc, **context) from exc


async def asend(client: AuthenticatedClient, call: Call) -> tuple[httpx.Response, dict[str, Any]]:
    """`send` for asyncio."""
    context = call.context(call.attempted_at or _now())
    http = client.get_async_httpx_client()
    try:
        return await http.request(**call._request(http)), context
    except httpx.RequestError as exc:
        raise errors.from_transport_error(exc, **context) from exc


def read_success(
    response: httpx.Response,
    context: dict[str, Any],
    *,
    status: int,
    model: type[M],
    error_model: type[Any],
    strict: bool,
    operation: str,
) -> M:
    """The answer as `model` when its status is the documented success `status`; else the error for
    it. A success whose body is unusable (or, with `strict`, deviates at all) is a
    ContractViolationError: the status says the request was carried out."""
    if response.status_code != status:
        raise errors.from_response(response, error_model, **context)
    reader = Reader(strict)
    try:
        parsed = model.from_dict(response.json(), reader)
    except errors.CONTRACT_ERRORS as exc:
        raise errors.ContractViolationError(response, f"{type(exc).__name__}: {exc}", **context) from exc
    log_deviations(reader.found, method=context["method"], operation=operation)
    return parsed


def read_detailed(
    response: httpx.Response,
    parse: Callable[[httpx.Response, Reader], T | None],
    *,
    strict: bool,
    method: str,
    operation: str,
) -> Response[T]:
    """Every answer as a Response; `parsed` is what `parse` reads for its status (None for an
    undocumented status or an unusable body, the raw body staying in `content`)."""
    reader = Reader(strict)
    try:
        parsed = parse(response, reader)
    except errors.CONTRACT_ERRORS:
        parsed = None
    if parsed is not None:
        log_deviations(reader.found, method=method, operation=operation)
    return Response(status_code=response.status_code, content=response.content, headers=response.headers, parsed=parsed)
