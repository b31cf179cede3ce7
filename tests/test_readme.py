"""The README's usage example runs as written against the sandbox."""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys

from scripts.project import ROOT
from scripts.sandbox import SandboxConfig, create_app, serve_in_thread

README = (ROOT / "README.md").read_text(encoding="utf-8")
DOCUMENTED_URL = "http://127.0.0.1:8765"


def _usage_example() -> str:
    section = README.split("## Using the client", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match, "the 'Using the client' section must open with a python example"
    return match.group(1)


def test_the_usage_example_sends_sync_and_async_and_shows_a_detailed_error() -> None:
    example = _usage_example()
    assert DOCUMENTED_URL in example
    app = create_app()
    with serve_in_thread(app) as url:
        result = subprocess.run(
            [sys.executable, "-c", example.replace(DOCUMENTED_URL, url)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[:2] == ["sent 19", "sent"]
    assert lines[2].startswith("400 ErrorResponse(")
    # The two drafts were delivered (the second to two addresses); the paid invoice was not.
    delivered = {delivery.invoice_id for delivery in app.state.sandbox.outbox}
    assert delivered == {"6578278e879ad2646715ba9c", "6578278e879ad2646715ba9d"}


def _reconcile_example() -> str:
    section = README.split("### Reading an invoice and reconciling an unknown outcome", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match, "the reconciliation section must open with a python example"
    return match.group(1)


def test_the_reconcile_example_finds_the_send_whose_answer_was_lost() -> None:
    example = _usage_example() + _reconcile_example()
    app = create_app(SandboxConfig(faults={"65782a3c879ad2646715bb13": "drop-after-send"}))
    with serve_in_thread(app) as url:
        result = subprocess.run(
            [sys.executable, "-c", example.replace(DOCUMENTED_URL, url)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "sent draft sent 1"
    # The answer was lost, the send was not, and nothing sent it twice.
    assert [d.invoice_id for d in app.state.sandbox.outbox].count("65782a3c879ad2646715bb13") == 1


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, re.DOTALL)


def test_every_python_block_is_run_by_a_test_or_says_it_is_a_fragment() -> None:
    run = {_usage_example(), _reconcile_example()}
    others = [block for block in _blocks("python") if block not in run]

    assert len(run) == 2
    assert others, "the README has fragments too"
    for block in others:
        assert block.startswith("# A fragment: "), block
        compile(block, "README.md", "exec")  # a fragment is still Python


def test_the_csv_examples_use_invoices_the_demo_sandbox_serves() -> None:
    served = {
        invoice["_id"] for invoice in json.loads((ROOT / "examples/sandbox-invoices.json").read_text())["invoices"]
    }
    with (ROOT / "examples/invoices.csv").open(newline="", encoding="utf-8") as handle:
        demo_rows = {row["key"]: row for row in csv.DictReader(handle)}
    examples = [row for block in _blocks("csv") for row in csv.DictReader(io.StringIO(block))]

    assert len(examples) >= 3
    for row in examples:
        assert row["invoice_id"] in served, row
        assert {"key", "invoice_id", "location_id", "user_id", "action", "live_mode"} <= set(row)
        if row["key"] in demo_rows:
            assert row == demo_rows[row["key"]]
