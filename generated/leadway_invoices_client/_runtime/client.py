"""The clients. Every call goes through one PolicyTransport (see transport.py): retries of what
provably did not run, optional pacing, auth and redacted debug logging."""

import ssl
from typing import Any, Self

import httpx

from .auth import Credentials, TokenProvider
from .constants import DEFAULT_API_VERSION, DEFAULT_TIMEOUT
from .httpx_clients import AsyncHttpxClient, HttpxClient
from .pacing import Pacer
from .retry import RetryPolicy
from .transport import PolicyTransport
from .validation import url_text
from .version import USER_AGENT

DEFAULT_RETRY = RetryPolicy()
"""3 attempts, waits capped at 30 s: a send after 429 and connect failures only; a read also after
read timeouts, dropped connections and 502/503/504."""

# httpx.Client arguments that configure the connection rather than the client: they go to the
# transport we build, since httpx ignores them when it is handed a transport.
_TRANSPORT_ARGS = ("cert", "http1", "http2", "limits", "proxy", "trust_env", "uds", "local_address", "socket_options")


class _BaseClient:
    """What AuthenticatedClient is made of; every call of this API needs a token.

    Arguments (all but base_url keyword-only):
        base_url: the API's base URL, e.g. https://services.leadconnectorhq.com. The token goes
            only to this origin (scheme, host and port).
        cookies, headers: sent with every request (the dicts are copied, never modified).
        timeout: an httpx.Timeout or seconds; default DEFAULT_TIMEOUT. None disables timeouts.
        verify_ssl: as httpx's `verify`.
        follow_redirects: default False. A send never follows a redirect (the 3xx is raised as an
            UnexpectedStatusError): following a 307/308 would send it a second time.
        retry: a RetryPolicy (default DEFAULT_RETRY); None or RetryPolicy.off() turns retries off.
        pacer: a Pacer to wait out rate limits before they are hit (default None: no pacing).
        api_version: the `Version` header of every request, replacing a call's `version=`: one of
            `models.ApiVersion`. `2021-07-28` (DEFAULT_API_VERSION: the Leadway page, upstream's
            apps/invoices.json), `v3` (upstream's apps/v3/invoices-v3.json; its Python SDK's value) or
            `2023-02-21` (its TypeScript SDK's value, in no upstream document for these calls).
        httpx_args: more httpx.Client arguments; a `transport` there is wrapped, not replaced.

    `set_httpx_client` / `set_async_httpx_client` install an httpx client as is: the policy
    (retries, pacing, auth, Version) then does not apply.
    """

    _credentials: Credentials | None = None
    strict: bool = False
    """True: an answer deviating from the spec raises ContractViolationError (see AuthenticatedClient)."""

    def __init__(
        self,
        base_url: str,
        *,
        cookies: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        timeout: httpx.Timeout | float | None = DEFAULT_TIMEOUT,
        verify_ssl: str | bool | ssl.SSLContext = True,
        follow_redirects: bool = False,
        httpx_args: dict[str, Any] | None = None,
        retry: RetryPolicy | None = DEFAULT_RETRY,
        pacer: Pacer | None = None,
        api_version: str = DEFAULT_API_VERSION,
    ) -> None:
        if (
            not isinstance(api_version, str)
            or not api_version
            or not (api_version.isascii() and api_version.isprintable())
        ):
            raise ValueError(f"api_version must be printable ASCII text such as {DEFAULT_API_VERSION!r}")
        self.api_version = api_version
        self._base_url = url_text("base_url", base_url)
        self._cookies = dict(cookies or {})
        self._headers = dict(headers or {})
        self._timeout = timeout
        self._verify_ssl = verify_ssl
        self._follow_redirects = follow_redirects
        self._httpx_args = dict(httpx_args or {})
        self.retry = retry
        self.pacer = pacer
        self._client: httpx.Client | None = None
        self._async_client: httpx.AsyncClient | None = None

    def __repr__(self) -> str:
        auth = f", credentials={self._credentials!r}" if self._credentials is not None else ""
        return f"{type(self).__name__}(base_url={self._base_url!r}{auth}, retry={self.retry!r}, pacer={self.pacer!r})"

    def redact(self, text: str) -> str:
        """`text` without this client's token: for what you keep or print of a successful answer,
        which the client returns as the server sent it (error answers are scrubbed already)."""
        return self._credentials.redact(text) if self._credentials is not None else text

    def _copy(self, **changes: Any) -> Self:
        """A new client with the same settings and `changes`; it builds its own httpx clients."""
        new = object.__new__(type(self))
        new.__dict__.update(self.__dict__, _client=None, _async_client=None)
        new.__dict__.update(changes)
        return new

    def with_headers(self, headers: dict[str, str]) -> Self:
        """A new client with additional headers."""
        return self._copy(_headers={**self._headers, **headers})

    def with_cookies(self, cookies: dict[str, str]) -> Self:
        """A new client with additional cookies."""
        return self._copy(_cookies={**self._cookies, **cookies})

    def with_timeout(self, timeout: httpx.Timeout) -> Self:
        """A new client with another timeout."""
        return self._copy(_timeout=timeout)

    def _client_args(
        self, default_transport: type[httpx.HTTPTransport] | type[httpx.AsyncHTTPTransport]
    ) -> dict[str, Any]:
        args = dict(self._httpx_args)
        inner = args.pop("transport", None)
        if inner is None:
            options = {name: args.pop(name) for name in _TRANSPORT_ARGS if name in args}
            inner = default_transport(verify=self._verify_ssl, **options)
        policy = PolicyTransport(
            inner,
            credentials=self._credentials,
            retry=self.retry,
            pacer=self.pacer,
            origin=self._base_url,
            headers={"Version": self.api_version},
        )
        return {
            "base_url": self._base_url,
            "cookies": self._cookies,
            "headers": {"User-Agent": USER_AGENT, **self._headers},
            "timeout": self._timeout,
            "follow_redirects": self._follow_redirects,
            **args,
            "transport": policy,
        }

    def set_httpx_client(self, client: httpx.Client) -> Self:
        """Use `client` as is (no retries, pacing or auth from this client)."""
        self._client = client
        return self

    def get_httpx_client(self) -> httpx.Client:
        """The underlying httpx.Client, built on first use."""
        if self._client is None:
            self._client = HttpxClient(**self._client_args(httpx.HTTPTransport))
        return self._client

    def __enter__(self) -> Self:
        self.get_httpx_client().__enter__()
        return self

    def __exit__(self, *args: Any, **kwargs: Any) -> None:
        self.get_httpx_client().__exit__(*args, **kwargs)

    def set_async_httpx_client(self, async_client: httpx.AsyncClient) -> Self:
        """Use `async_client` as is (no retries, pacing or auth from this client)."""
        self._async_client = async_client
        return self

    def get_async_httpx_client(self) -> httpx.AsyncClient:
        """The underlying httpx.AsyncClient, built on first use."""
        if self._async_client is None:
            self._async_client = AsyncHttpxClient(**self._client_args(httpx.AsyncHTTPTransport))
        return self._async_client

    async def __aenter__(self) -> Self:
        await self.get_async_httpx_client().__aenter__()
        return self

    async def __aexit__(self, *args: Any, **kwargs: Any) -> None:
        await self.get_async_httpx_client().__aexit__(*args, **kwargs)


