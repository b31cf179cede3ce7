"""Where the bearer token comes from: a fixed string or a provider the caller refreshes.

The token lives only here and, while a request is being sent, in that request's credential header:
never in the client's default headers, its repr, a dict the caller passed in, or a request after it
was sent (so not in an error's `response.request` or its pickle). A token that could not go into a
header as is (a trailing newline read from a file, a space, non-ASCII) is refused before anything is
sent, and the error never shows it.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable

import httpx

from .errors import TokenError

REDACTED = "[REDACTED]"

TokenProvider = Callable[[bool], str]
"""Called with `refresh=False` before each request (return a cached token) and with `refresh=True`
once after a 401 (return a new one). Called synchronously, from the event loop too: keep it fast."""

# Visible ASCII: a superset of RFC 6750's b64token, and what every HTTP stack accepts in a header.
_TOKEN = re.compile(r"[\x21-\x7e]+")
_PREFIX = re.compile(r"[\x21-\x7e]*")
# RFC 9110 field-name characters.
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
MAX_TOKEN_LENGTH = 16_384


def _token_problem(token: object) -> str | None:
    """What makes `token` unusable, described without showing it; None when it is fine."""
    if not isinstance(token, str):
        return f"must be a string, not {type(token).__name__}"
    if not token:
        return "must not be empty"
    if len(token) > MAX_TOKEN_LENGTH:
        return f"is {len(token)} characters long; at most {MAX_TOKEN_LENGTH} are allowed"
    if not _TOKEN.fullmatch(token):
        position = next(i for i, c in enumerate(token) if not _TOKEN.fullmatch(c))
        kind = "a line break" if token[position] in "\r\n" else f"character U+{ord(token[position]):04X}"
        return (
            f"contains {kind} at position {position} of {len(token)} (only visible ASCII is allowed;"
            " strip the newline a file or variable may add)"
        )
    return None


class Credentials:
    """A token or token provider, and how to put it in a header. Its repr never shows the token."""

    __slots__ = ("_fixed", "_provider", "_recent", "header_name", "prefix")

    def __init__(
        self,
        token: str | None = None,
        provider: TokenProvider | None = None,
        *,
        prefix: str = "Bearer",
        header_name: str = "Authorization",
    ) -> None:
        if (token is None) == (provider is None):
            raise ValueError("give exactly one of token and token_provider")
        if provider is not None and not callable(provider):
            raise ValueError(f"token_provider must be callable, not {type(provider).__name__}")
        if not isinstance(prefix, str) or not _PREFIX.fullmatch(prefix):
            raise ValueError("prefix must be visible ASCII without spaces (or empty), such as 'Bearer'")
        if not isinstance(header_name, str) or not _HEADER_NAME.fullmatch(header_name):
            raise ValueError("auth_header_name must be an HTTP header name, such as 'Authorization'")
        self._provider = provider
        self.prefix = prefix
        self.header_name = header_name
        # Formatted once: a fixed token's header is the same on every request. Refused here, before
        # any I/O, with a ValueError that describes the problem without the token.
        if token is not None:
            problem = _token_problem(token)
            if problem is not None:
                raise ValueError(f"the token {problem}")
        self._fixed = self._format(token) if token is not None else None
        # A provider's last tokens, for `redact`: a server may echo one back in an answer kept later.
        self._recent: deque[str] = deque(maxlen=4)

    @property
    def refreshable(self) -> bool:
        """Whether a 401 can be answered by asking the provider for a new token."""
        return self._provider is not None

    def header_value(self, request: httpx.Request, *, refresh: bool = False) -> str:
        """The credential header's value for `request`; TokenError when a provider's token is unusable."""
        if self._fixed is not None:
            return self._fixed
        assert self._provider is not None  # one of the two is set, checked in __init__
        token = self._provider(refresh)
        problem = _token_problem(token)
        if problem is not None:
            raise TokenError(f"request not sent: the token_provider's token {problem}", method=request.method)
        if token not in self._recent:
            self._recent.append(token)
        return self._format(token)

    def secret(self, header_value: str) -> str:
        """The token inside a header value this object made (what scrubbing looks for)."""
        return header_value[len(self.prefix) + 1 :] if self.prefix else header_value

    def redact(self, text: str) -> str:
        """`text` without the token (or a provider's last tokens): for what a client keeps of a
        successful answer, which the transport hands on as the server sent it (a read's status, kept
        in a ledger and printed)."""
        secrets = [self.secret(self._fixed)] if self._fixed is not None else list(self._recent)
        for secret in secrets:
            text = text.replace(secret, REDACTED)
        return text

    def _format(self, token: str) -> str:
        return f"{self.prefix} {token}" if self.prefix else token

    def __repr__(self) -> str:
        source = "token_provider" if self._provider is not None else "token"
        return f"Credentials({source}=<redacted>)"
