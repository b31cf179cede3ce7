"""What every peer test stands on: a sandbox on a free loopback port, upstream's SDK pointed at it,
and no way for anything in the process to resolve a host that is not loopback.

Upstream's Python SDK has no base-URL option: `HighLevel.BASE_URL`, a class attribute read when a
client is built, names the API. A subclass with the sandbox's URL changes it for the clients built
here and nothing else (the SDK's own class keeps production's URL).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest
from highlevel import HighLevel
from starlette.applications import Starlette

from scripts.sandbox import Sandbox, SandboxConfig, create_app, serve_in_thread

_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain"})


def is_loopback(host: object) -> bool:
    """True for a loopback IP address (127.0.0.0/8, ::1) or `localhost`."""
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if not isinstance(host, str):
        return False
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any lookup of a host that is not loopback fails: every connection, httpx's included, starts with one."""
    real_getaddrinfo = socket.getaddrinfo

    def guarded(host: Any, *args: Any, **kwargs: Any) -> Any:
        if not is_loopback(host):
            raise OSError(f"peer tests reach loopback only, not {host!r}")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", guarded)


@pytest.fixture
def app() -> Starlette:
    return create_app(SandboxConfig())


@pytest.fixture
def sandbox(app: Starlette) -> Sandbox:
    state: Sandbox = app.state.sandbox
    return state


@pytest.fixture
def base_url(app: Starlette) -> Iterator[str]:
    with serve_in_thread(app) as url:
        yield url


#: Every request upstream's SDK sent in a test: what the tests say about URLs and headers.
Sent = list[httpx.Request]


@pytest.fixture
def sent() -> Sent:
    return []


@pytest.fixture
async def sdk(base_url: str, sent: Sent) -> AsyncIterator[Callable[[str], HighLevel]]:
    """Builds upstream's client with a static token (`private_integration_token`) against the sandbox."""
    built: list[HighLevel] = []

    class SandboxHighLevel(HighLevel):
        BASE_URL = base_url

    async def record(request: httpx.Request) -> None:
        sent.append(request)

    def build(token: str) -> HighLevel:
        client = SandboxHighLevel(private_integration_token=token, log_level="error")
        client.http_client.event_hooks["request"] = [record]
        built.append(client)
        return client

    yield build
    for client in built:
        await client.close()
    assert all(is_loopback(request.url.host) for request in sent)
    assert {f"{request.url.scheme}://{request.url.host}:{request.url.port}" for request in sent} <= {base_url}