class AuthenticatedClient(_BaseClient):
    """A client that authenticates every request with a bearer token.

    Give exactly one of:
        token: a fixed token (a Private Integration Token, or an OAuth access token you renew yourself).
        token_provider: a callable `(refresh: bool) -> str`, called before each request with
            False and, after a 401, once with True to get a new token for a single resend.
    prefix ("Bearer") and auth_header_name ("Authorization") shape the header. The token never
    appears in the client's repr, its default headers or the caller's `headers` dict.
    strict: False (default) reads successful answers tolerantly: a field that breaks the spec is
        UNSET and listed in the model's `deviations` (logged once at WARNING); True raises
        ContractViolationError instead. Each call can override it with its own `strict=`.
    Other arguments: see _BaseClient.
    """

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        token_provider: TokenProvider | None = None,
        prefix: str = "Bearer",
        auth_header_name: str = "Authorization",
        cookies: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        timeout: httpx.Timeout | float | None = DEFAULT_TIMEOUT,
        verify_ssl: str | bool | ssl.SSLContext = True,
        follow_redirects: bool = False,
        httpx_args: dict[str, Any] | None = None,
        retry: RetryPolicy | None = DEFAULT_RETRY,
        pacer: Pacer | None = None,
        api_version: str = DEFAULT_API_VERSION,
        strict: bool = False,
    ) -> None:
        self.strict = strict
        super().__init__(
            base_url,
            cookies=cookies,
            headers=headers,
            timeout=timeout,
            verify_ssl=verify_ssl,
            follow_redirects=follow_redirects,
            httpx_args=httpx_args,
            retry=retry,
            pacer=pacer,
            api_version=api_version,
        )
        self._credentials = Credentials(token, token_provider, prefix=prefix, header_name=auth_header_name)
