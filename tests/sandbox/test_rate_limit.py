"""Rate limits: the limiter alone with a fake clock, then through the app (headers, 429, Retry-After)."""

from __future__ import annotations

import json

import httpx
import pytest
from openapi_core import OpenAPI
from starlette.applications import Starlette

from scripts.sandbox import (
    DEFAULT_TOKEN,
    DRAFT_INVOICE_ID,
    OTHER_LOCATION_DRAFT_ID,
    SEED_LOCATIONS,
    SandboxConfig,
    rate_limit,
)
from scripts.sandbox.app import create_app
from scripts.sandbox.rate_limit import DAY_SECONDS, RateLimiter
from tests.sandbox.conftest import RATE_LIMIT_HEADERS, FakeClock, assert_conforms, auth, send_body


def limiter(clock: FakeClock, burst: int = 3, interval_ms: int = 1000, daily: int = 100) -> RateLimiter:
    return RateLimiter(burst, interval_ms, daily, clock)


@pytest.fixture
def app_state_limiter(app: Starlette) -> RateLimiter:
    limits: RateLimiter = app.state.sandbox.limiter
    return limits


def test_burst_budget_counts_down_then_refuses_until_the_window_ends(clock: FakeClock) -> None:
    limits = limiter(clock)

    remaining = [limits.hit("loc").burst_remaining for _ in range(3)]
    refused = limits.hit("loc")

    assert remaining == [2, 1, 0]
    assert not refused.allowed
    assert refused.retry_after == 1
    clock.advance(1.0)
    assert limits.hit("loc").allowed


def test_refusals_do_not_spend_budget(clock: FakeClock) -> None:
    limits = limiter(clock, burst=1, daily=10)
    limits.hit("loc")
    for _ in range(5):
        assert not limits.hit("loc").allowed

    assert limits.peek("loc").daily_remaining == 9


def test_retry_after_rounds_the_rest_of_the_window_up(clock: FakeClock) -> None:
    limits = limiter(clock, burst=1, interval_ms=10_000)
    clock.advance(2.5)
    limits.hit("loc")

    assert limits.hit("loc").retry_after == 8


def test_daily_budget_outlasts_burst_windows(clock: FakeClock) -> None:
    limits = limiter(clock, burst=5, interval_ms=1000, daily=2)
    limits.hit("loc")
    clock.advance(1)
    limits.hit("loc")
    clock.advance(1)

    refused = limits.hit("loc")

    assert not refused.allowed
    assert refused.daily_remaining == 0
    assert refused.retry_after == DAY_SECONDS - 2
    clock.advance(DAY_SECONDS)
    assert limits.hit("loc").allowed


def test_locations_have_separate_budgets(clock: FakeClock) -> None:
    limits = limiter(clock, burst=1)
    limits.hit("a")

    assert limits.hit("b").allowed
    assert not limits.hit("a").allowed


def test_peek_counts_nothing_and_reset_forgets(clock: FakeClock) -> None:
    limits = limiter(clock)
    limits.hit("loc")
    assert limits.peek("loc").burst_remaining == 2
    assert limits.peek("loc").burst_remaining == 2

    limits.reset()

    assert limits.peek("loc").burst_remaining == 3


def test_headers_name_the_five_upstream_values(clock: FakeClock) -> None:
    status = limiter(clock, burst=3, interval_ms=1000, daily=100).hit("loc")

    assert status.headers() == {
        "X-RateLimit-Limit-Daily": "100",
        "X-RateLimit-Daily-Remaining": "99",
        "X-RateLimit-Interval-Milliseconds": "1000",
        "X-RateLimit-Max": "3",
        "X-RateLimit-Remaining": "2",
    }


@pytest.fixture
def limited_client(clock: FakeClock) -> httpx.AsyncClient:
    config = SandboxConfig(agency_token=DEFAULT_TOKEN, clock=clock, burst_limit=2, burst_interval_ms=500)
    return httpx.AsyncClient(transport=httpx.ASGITransport(create_app(config)), base_url="http://testserver")


async def test_app_answers_429_with_retry_after_past_the_burst_limit(
    limited_client: httpx.AsyncClient, clock: FakeClock, openapi: OpenAPI
) -> None:
    async with limited_client as client:
        answers = [
            await client.post(f"/invoices/{DRAFT_INVOICE_ID}/send", json=send_body(), headers=auth()) for _ in range(3)
        ]
        assert [a.status_code for a in answers] == [200, 200, 429]
        assert [a.headers["X-RateLimit-Remaining"] for a in answers] == ["1", "0", "0"]
        assert answers[2].headers["Retry-After"] == "1"
        assert answers[2].json() == {"statusCode": 429, "message": "Too Many Requests", "error": "Too Many Requests"}
        assert_conforms(openapi, answers[2])

        clock.advance(0.5)
        again = await client.post(f"/invoices/{DRAFT_INVOICE_ID}/send", json=send_body(), headers=auth())
        assert again.status_code == 200


