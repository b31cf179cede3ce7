"""Opt-in pacing: wait before a location's burst budget runs out, so a loop of sends meets no 429.

The API allows X-RateLimit-Max requests per X-RateLimit-Interval-Milliseconds per location and
reports what is left in X-RateLimit-Remaining. The pacer sends while the budget lasts; when it is
spent, it waits for every request still in flight to answer, then until the oldest of the last
`max` answers is one interval old. That is when the window that counted them has passed, whether the
server counts in fixed windows or in a sliding log; timing from answers (not sends) keeps the
estimate on the safe side. After a wait the budget is unknown: one request goes alone to learn it.

Shared by threads, asyncio tasks and several clients, the budget only goes down while requests are
in flight: an answer that arrives late (overtaken by later ones) cannot raise it again, requests still
in flight are subtracted from what an answer reports, and a new window starts only once every
request of the old one has answered. Once every request let through has answered, the budget is the
lowest remaining the server reported in the window (0 after a 429): subtracting in-flight requests
the server had already counted can only have underestimated it.

Every wait is capped: an interval above `max_wait` (absurd, or a server misconfigured to a day) is
treated as `max_wait`, so a send waits at most about that long; should the server still refuse, the
429 is a RateLimitError (retried per the client's RetryPolicy, whose waits are capped too).
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import NamedTuple

import httpx

from . import wire
from .constants import PACER_MARGIN, PACER_MAX_WAIT
from .validation import seconds

LOCATION = "leadway_invoices_client.location"
"""The request extension naming the location (`altId`) a request counts against: every operation's
request carries it (`call.Call`), so the pacer need not read it back out of the body."""
# While the budget is unknown (first request, or just after a wait), or spent with requests still
# in flight, others ask again at this period.
_POLL = 0.005


class Ticket(NamedTuple):
    """What `acquire` hands out and `release` takes back."""

    probe: bool
    """The request goes alone to learn the budget (first request, or first after a wait)."""


@dataclass(slots=True)
class _Budget:
    remaining: int | None = None
    maximum: int = 0
    interval: float = 0.0
    in_flight: int = 0
    lowest: int | None = None
    """The lowest remaining an answer reported in this window: what the server had left once it had
    counted every request answered so far."""
    probing: bool = False
    unpaced: bool = False
    """The last answer had no rate-limit headers: nothing to pace by."""
    answers: deque[float] = field(default_factory=deque)


class Pacer:
    """Per-location rate-limit pacing from the API's X-RateLimit-* headers.

    `margin` (seconds) is added to every computed wait. `max_wait` (seconds, default 60) caps the
    interval the pacer waits by, whatever a header says. Locations are told apart by the `altId` of
    the request (a send's body, a read's query), so one agency token sending for many locations paces
    each separately, and a read counts in the same budget as the sends of its location.
    """

    def __init__(self, *, margin: float = PACER_MARGIN, max_wait: float = PACER_MAX_WAIT) -> None:
        self.margin = seconds("margin", margin)
        self.max_wait = seconds("max_wait", max_wait, positive=True)
        self._lock = threading.Lock()
        self._budgets: dict[str, _Budget] = {}

    def __repr__(self) -> str:
        return f"Pacer(margin={self.margin}, max_wait={self.max_wait}, locations={len(self._budgets)})"

    @staticmethod
    def key(request: httpx.Request) -> str:
        """The location a request counts against: the `LOCATION` extension an operation's request
        carries; for a request built elsewhere, a read's `altId` query parameter or a send's body `altId`."""
        location = request.extensions.get(LOCATION)
        if isinstance(location, str):
            return location
        if request.method in ("GET", "HEAD"):
            return str(request.url.params.get("altId", ""))
        try:
            body = json.loads(request.content) if request.content else None
        except (ValueError, RecursionError):
            return ""
        alt_id = body.get("altId") if isinstance(body, dict) else None
        return alt_id if isinstance(alt_id, str) else ""

    def acquire(self, key: str) -> float | Ticket:
        """Reserve one request for `key`: a Ticket when it may go now, else seconds to wait and ask again."""
        now = time.monotonic()
        with self._lock:
            budget = self._budgets.setdefault(key, _Budget())
            probe = False
            if budget.unpaced:
                pass
            elif budget.remaining is None:
                if budget.probing:
                    return _POLL
                budget.probing = probe = True
            elif budget.remaining > 0:
                budget.remaining -= 1
            elif budget.in_flight:
                # Their answers are part of the window being waited out: wait for them first.
                return _POLL
            else:
                wake = self._refill_time(budget, now)
                if wake > now:
                    return wake - now
                # The window has passed: the budget is unknown until the next answer.
                budget.remaining = budget.lowest = None
                budget.probing = probe = True
            budget.in_flight += 1
            return Ticket(probe)

    def release(self, key: str, ticket: Ticket, response: httpx.Response | None) -> None:
        """Account for the answer to a request `acquire` let through (None: no answer arrived)."""
        now = time.monotonic()
        with self._lock:
            budget = self._budgets[key]
            budget.in_flight -= 1
            if ticket.probe:
                budget.probing = False
            if response is None:
                return
            limit = wire.RateLimit.from_headers(response.headers)
            interval = limit.interval
            if limit.remaining is None or not limit.max or interval is None:
                budget.unpaced = response.status_code != 429
                return
            budget.unpaced = False
            budget.maximum, budget.interval = limit.max, min(interval, self.max_wait)
            budget.answers.append(now)
            while len(budget.answers) > budget.maximum:
                budget.answers.popleft()
            if response.status_code == 429:
                budget.remaining = budget.lowest = 0
                return
            # Requests still in flight will spend budget the server has not counted yet.
            reported = max(0, limit.remaining - budget.in_flight)
            budget.remaining = reported if budget.remaining is None else min(budget.remaining, reported)
            budget.lowest = limit.remaining if budget.lowest is None else min(budget.lowest, limit.remaining)
            if budget.in_flight == 0:
                # Every request let through is answered, so counted: what is left is the lowest the
                # server reported. Subtracting in-flight requests the server had already counted
                # (answers overtake each other) can leave the estimate lower, and a burst would then
                # wait a whole interval for its last request.
                budget.remaining = budget.lowest

    def _refill_time(self, budget: _Budget, now: float) -> float:
        if not budget.answers:
            return now + budget.interval + self.margin
        # The oldest answer the window can still hold; with fewer than `maximum` answers we joined
        # mid-window (or share it), and the oldest one we saw is the best bound we have.
        return budget.answers[0] + budget.interval + self.margin
