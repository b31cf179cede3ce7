"""Compare our send (or read) operation with the upstream OpenAPI document and list every difference.

    python -m scripts.upstream_drift                       # against upstream's v2 and v3 excerpts (spec/upstream/)
    python -m scripts.upstream_drift PATH_OR_URL ...       # any upstream documents, JSON or YAML
    python -m scripts.upstream_drift --suggest-known       # also print YAML entries for new differences
    python -m scripts.upstream_drift --operation read      # GET /invoices/{invoiceId} against get-invoice, v2 and v3
    python -m scripts.upstream_drift --operation webhook   # the InvoiceSent webhook against upstream's page

What is compared, and when a difference counts as known: the package's docstring
(`scripts/upstream_drift/__init__.py`).

Exit status: 0 no new differences, 1 new differences, 2 a document could not be read or compared.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from scripts.project import ROOT, SPEC_PATH
from scripts.upstream_drift.check import run_all
from scripts.upstream_drift.documents import DriftError
from scripts.upstream_drift.known import suggest
from scripts.upstream_drift.operations import OPERATIONS
from scripts.upstream_drift.render import render, render_stale


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def main(argv: Sequence[str] | None = None) -> int:
    # Named as it is run: argparse would otherwise call a package's command "__main__.py".
    parser = argparse.ArgumentParser(prog="python -m scripts.upstream_drift", description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "upstream",
        nargs="*",
        help="upstream documents (paths or URLs; default: the operation's vendored excerpts, v2 and v3)",
    )
    parser.add_argument("--operation", choices=sorted(OPERATIONS), default="send", help="which call (default send)")
    parser.add_argument("--spec", type=Path, default=SPEC_PATH, help="our spec (default: spec/openapi.yaml)")
    parser.add_argument("--known", type=Path, help="known and intended differences (YAML; default: the operation's)")
    parser.add_argument(
        "--suggest-known", action="store_true", help="print YAML entries for the new differences, to fill in"
    )
    args = parser.parse_args(argv)
    operation = OPERATIONS[args.operation]
    upstreams = args.upstream or [str(path) for path in operation.upstreams]
    known = args.known or operation.known
    try:
        reports, stale = run_all(upstreams, spec=args.spec, known=known, operation=operation)
    except DriftError as exc:
        print(f"upstream-drift: {exc}", file=sys.stderr)
        return 2
    for index, (report, upstream) in enumerate(zip(reports, upstreams, strict=True)):
        shown = upstream if "://" in upstream else _shown(Path(upstream))
        text = render(report, ours=_shown(args.spec), upstream=shown, stale=False, operation=operation)
        print(("\n" if index else "") + text)
    if stale:
        print("\n" + render_stale(stale))
    new = sorted({d for report in reports for d in report.new})
    if args.suggest_known and new:
        print("\n# Entries for " + str(known) + " (fill in each reason):")
        print(suggest(new))
    return 1 if new else 0
