# Copied from spec/runtime/_pacing.py by a post hook in spec/generator.yaml. Edit that file, then run scripts/nox -s generate.
# Source sha256: e19f430e7c00fbc6cdbaf0021fef88a992d808c0c9940e44e6629237809a9eef
"""Opt-in pacing: wait before a location's burst budget runs out, so a loop of sends meets no 429.

The API allows X-RateLimit-Max requests per X-RateLimit-Interval-Milliseconds per location and
reports what is left in X-RateLimit-Remaining. The pacer sends while the budget lasts; when it is
spent, it waits until the oldest of the last `max` answers is one interval old. That is when the
window that counted them has passed, whether the server counts in fixed windows opened by the
first request or in a sliding log; timing from answers (not sends) keeps the estimate on the safe
side. One pacer may be shared by several clients (same budget) and by threads or tasks.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field

import httpx

# While the budget is unknown (first request, or just after a wait) one request goes out to learn
# it; concurrent ones poll at this period until its answer arrives.
_POLL = 0.005


@dataclass(slots=True)
class _Budget:
    remaining: int | None = None
    maximum: int = 0
    interval: float = 0.0
    in_flight: int = 0
    probing: bool = False
    answers: deque[float] = field(default_factory=deque)


class Pacer:
    """Per-location rate-limit pacing from the API's X-RateLimit-* headers.

    `margin` (seconds) is added to every computed wait. Locations are told apart by the request
    body's `altId`, so one agency token sending for many locations paces each separately.
    """

    def __init__(self, *, margin: float = 0.002) -> None:
        self.margin = margin
        self._lock = threading.Lock()
        self._budgets: dict[str, _Budget] = {}

    def __repr__(self) -> str:
        return f"Pacer(margin={self.margin}, locations={len(self._budgets)})"

    @staticmethod
    def key(request: httpx.Request) -> str:
        try:
            body = json.loads(request.content) if request.content else None
        except ValueError:
            return ""
        alt_id = body.get("altId") if isinstance(body, dict) else None
        return alt_id if isinstance(alt_id, str) else ""

    def acquire(self, key: str) -> float:
        """Reserve one request for `key`: 0.0 when it may go now, else seconds to wait and ask again."""
        now = time.monotonic()
        with self._lock:
            budget = self._budgets.setdefault(key, _Budget())
            if budget.remaining is None:
                if budget.probing:
                    return _POLL
                budget.probing = True
            elif budget.remaining > 0:
                budget.remaining -= 1
            else:
                wake = self._refill_time(budget, now)
                if wake > now:
                    return wake - now
                # The window has passed: the budget is unknown until the next answer.
                budget.remaining = None
                budget.probing = True
            budget.in_flight += 1
            return 0.0

    def release(self, key: str, response: httpx.Response | None) -> None:
        """Account for the answer to a request `acquire` let through (None: no answer arrived)."""
        now = time.monotonic()
        with self._lock:
            budget = self._budgets[key]
            budget.in_flight -= 1
            budget.probing = False
            if response is None:
                return
            remaining = _int(response.headers.get("X-RateLimit-Remaining"))
            maximum = _int(response.headers.get("X-RateLimit-Max"))
            interval = _int(response.headers.get("X-RateLimit-Interval-Milliseconds"))
            if remaining is None or maximum is None or interval is None:
                return
            budget.maximum, budget.interval = maximum, interval / 1000
            budget.answers.append(now)
            while len(budget.answers) > maximum:
                budget.answers.popleft()
            if response.status_code == 429:
                remaining = 0
            # Requests still in flight will spend budget the server has not counted yet.
            budget.remaining = max(0, remaining - budget.in_flight)

    def _refill_time(self, budget: _Budget, now: float) -> float:
        if not budget.answers:
            return now + budget.interval + self.margin
        # The oldest answer the window can still hold; with fewer than `maximum` answers we joined
        # mid-window (or share it), and the oldest one we saw is the best bound we have.
        return budget.answers[0] + budget.interval + self.margin


def _int(value: str | None) -> int | None:
    if value is None:
        return None
    value = value.strip()
    return int(value) if value.isdigit() else None
