"""Record the contract cassettes: the generated client, sync and async, through named scenarios.

    python -m contract_tests.record                  # every scenario against a fresh local sandbox
    python -m contract_tests.record --list           # the scenarios and what each one shows
    python -m contract_tests.record --scenario email-test-mode --scenario invalid-token-401

    # Production, explicit opt-in only: SENDS REAL REQUESTS with your token.
    LEADWAY_CONTRACT_TOKEN=... python -m contract_tests.record --target production \\
        --invoice-id ID --location-id ID --user-id ID

Each scenario runs once with `send_invoice.sync_detailed` and once with `asyncio_detailed`, and is
recorded by vcrpy into `contract_tests/cassettes/<target>/<sync|async>/<scenario>.yaml`. The sandbox
is served on a free loopback port and reset before every recording; its URL is rewritten to the
spec's sandbox server (`http://127.0.0.1:8765`) so the cassettes replay wherever they run.

Nothing reaches disk unscrubbed: `contract_tests.scrub.Scrubber` runs as vcrpy's before-record hooks, so
Authorization becomes `Bearer REDACTED` and emails, phones, names and addresses become numbered
placeholders, the same real value always the same placeholder across the whole run.

The scenarios live in `contract_tests/scenarios.py`, the targets in `targets.py`, running and checking
them in `runner.py` (the suite replays what this records); against production only the ones marked
safe run. Retries are off while recording, so each cassette holds exactly the attempts the scenario
made.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import vcr
from leadway_invoices_client._runtime.constants import PRODUCTION_URL

from contract_tests import CASSETTES, CONTRACT_TOKEN_ENV
from contract_tests.runner import MODES, cassette_path, check_outcomes, run
from contract_tests.scenarios import SCENARIOS, Scenario
from contract_tests.scrub import Scrubber
from contract_tests.targets import RecordingError, RecordingTarget, production_target, sandbox_target


def recorder(scrubber: Scrubber, real_base_url: str, shown_base_url: str) -> vcr.VCR:
    real, shown = urlsplit(real_base_url).netloc, urlsplit(shown_base_url).netloc

    def show_canonical_url(request: Any) -> Any:
        # The sandbox runs on a free port; cassettes show the spec's server so they replay anywhere.
        if request.uri.startswith(real_base_url):
            request.uri = shown_base_url + request.uri[len(real_base_url) :]
        headers = dict(request.headers)
        for name in headers:
            if name.lower() == "host" and headers[name] == real:
                headers[name] = shown
        request.headers = headers
        return request

    def drop_volatile_headers(response: dict[str, Any]) -> dict[str, Any]:
        # Re-recording an unchanged API should give unchanged cassettes.
        headers = {k: v for k, v in response["headers"].items() if k.lower() != "date"}
        return {**response, "headers": headers}

    # record_mode "all": never replay while recording (a second identical send must really be sent).
    return vcr.VCR(
        record_mode="all",
        before_record_request=[show_canonical_url, scrubber.request],
        before_record_response=[scrubber.response, drop_volatile_headers],
        decode_compressed_response=True,
    )


@contextmanager
def _serving(target: RecordingTarget) -> Iterator[tuple[str, Callable[[], None]]]:
    """The real base URL to send to, and how to reset the target before a scenario."""
    if target.name != "sandbox":
        yield target.base_url, lambda: None
        return
    from scripts.sandbox import SandboxConfig, create_app, serve_in_thread
    from scripts.sandbox.state import fixed_clock

    # A fixed wall clock: re-recording gives the same updatedAt values, so cassettes change only
    # when behaviour does.
    app = create_app(SandboxConfig(wall_clock=fixed_clock))
    with serve_in_thread(app) as base_url:
        yield base_url, app.state.sandbox.reset


def record(
    target: RecordingTarget,
    scenarios: Sequence[Scenario],
    *,
    out: Path = CASSETTES,
    modes: Sequence[str] = MODES,
    log: Callable[[str], None] = print,
) -> list[Path]:
    """Record every scenario in every mode; returns the cassettes written."""
    scrubber = Scrubber(secrets=target.secrets)
    written: list[Path] = []
    with _serving(target) as (real_base_url, reset):
        cassettes = recorder(scrubber, real_base_url, target.base_url)
        for scenario in scenarios:
            if not scenario.runs_on(target):
                log(f"skip   {scenario.name} (not for {target.name})")
                continue
            for mode in modes:
                reset()
                path = cassette_path(out, target, mode, scenario)
                path.parent.mkdir(parents=True, exist_ok=True)
                path.unlink(missing_ok=True)
                with cassettes.use_cassette(str(path)):
                    outcomes = run(scenario, target, real_base_url, mode)
                try:
                    check_outcomes(scenario, outcomes)
                except RecordingError:
                    path.unlink(missing_ok=True)
                    raise
                written.append(path)
                log(f"record {path.relative_to(out)}: {', '.join(str(o.status) for o in outcomes)}")
    return written


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--target", choices=["sandbox", "production"], default="sandbox")
    parser.add_argument("--scenario", action="append", choices=sorted(SCENARIOS), help="only these (repeatable)")
    parser.add_argument("--mode", action="append", choices=MODES, help="only sync or async (default both)")
    parser.add_argument("--list", action="store_true", help="list the scenarios and exit")
    parser.add_argument(
        "--out", type=Path, default=CASSETTES, help="cassette folder (default contract_tests/cassettes)"
    )
    parser.add_argument("--invoice-id", help="production: the test invoice (a draft you own)")
    parser.add_argument("--location-id", help="production: the invoice's location (altId)")
    parser.add_argument("--user-id", help="production: the user the sends are made as")
    parser.add_argument("--production-url", default=PRODUCTION_URL, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.list:
        for scenario in SCENARIOS.values():
            where = "sandbox, production" if scenario.production else "sandbox"
            print(f"{scenario.name:28} {'/'.join(map(str, scenario.expect)):8} {where:20} {scenario.summary}")
        return 0
    try:
        if args.target == "production":
            target = production_target(
                token=os.environ.get(CONTRACT_TOKEN_ENV),
                invoice=args.invoice_id,
                location=args.location_id,
                user=args.user_id,
                base_url=args.production_url,
            )
            print(f"Recording against {target.base_url}: these are REAL requests.", file=sys.stderr)
        else:
            target = sandbox_target()
        scenarios = [SCENARIOS[name] for name in args.scenario] if args.scenario else list(SCENARIOS.values())
        record(target, scenarios, out=args.out, modes=args.mode or MODES)
    except (RecordingError, httpx.HTTPError) as exc:
        print(f"record: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
