"""Serving the sandbox with uvicorn on loopback: a listening socket, and a background-thread server."""

from __future__ import annotations

import ipaddress
import logging
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from starlette.types import ASGIApp

from scripts.sandbox.config import SandboxError
from scripts.sandbox.faults import HideDroppedConnections

# One instance, so that serving many times does not stack copies of the filter on uvicorn's logger.
_HIDE_DROPPED = HideDroppedConnections()


def check_loopback(host: str) -> None:
    """Refuse any address but a loopback one: nothing about the sandbox may be reachable from outside.

    Raises:
        SandboxError: `host` is not a loopback IP address.
    """
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise SandboxError(f"refusing to listen on {host!r}: the sandbox serves loopback only (use 127.0.0.1 or ::1)")


def bind_loopback(host: str = "127.0.0.1", port: int = 0) -> socket.socket:
    """A listening TCP socket on a loopback address; port 0 picks a free port.

    Raises:
        SandboxError: non-loopback host, port out of range, or the port cannot be bound (for example in use).
    """
    check_loopback(host)
    if not 0 <= port <= 65535:
        raise SandboxError(f"port must be between 0 and 65535, got {port}")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets whose proto says TCP, and
    # without it Nagle plus delayed ACKs add ~40 ms to every answer.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise SandboxError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    return sock


def base_url(sock: socket.socket) -> str:
    """`http://HOST:PORT` of a bound socket (IPv6 hosts in brackets)."""
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def make_server(app: ASGIApp, *, log_level: str = "info", access_log: bool = False) -> uvicorn.Server:
    """A uvicorn server for `app` whose log hides the sandbox's deliberate connection drops.

    uvicorn uses httptools and uvloop when installed (the sandbox dependency group has them). A line
    per request (`access_log`) is off unless asked for: under bulk load it costs more than the send.
    """
    config = uvicorn.Config(
        app, log_level=log_level, access_log=access_log, lifespan="off", timeout_graceful_shutdown=1
    )
    logging.getLogger("uvicorn.error").addFilter(_HIDE_DROPPED)
    return uvicorn.Server(config)


@contextmanager
def serve_in_thread(
    app: ASGIApp, host: str = "127.0.0.1", port: int = 0, *, log_level: str = "warning", startup_timeout: float = 10.0
) -> Iterator[str]:
    """Serve `app` with uvicorn in a background thread; yields the base URL, stops on exit.

    Real sockets make faults real: a dropped connection is a closed socket, a slow answer a client
    timeout. Port 0 (the default) picks a free port.

    Raises:
        SandboxError: bad host or port, or the server did not start within `startup_timeout` seconds.
    """
    sock = bind_loopback(host, port)
    server = make_server(app, log_level=log_level)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="leadway-sandbox", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + startup_timeout
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise SandboxError(f"the sandbox server did not start on {base_url(sock)}")
            time.sleep(0.005)
        yield base_url(sock)
    finally:
        server.should_exit = True
        thread.join(timeout=startup_timeout)
        sock.close()
