"""Run the benchmarks and print their Markdown table (see the package's docstring)."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence

from scripts.bench import __doc__ as DOC
from scripts.bench.bulk import bench_g, bench_h
from scripts.bench.client import bench_a, bench_b, bench_c
from scripts.bench.hosts import bench_p, bench_q
from scripts.bench.ledger import bench_ledger
from scripts.bench.paced import bench_e
from scripts.bench.regeneration import bench_d
from scripts.bench.sandbox import bench_f
from scripts.bench.timing import Row
from scripts.bench.webhooks import bench_w


def table(rows: Sequence[Row]) -> str:
    lines = ["| benchmark | sync | async | target | met |", "|---|---|---|---|---|"]
    for row in rows:
        met = "" if row.ok is None else ("yes" if row.ok else "**no**")
        lines.append(f"| {row.name} | {row.sync} | {row.async_} | {row.target} | {met} |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=DOC.splitlines()[0] if DOC else None)
    parser.add_argument("--only", nargs="*", choices=list("abcdefghlpqw"), default=list("abcdefghlpqw"))
    parser.add_argument("--loopback-calls", type=int, default=1000, help="calls per side for (b) (default 1000)")
    parser.add_argument("--throughput-sends", type=int, default=3000, help="sends for (f) (default 3000)")
    parser.add_argument("--paced-sends", type=int, default=500, help="sends per mode for (e) (default 500)")
    parser.add_argument("--bulk-sends", type=int, default=1000, help="rows for (g) (default 1000)")
    parser.add_argument(
        "--paired-sends", type=int, default=2000, help="sends per side and round for (h) (default 2000)"
    )
    parser.add_argument("--webhook-events", type=int, default=3000, help="events for (w) (default 3000)")
    args = parser.parse_args(argv)
    benches: dict[str, Callable[[], Row]] = {
        "a": bench_a,
        "b": lambda: bench_b(args.loopback_calls),
        "c": bench_c,
        "d": bench_d,
        "e": lambda: bench_e(args.paced_sends),
        "f": lambda: bench_f(args.throughput_sends),
        "g": lambda: bench_g(args.bulk_sends),
        "h": lambda: bench_h(args.paired_sends),
        "l": bench_ledger,
        "p": bench_p,
        "q": lambda: bench_q(args.bulk_sends),
        "w": lambda: bench_w(args.webhook_events),
    }
    rows = []
    for key in args.only:
        rows.append(benches[key]())
        print(f"done: {rows[-1].name}", flush=True)
    print()
    print(table(rows))
    return 0 if all(row.ok is not False for row in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
