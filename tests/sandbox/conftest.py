"""Fixtures for the sandbox tests: a fresh app per test, in-process and over a real socket."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from openapi_core import OpenAPI
from openapi_core.testing import MockRequest, MockResponse
from starlette.applications import Starlette

from scripts.sandbox import (
    DEFAULT_TOKEN,
    SEED_LOCATIONS,
    SEED_USER_ID,
    SPEC_SERVER_URL,
    Sandbox,
    SandboxConfig,
    create_app,
    serve_in_thread,
)
from scripts.sandbox.config import SPEC_PATH
from scripts.sandbox.state import fixed_clock

RATE_LIMIT_HEADERS = (
    "X-RateLimit-Limit-Daily",
    "X-RateLimit-Daily-Remaining",
    "X-RateLimit-Interval-Milliseconds",
    "X-RateLimit-Max",
    "X-RateLimit-Remaining",
)


def send_body(**overrides: Any) -> dict[str, Any]:
    """A valid send body for the first seeded location; keyword arguments replace fields."""
    body: dict[str, Any] = {
        "altId": SEED_LOCATIONS[0],
        "altType": "location",
        "userId": SEED_USER_ID,
        "action": "sms_and_email",
        "liveMode": False,
    }
    body.update(overrides)
    return body


def auth(token: str = DEFAULT_TOKEN, **extra: str) -> dict[str, str]:
    """Headers of a well-formed request with `token`."""
    return {"Authorization": f"Bearer {token}", "Version": "2021-07-28", **extra}


class FakeClock:
    """A monotonic clock the tests move by hand, so rate-limit windows pass without sleeping."""

    def __init__(self, now: float = 0.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def app(clock: FakeClock) -> Starlette:
    # A fixed wall clock: the same requests give byte-identical answers (updatedAt included).
    return create_app(SandboxConfig(agency_token=DEFAULT_TOKEN, clock=clock, wall_clock=fixed_clock))


@pytest.fixture
def sandbox(app: Starlette) -> Sandbox:
    state: Sandbox = app.state.sandbox
    return state


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    """In-process client: no socket, the app runs in the test's event loop."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://testserver") as client:
        yield client


@pytest.fixture
def served(app: Starlette) -> Iterator[httpx.Client]:
    """A client of the app served by uvicorn on a free loopback port."""
    with serve_in_thread(app) as base_url, httpx.Client(base_url=base_url, timeout=5) as client:
        yield client


@pytest.fixture(scope="session")
def openapi() -> OpenAPI:
    return OpenAPI.from_file_path(str(SPEC_PATH))


def assert_conforms(openapi: OpenAPI, response: httpx.Response) -> None:
    """Fail unless `response` (to a send) is what the spec documents: status, body and headers."""
    request = response.request
    mock_request = MockRequest(SPEC_SERVER_URL, request.method, request.url.path, data=request.content)
    mock_response = MockResponse(
        response.content,
        status_code=response.status_code,
        headers=dict(response.headers),
        content_type=response.headers.get("content-type", ""),
    )
    openapi.validate_response(mock_request, mock_response)
    missing = [name for name in RATE_LIMIT_HEADERS if name not in response.headers]
    assert not missing, f"missing rate-limit headers {missing}"
    if response.status_code == 429:
        assert int(response.headers["Retry-After"]) >= 1
