"""The one check in front of every real API: before a token leaves, is the target safe to send it to?

Used by the command line, the demo and the contract suite's live mode and production recording, so
that all of them refuse the same things, before any I/O:

* a URL that is not http(s) with a host, or holds a space or control character; plain http
  anywhere but a loopback address;
* no token (a token is taken from the environment, never from the command line);
* one of the local sandbox's documented tokens (or `$LEADWAY_SANDBOX_TOKEN`'s) for anything but
  loopback: it opens nothing real, and sending it to a real API is a mistake;
* a missing id where the caller sends to one given test invoice.

And, for a caller that must only read (the live read check), `ReadOnlyGuard`: a transport in front of
its client's own that lets out nothing but a GET of the named invoices on the target, before any I/O.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx

from .transport import AnyTransport, Wrapper
from .validation import url_text

SANDBOX_TOKENS = frozenset({"sandbox-agency-token", "sandbox-location-token"})
"""The local sandbox's documented tokens (README, "Sandbox"): they open nothing real. The sandbox
imports nothing of the client it tests, so it names them too; a test holds the two lists together."""
SANDBOX_TOKEN_ENV = "LEADWAY_SANDBOX_TOKEN"  # noqa: S105 (a variable's name, not a token)
"""Replaces the sandbox's agency token when set; so it is a sandbox token too."""


class TargetRefused(ValueError):
    """A target that cannot be used safely; nothing was sent. The message says why, never the token."""


def is_loopback(host: str) -> bool:
    """Whether `host` (a name or an address, IPv6 in brackets or not) is this machine's loopback."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class Target:
    """An API that passed `check_target`, and the token it may be sent."""

    base_url: str
    token: str = field(repr=False)

    @property
    def host(self) -> str:
        return urlsplit(self.base_url).netloc

    @property
    def loopback(self) -> bool:
        return is_loopback(urlsplit(self.base_url).hostname or "")


@dataclass(frozen=True)
class InvoiceTarget(Target):
    """A Target, and the one invoice (with its location, and the user sending) a caller may send to."""

    invoice_id: str
    location_id: str
    user_id: str


def sandbox_tokens(environ: Mapping[str, str]) -> frozenset[str]:
    """The tokens that open only the local sandbox."""
    own = environ.get(SANDBOX_TOKEN_ENV, "").strip()
    return SANDBOX_TOKENS | ({own} if own else set())


def check_target(
    base_url: str,
    token: str | None,
    *,
    token_env: str,
    url_option: str = "the URL",
    who: str = "",
    ids: Mapping[str, str | None] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Target:
    """`base_url` and `token` as a Target, unless sending the token there would be unsafe.

    Args:
        token_env: the variable the token comes from, named in the message when there is none.
        url_option: how the caller's user gives the URL (`--base-url`), for the message.
        who: what sends (`live mode`), for the message about missing ids.
        ids: the ids of the one test invoice the caller sends to, keyed by the option giving each;
            every one must be given.
        environ: where `$LEADWAY_SANDBOX_TOKEN` is read (default: the process's environment).

    Raises:
        TargetRefused: naming the first problem found (see the module).
    """
    try:
        base_url = url_text(url_option, base_url)
    except ValueError as exc:
        raise TargetRefused(str(exc)) from None
    parts = urlsplit(base_url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise TargetRefused(f"{url_option} must be an https URL, got {base_url!r}")
    loopback = is_loopback(parts.hostname)
    if parts.scheme != "https" and not loopback:
        raise TargetRefused(f"refusing to send a token to {base_url} over plain http: https only (http for loopback)")
    # Kept as given: a token that cannot be a header (a trailing newline) is the client's to refuse.
    if token is None or not token.strip():
        raise TargetRefused(f"no API token: set ${token_env} (the token is never taken on the command line)")
    if not loopback and token.strip() in sandbox_tokens(os.environ if environ is None else environ):
        raise TargetRefused(f"${token_env} holds a sandbox token; refusing to send it to {base_url}")
    missing = [option for option, value in (ids or {}).items() if not value]
    if missing:
        raise TargetRefused(f"{who} sends to a given test invoice only and needs explicit {', '.join(missing)}")
    return Target(base_url.rstrip("/"), token)


def check_invoice_target(
    base_url: str,
    token: str | None,
    *,
    token_env: str,
    who: str,
    ids: Mapping[str, str | None],
    url_option: str = "the URL",
    environ: Mapping[str, str] | None = None,
) -> InvoiceTarget:
    """`check_target` for a caller that sends to one given test invoice: `ids` holds the invoice, its
    location and the user, in that order, keyed by the option that gives each; all are required."""
    target = check_target(
        base_url, token, token_env=token_env, url_option=url_option, who=who, ids=ids, environ=environ
    )
    invoice_id, location_id, user_id = (str(value) for value in ids.values())
    return InvoiceTarget(target.base_url, target.token, invoice_id, location_id, user_id)


class RequestRefused(TargetRefused):
    """A request `ReadOnlyGuard` did not let out; nothing was sent. The message says why (no token)."""


class ReadOnlyGuard(Wrapper):
    """In front of a client's transport (`httpx_args={"transport": ReadOnlyGuard(...)}`): lets out only
    `GET {base_url}/invoices/{id}?altId={location_id}&altType=location` for the named invoices, without
    a body, and raises RequestRefused for anything else before `inner` sees it (so before any I/O).

    The client's policy (auth, retries, pacing) wraps it, so it judges each request exactly as it would
    leave, a retry or a redirect included.
    """

    def __init__(
        self,
        inner: AnyTransport,
        *,
        base_url: str,
        invoice_ids: Iterable[str],
        location_id: str,
    ) -> None:
        super().__init__(inner)
        url = httpx.URL(base_url)
        self._origin = (url.scheme, url.host, url.port)
        prefix = url.path.rstrip("/")
        self._paths = frozenset(f"{prefix}/invoices/{invoice_id}" for invoice_id in invoice_ids)
        self._query = sorted([("altId", location_id), ("altType", "location")])

    def check(self, request: httpx.Request) -> None:
        """Raise RequestRefused unless `request` is a GET of a named invoice on the target."""
        url = request.url
        if request.method != "GET":
            raise RequestRefused(f"refused a {request.method} request: the check only reads (GET)")
        if (url.scheme, url.host, url.port) != self._origin:
            raise RequestRefused(f"refused a request to {url.scheme}://{url.netloc.decode('ascii')}: not the target")
        if url.path not in self._paths:
            raise RequestRefused("refused a read of an invoice that was not named (or another path)")
        if sorted(url.params.multi_items()) != self._query:
            raise RequestRefused("refused a read whose query is not altId=<the location>&altType=location")
        if request.headers.get("content-length", "0") != "0" or "transfer-encoding" in request.headers:
            raise RequestRefused("refused a read with a body")

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.check(request)
        assert isinstance(self.inner, httpx.BaseTransport), "this transport is async-only"
        return self.inner.handle_request(request)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.check(request)
        assert isinstance(self.inner, httpx.AsyncBaseTransport), "this transport is sync-only"
        return await self.inner.handle_async_request(request)
