"""SandboxConfig checks, the environment's token, and loopback-only serving."""

from __future__ import annotations

import socket

import httpx
import pytest

from scripts.sandbox import DEFAULT_TOKEN, LOCATION_TOKEN, TOKEN_ENV, SandboxConfig, SandboxError, create_app
from scripts.sandbox.server import bind_loopback, check_loopback, serve_in_thread


def test_token_env_replaces_the_default_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TOKEN_ENV, "my-sandbox-token")

    assert SandboxConfig().agency_token == "my-sandbox-token"


def test_empty_token_env_keeps_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TOKEN_ENV, "")

    assert SandboxConfig().agency_token == DEFAULT_TOKEN


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"burst_limit": 0}, "burst_limit must be a positive whole number"),
        ({"daily_limit": True}, "daily_limit must be a positive whole number"),
        ({"burst_interval_ms": 1.5}, "burst_interval_ms must be a positive whole number"),
        ({"agency_token": ""}, "agency_token must be a non-empty token"),
        ({"location_token": "two words"}, "location_token must be a non-empty token without spaces"),
        ({"agency_token": LOCATION_TOKEN}, "must differ"),
        ({"max_slow_seconds": 0}, "max_slow_seconds must be positive"),
    ],
)
def test_bad_settings_are_refused(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(SandboxError, match=message):
        SandboxConfig(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "::", "localhost", "example.com"])
def test_only_loopback_addresses_are_served(host: str) -> None:
    with pytest.raises(SandboxError, match="loopback only"):
        check_loopback(host)


@pytest.mark.parametrize("port", [-1, 65536])
def test_ports_out_of_range_are_refused(port: int) -> None:
    with pytest.raises(SandboxError, match="port must be between 0 and 65535"):
        bind_loopback(port=port)


def test_serve_in_thread_serves_on_loopback_and_stops() -> None:
    with serve_in_thread(create_app()) as base_url:
        assert base_url.startswith("http://127.0.0.1:")
        assert httpx.get(f"{base_url}/_sandbox/invoices").status_code == 200

    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{base_url}/_sandbox/invoices")


def test_serve_in_thread_on_ipv6_loopback() -> None:
    try:
        with serve_in_thread(create_app(), host="::1") as base_url:
            assert base_url.startswith("http://[::1]:")
            assert httpx.get(f"{base_url}/_sandbox/outbox").json() == []
    except SandboxError as exc:  # pragma: no cover - machines without IPv6
        pytest.skip(str(exc))


def test_the_listening_socket_says_tcp_so_answers_are_not_held_back_by_nagle() -> None:
    # asyncio turns on TCP_NODELAY only for sockets whose proto is IPPROTO_TCP; accepted sockets
    # inherit it from the listener. Without it every answer waited ~40 ms for a delayed ACK.
    sock = bind_loopback()
    try:
        assert sock.proto == socket.IPPROTO_TCP
    finally:
        sock.close()
