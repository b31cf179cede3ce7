"""What every benchmark shares: a row of the table, side-by-side timing, and the send they all make."""

from __future__ import annotations

import asyncio
import gc
import json
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from leadway_invoices_client.models import SendAction, SendInvoiceRequest
from leadway_invoices_client.models.alt_type import AltType

from scripts.project import example
from scripts.sandbox import DEFAULT_TOKEN, DRAFT_INVOICE_ID, SEED_LOCATIONS, SEED_USER_ID

HEADERS = {"Authorization": f"Bearer {DEFAULT_TOKEN}", "Version": "2021-07-28"}
BODY = SendInvoiceRequest(
    alt_id=SEED_LOCATIONS[0], alt_type=AltType.LOCATION, user_id=SEED_USER_ID, action=SendAction.SMS, live_mode=False
)
PATH = f"/invoices/{DRAFT_INVOICE_ID}/send"


@dataclass
class Row:
    name: str
    sync: str
    async_: str
    target: str
    ok: bool | None


def example_answer() -> bytes:
    return json.dumps(example("response", "leadwayPage")).encode()


def after_collect(timed: Callable[[], float]) -> Callable[[], float]:
    def run() -> float:
        gc.collect()
        return timed()

    return run


def side_by_side(ours: Callable[[], float], theirs: Callable[[], float], rounds: int) -> tuple[float, float, float]:
    """Median seconds per call of each side over alternating rounds, and the median paired ratio.

    Each round times both sides back to back (alternating which goes first), so a burst of load
    from elsewhere on the machine shifts one round's pair, not one side's whole sample.
    """
    a: list[float] = []
    b: list[float] = []
    # Start every timed block with an empty young generation, so a collection owed to one side's
    # garbage is not charged to the other.
    ours, theirs = after_collect(ours), after_collect(theirs)
    for i in range(rounds):
        if i % 2:
            b.append(theirs())
            a.append(ours())
        else:
            a.append(ours())
            b.append(theirs())
    ratio = statistics.median(x / y for x, y in zip(a, b, strict=True))
    return statistics.median(a), statistics.median(b), ratio


def timed(call: Callable[[], object], n: int) -> Callable[[], float]:
    def run() -> float:
        start = time.perf_counter()
        for _ in range(n):
            call()
        return (time.perf_counter() - start) / n

    return run


def atimed(loop: asyncio.AbstractEventLoop, call: Callable[[], Awaitable[object]], n: int) -> Callable[[], float]:
    async def many() -> float:
        start = time.perf_counter()
        for _ in range(n):
            await call()
        return (time.perf_counter() - start) / n

    return lambda: loop.run_until_complete(many())
