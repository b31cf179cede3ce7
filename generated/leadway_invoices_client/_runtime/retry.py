"""When to send a request again, decided per method here and nowhere else.

A send (POST) is not idempotent: it is retried only when it provably did not run (a 429, or a
failure before a byte left). A read (GET, HEAD, OPTIONS) is idempotent: it is also retried after a
read timeout, a dropped connection and a 502/503/504, within the same bounds (attempts, max_wait).

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

from . import wire
from .constants import RETRY_ATTEMPTS, RETRY_BACKOFF, RETRY_MAX_WAIT
from .errors import MAYBE_SENT, NOT_SENT
from .validation import seconds

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# 429 says the request was not processed. 5xx proves nothing for a write (upstream answers 500 to
# writes that happened), so a send never retries it; a read may.
_STATUS = {False: (429,), True: (429, 502, 503, 504)}
_EXCEPTIONS: dict[bool, tuple[type[Exception], ...]] = {
    False: NOT_SENT,
    True: NOT_SENT + MAYBE_SENT,
}
# Extra wait on top of the server's hint, so clients that were refused together do not return together.
HINT_JITTER = 0.1


def is_idempotent(method: str) -> bool:
    """Whether a request with `method` may run twice without harm (so may be retried after it was sent)."""
    return method.upper() in IDEMPOTENT_METHODS


def retry_on_status(method: str) -> tuple[int, ...]:
    """The statuses after which a request with `method` is sent again."""
    return _STATUS[is_idempotent(method)]


def retry_on_exceptions(method: str) -> tuple[type[Exception], ...]:
    """The httpx failures after which a request with `method` is sent again."""
    return _EXCEPTIONS[is_idempotent(method)]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how long to retry what is safe to retry (see the module's docstring).

    `attempts` counts the first try: 1 turns retries off (so does `RetryPolicy.off()` or passing
    `retry=None` to the client). A 429 waits for Retry-After, else for the rate-limit interval
    (X-RateLimit-Interval-Milliseconds), else for `backoff` doubling per attempt; every wait gets
    jitter and is capped at `max_wait` seconds.
    """

    attempts: int = RETRY_ATTEMPTS
    max_wait: float = RETRY_MAX_WAIT
    backoff: float = RETRY_BACKOFF

    def __post_init__(self) -> None:
        if isinstance(self.attempts, bool) or not isinstance(self.attempts, int) or self.attempts < 1:
            raise ValueError(f"attempts must be an int of at least 1 (the first try), not {self.attempts!r}")
        if self.attempts > 100:
            raise ValueError(f"attempts must be at most 100, not {self.attempts!r}")
        seconds("max_wait", self.max_wait, positive=True)
        seconds("backoff", self.backoff)

    @classmethod
    def off(cls) -> RetryPolicy:
        return cls(attempts=1)

    def to_retry(self, method: str = "POST") -> Retry:
        """The httpx-retries configuration for requests with `method`."""
        return _SafeRetry(
            total=self.attempts - 1,
            allowed_methods=[method.upper()],
            status_forcelist=retry_on_status(method),
            retry_on_exceptions=retry_on_exceptions(method),
            backoff_factor=self.backoff,
            max_backoff_wait=self.max_wait,
            backoff_jitter=1.0,
        )


class _SafeRetry(Retry):
    """httpx-retries' Retry, waiting out a 429 by the API's own rate-limit interval when the answer
    has no Retry-After (upstream does not document one)."""

    def wait_for(self, outcome: httpx.Response | Exception) -> float:
        if isinstance(outcome, httpx.Response):
            hint = wire.retry_after(outcome.headers.get("Retry-After"))
            if hint is None:
                hint = wire.interval_seconds(outcome.headers.get("X-RateLimit-Interval-Milliseconds"))
            if hint is not None:
                return min(hint * random.uniform(1.0, 1.0 + HINT_JITTER), self.max_backoff_wait)  # noqa: S311
        # attempts_made >= 1 here: backoff_strategy doubles from backoff_factor, jittered and capped.
        return min(self.backoff_strategy(), self.max_backoff_wait)

    def sleep(self, response: httpx.Response | Exception) -> None:
        seconds = self.wait_for(response)
        time.sleep(seconds)
        self.elapsed_sleep += seconds

    async def asleep(self, response: httpx.Response | Exception) -> None:
        seconds = self.wait_for(response)
        await asyncio.sleep(seconds)
        self.elapsed_sleep += seconds