async def test_app_limits_each_location_separately(limited_client: httpx.AsyncClient) -> None:
    async with limited_client as client:
        for _ in range(2):
            await client.post(f"/invoices/{DRAFT_INVOICE_ID}/send", json=send_body(), headers=auth())
        other = await client.post(
            f"/invoices/{OTHER_LOCATION_DRAFT_ID}/send", json=send_body(altId=SEED_LOCATIONS[1]), headers=auth()
        )
        assert other.status_code == 200


async def test_every_send_answer_carries_the_rate_limit_headers(client: httpx.AsyncClient) -> None:
    answers = [
        await client.post(f"/invoices/{DRAFT_INVOICE_ID}/send", json=send_body(), headers=auth()),
        await client.post(f"/invoices/{DRAFT_INVOICE_ID}/send", json=send_body()),
        await client.post(f"/invoices/{DRAFT_INVOICE_ID}/send", content=b"nope", headers=auth()),
        await client.post("/invoices/0123456789abcdef01234567/send", json=send_body(), headers=auth()),
        await client.post(
            f"/invoices/{DRAFT_INVOICE_ID}/send", json=send_body(), headers=auth(**{"X-Sandbox-Fault": "503"})
        ),
    ]

    assert [a.status_code for a in answers] == [200, 401, 422, 404, 503]
    for answer in answers:
        assert all(name in answer.headers for name in RATE_LIMIT_HEADERS), answer.headers
    # Authenticated requests count against their location's budget whatever their outcome; the 401
    # (checked before anything is counted) and the 503 fault do not.
    assert answers[-1].headers["X-RateLimit-Remaining"] == "98"
    assert answers[-1].headers["X-RateLimit-Daily-Remaining"] == str(200_000 - 2)


async def test_reset_restores_the_budget(limited_client: httpx.AsyncClient) -> None:
    async with limited_client as client:
        for _ in range(3):
            await client.post(f"/invoices/{DRAFT_INVOICE_ID}/send", json=send_body(), headers=auth())
        await client.post("/_sandbox/reset")
        after = await client.post(f"/invoices/{DRAFT_INVOICE_ID}/send", json=send_body(), headers=auth())
        assert after.status_code == 200
        assert after.headers["X-RateLimit-Remaining"] == "1"


# Issue 10 §6. The tests below fail on the sandbox before the fix.


async def test_unauthenticated_requests_make_no_bucket(
    client: httpx.AsyncClient, app_state_limiter: RateLimiter
) -> None:
    # Old code: every distinct altId of an unauthenticated request made a bucket, kept forever.
    for i in range(20):
        body = send_body(altId=f"{i:02d}" * 5000)
        for headers in ({"Version": "2021-07-28"}, auth("not-a-token")):
            answer = await client.post(f"/invoices/{DRAFT_INVOICE_ID}/send", json=body, headers=headers)
            assert answer.status_code == 401
            assert all(name in answer.headers for name in RATE_LIMIT_HEADERS)
    assert len(app_state_limiter) == 0


def test_bucket_memory_stays_bounded(clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rate_limit, "MAX_BUCKETS", 50)
    limits = limiter(clock)
    for i in range(500):
        limits.hit(f"location-{i}-" + "x" * 10_000)
        clock.advance(0.01)
    assert len(limits) <= 50
    assert all(len(key) <= 100 for key in limits._buckets)
    # A location still in its window keeps its count.
    for _ in range(3):
        limits.hit("busy")
    assert not limits.hit("busy").allowed


@pytest.mark.parametrize("content_type", ["application/json;", "application/json;;", "application/json; charset=utf-8"])
async def test_a_content_type_with_empty_parameters_is_json(
    client: httpx.AsyncClient, openapi: OpenAPI, content_type: str
) -> None:
    # Old code: openapi-core raised on the empty parameter: plain-text 500 without rate-limit headers.
    answer = await client.post(
        f"/invoices/{DRAFT_INVOICE_ID}/send",
        content=json.dumps(send_body()).encode(),
        headers=auth(**{"Content-Type": content_type}),
    )
    assert answer.status_code == 200
    assert_conforms(openapi, answer)


async def test_a_content_type_with_a_malformed_parameter_is_a_422(client: httpx.AsyncClient, openapi: OpenAPI) -> None:
    answer = await client.post(
        f"/invoices/{DRAFT_INVOICE_ID}/send",
        content=json.dumps(send_body()).encode(),
        headers=auth(**{"Content-Type": "application/json; charset"}),
    )
    assert answer.status_code == 422
    assert answer.json()["message"] == ['header Content-Type: malformed parameter "charset"']
    assert_conforms(openapi, answer)


@pytest.mark.parametrize("segment", ["%2e%2e", "%2E", ".%2e"])
async def test_a_dot_segment_id_with_a_valid_token_is_a_422_not_a_401(
    client: httpx.AsyncClient, openapi: OpenAPI, segment: str
) -> None:
    # Old code: 401 "Invalid token" although the token was valid.
    answer = await client.post(f"/invoices/{segment}/send", json=send_body(), headers=auth())
    assert answer.status_code == 422
    assert "invoiceId" in answer.json()["message"][0]
    assert all(name in answer.headers for name in RATE_LIMIT_HEADERS)
