"""Upstream-like rate limits: a burst budget per location per interval and a daily budget.

Both are fixed windows aligned on the injected clock (window = floor(now / length)), which keeps the
limiter deterministic: the same clock readings always give the same answers.

Memory stays bounded whatever clients send: only counted requests (authenticated ones) make a
bucket, `peek` never makes one, a key longer than MAX_KEY_LENGTH is stored by its digest, and past
MAX_BUCKETS the buckets whose windows have all passed are dropped, then the oldest.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass

DAY_SECONDS = 86_400
MAX_KEY_LENGTH = 64
MAX_BUCKETS = 10_000


@dataclass(frozen=True)
class RateLimitStatus:
    """One bucket's budget as reported to the client, and whether this request may proceed."""

    allowed: bool
    burst_limit: int
    burst_remaining: int
    interval_ms: int
    daily_limit: int
    daily_remaining: int
    #: Whole seconds until the exhausted window ends; set only when the request was refused.
    retry_after: int | None = None

    def headers(self) -> dict[str, str]:
        """The five X-RateLimit-* headers, plus Retry-After on a refusal."""
        headers = {
            "X-RateLimit-Limit-Daily": str(self.daily_limit),
            "X-RateLimit-Daily-Remaining": str(self.daily_remaining),
            "X-RateLimit-Interval-Milliseconds": str(self.interval_ms),
            "X-RateLimit-Max": str(self.burst_limit),
            "X-RateLimit-Remaining": str(self.burst_remaining),
        }
        if self.retry_after is not None:
            headers["Retry-After"] = str(self.retry_after)
        return headers


@dataclass
class _Bucket:
    burst_window: int = -1
    burst_used: int = 0
    day: int = -1
    day_used: int = 0


class RateLimiter:
    """Counts requests per key (a location id) in a burst window and a day window.

    Thread-safe: the served app and a test thread may use it at once.
    """

    def __init__(self, burst_limit: int, interval_ms: int, daily_limit: int, clock: Callable[[], float]) -> None:
        self.burst_limit = burst_limit
        self.interval_ms = interval_ms
        self.daily_limit = daily_limit
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def hit(self, key: str) -> RateLimitStatus:
        """Count one request against `key`, unless a budget is spent (then refuse and count nothing)."""
        with self._lock:
            now, bucket = self._current(key)
            refusal = self._retry_after(now, bucket)
            if refusal is None:
                bucket.burst_used += 1
                bucket.day_used += 1
            return self._status(bucket, allowed=refusal is None, retry_after=refusal)

    def peek(self, key: str) -> RateLimitStatus:
        """The budget of `key` without counting a request (for answers that never reached the limiter).

        Makes no bucket: an unknown key reports a full budget.
        """
        with self._lock:
            if _stored(key) not in self._buckets:
                return self._status(_Bucket(), allowed=True, retry_after=None)
            now, bucket = self._current(key)
            return self._status(bucket, allowed=self._retry_after(now, bucket) is None, retry_after=None)

    def __len__(self) -> int:
        """How many buckets are kept."""
        return len(self._buckets)

    def refuse(self, key: str) -> RateLimitStatus:
        """A refusal as if the burst budget were spent now (the `rate-limit` fault); counts nothing."""
        with self._lock:
            now, bucket = self._current(key)
            retry_after = self._retry_after(now, bucket) or self._until_burst_window_ends(now)
            status = self._status(bucket, allowed=False, retry_after=retry_after)
            return dataclasses.replace(status, burst_remaining=0)

    def reset(self) -> None:
        """Forget every count."""
        with self._lock:
            self._buckets.clear()

    def _current(self, key: str) -> tuple[float, _Bucket]:
        now = self._clock()
        key = _stored(key)
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= MAX_BUCKETS:
                self._prune(now)
            bucket = self._buckets[key] = _Bucket()
        window = math.floor(now * 1000 / self.interval_ms)
        if window != bucket.burst_window:
            bucket.burst_window, bucket.burst_used = window, 0
        day = math.floor(now / DAY_SECONDS)
        if day != bucket.day:
            bucket.day, bucket.day_used = day, 0
        return now, bucket

    def _prune(self, now: float) -> None:
        window = math.floor(now * 1000 / self.interval_ms)
        day = math.floor(now / DAY_SECONDS)
        for key in [k for k, b in self._buckets.items() if b.burst_window != window and b.day != day]:
            del self._buckets[key]
        while len(self._buckets) >= MAX_BUCKETS:
            del self._buckets[next(iter(self._buckets))]

    def _retry_after(self, now: float, bucket: _Bucket) -> int | None:
        # The daily budget wins when both are spent: waiting out the burst window would not help.
        if bucket.day_used >= self.daily_limit:
            return max(1, math.ceil((bucket.day + 1) * DAY_SECONDS - now))
        if bucket.burst_used >= self.burst_limit:
            return self._until_burst_window_ends(now)
        return None

    def _until_burst_window_ends(self, now: float) -> int:
        window_end = (math.floor(now * 1000 / self.interval_ms) + 1) * self.interval_ms / 1000
        return max(1, math.ceil(window_end - now))

    def _status(self, bucket: _Bucket, *, allowed: bool, retry_after: int | None) -> RateLimitStatus:
        return RateLimitStatus(
            allowed=allowed,
            burst_limit=self.burst_limit,
            burst_remaining=max(0, self.burst_limit - bucket.burst_used),
            interval_ms=self.interval_ms,
            daily_limit=self.daily_limit,
            daily_remaining=max(0, self.daily_limit - bucket.day_used),
            retry_after=retry_after,
        )


def _stored(key: str) -> str:
    # A location id is 20-odd characters; anything much longer is kept by its digest, not in full.
    if len(key) <= MAX_KEY_LENGTH:
        return key
    return "sha256:" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
