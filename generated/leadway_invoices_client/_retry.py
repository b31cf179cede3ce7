# Copied from spec/runtime/_retry.py by a post hook in spec/generator.yaml. Edit that file, then run scripts/nox -s generate.
# Source sha256: 57387f08394bae702abf845c92a59cd463bd344998143ada8cf6ab07b10f55d7
"""When to send a request again: only when it provably did not run.

The mechanics are httpx-retries'; this module only configures them. Its defaults would retry read
timeouts and dropped connections ten times without waiting (a double send for a non-idempotent
POST), and empty lists fall back to those defaults, so every list is given explicitly.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass

import httpx
from httpx_retries import Retry

from ._errors import parse_retry_after

# Failures before the request left the machine. Not ReadTimeout, WriteError or RemoteProtocolError:
# after those the server may already have sent the invoice.
RETRY_ON_EXCEPTIONS: tuple[type[Exception], ...] = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
# 429 says the request was not processed. 5xx proves nothing (upstream answers 500 to writes that
# happened), so it is never retried.
RETRY_ON_STATUS = (429,)
# Extra wait on top of the server's hint, so clients that were refused together do not return together.
HINT_JITTER = 0.1


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how long to retry what provably did not run (429s and connect failures).

    `attempts` counts the first try: 1 turns retries off (so does `RetryPolicy.off()` or passing
    `retry=None` to the client). A 429 waits for Retry-After, else for the rate-limit interval
    (X-RateLimit-Interval-Milliseconds), else for `backoff` doubling per attempt; every wait gets
    jitter and is capped at `max_wait` seconds.
    """

    attempts: int = 3
    max_wait: float = 30.0
    backoff: float = 0.5

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("attempts must be at least 1 (the first try)")
        if self.max_wait <= 0 or self.backoff < 0:
            raise ValueError("max_wait must be positive and backoff not negative")

    @classmethod
    def off(cls) -> RetryPolicy:
        return cls(attempts=1)

    def to_retry(self) -> Retry:
        return _SafeRetry(
            total=self.attempts - 1,
            allowed_methods=["POST", "GET", "HEAD", "PUT", "PATCH", "DELETE", "OPTIONS"],
            status_forcelist=RETRY_ON_STATUS,
            retry_on_exceptions=RETRY_ON_EXCEPTIONS,
            backoff_factor=self.backoff,
            max_backoff_wait=self.max_wait,
            backoff_jitter=1.0,
        )


class _SafeRetry(Retry):
    """httpx-retries' Retry, waiting out a 429 by the API's own rate-limit interval when the answer
    has no Retry-After (upstream does not document one)."""

    def wait_for(self, outcome: httpx.Response | Exception) -> float:
        if isinstance(outcome, httpx.Response):
            hint = parse_retry_after(outcome.headers.get("Retry-After"))
            if hint is None:
                interval = outcome.headers.get("X-RateLimit-Interval-Milliseconds", "")
                hint = int(interval) / 1000 if interval.strip().isdigit() else None
            if hint is not None:
                return min(hint * random.uniform(1.0, 1.0 + HINT_JITTER), self.max_backoff_wait)  # noqa: S311
        # attempts_made >= 1 here: backoff_strategy doubles from backoff_factor, jittered and capped.
        return self.backoff_strategy()

    def sleep(self, response: httpx.Response | Exception) -> None:
        seconds = self.wait_for(response)
        time.sleep(seconds)
        self.elapsed_sleep += seconds

    async def asleep(self, response: httpx.Response | Exception) -> None:
        seconds = self.wait_for(response)
        await asyncio.sleep(seconds)
        self.elapsed_sleep += seconds
