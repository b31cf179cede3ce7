"""(d): seconds to regenerate the package and to run the drift check."""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from scripts import generate
from scripts.bench.timing import Row


def bench_d() -> Row:
    times: list[float] = []
    drifts: list[float] = []
    for _ in range(3):
        with tempfile.TemporaryDirectory(prefix="leadway-bench-") as scratch:
            start = time.perf_counter()
            generate.generate_into(Path(scratch) / "out")
            times.append(time.perf_counter() - start)
        start = time.perf_counter()
        stale = generate.drift()
        drifts.append(time.perf_counter() - start)
    text = f"regenerate {statistics.median(times):.2f} s, drift check {statistics.median(drifts):.2f} s"
    return Row("(d) regeneration and drift check", text, "", "drift clean", not stale)
