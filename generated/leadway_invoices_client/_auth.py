# Copied from spec/runtime/_auth.py by a post hook in spec/generator.yaml. Edit that file, then run scripts/nox -s generate.
# Source sha256: dd16102a734789dacfefc519b72f03f94829c7d6e1cea1ed77ee4c3e2972f5e4
"""Where the bearer token comes from: a fixed string or a provider the caller refreshes.

The token lives only here and in the Authorization header of each outgoing request, never in the
client's default headers, its repr, or a dict the caller passed in.
"""

from __future__ import annotations

from collections.abc import Callable

TokenProvider = Callable[[bool], str]
"""Called with `refresh=False` before each request (return a cached token) and with `refresh=True`
once after a 401 (return a new one). Called synchronously, from the event loop too: keep it fast."""


class Credentials:
    """A token or token provider, and how to put it in a header. Its repr never shows the token."""

    __slots__ = ("_fixed", "_provider", "header_name", "prefix")

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
        self._provider = provider
        self.prefix = prefix
        self.header_name = header_name
        # Formatted once: a fixed token's header is the same on every request.
        self._fixed = self._format(token) if token is not None else None

    @property
    def refreshable(self) -> bool:
        """Whether a 401 can be answered by asking the provider for a new token."""
        return self._provider is not None

    def header_value(self, *, refresh: bool = False) -> str:
        if self._fixed is not None:
            return self._fixed
        assert self._provider is not None  # one of the two is set, checked in __init__
        return self._format(self._provider(refresh))

    def _format(self, token: object) -> str:
        if not isinstance(token, str) or not token:
            raise ValueError("the token must be a non-empty string")
        return f"{self.prefix} {token}" if self.prefix else token

    def __repr__(self) -> str:
        source = "token_provider" if self._provider is not None else "token"
        return f"Credentials({source}=<redacted>)"
