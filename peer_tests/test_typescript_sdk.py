"""Upstream's published TypeScript SDK (`@gohighlevel/api-client`, pinned in
`peer_tests/typescript/package.json`) against the sandbox: Node's test runner drives it
(`typescript/sdk.test.mjs`, one assertion per call), this test serves the sandbox it calls and checks
what was delivered.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from scripts.sandbox import (
    DEFAULT_TOKEN,
    DRAFT_INVOICE_ID,
    FORBIDDEN_MESSAGE,
    LOCATION_TOKEN,
    OTHER_LOCATION_DRAFT_ID,
    SECOND_DRAFT_INVOICE_ID,
    SEED_LOCATIONS,
    SEED_USER_ID,
    Sandbox,
)

HERE = Path(__file__).parent / "typescript"
UNKNOWN_INVOICE_ID = "0123456789abcdef01234567"
# What Node may take at most, start-up included; the calls themselves take well under a second.
NODE_TIMEOUT = 120


def test_every_call_of_the_typescript_sdk_returns_or_throws_as_the_spec_says(base_url: str, sandbox: Sandbox) -> None:
    node = shutil.which("node")
    if node is None or not (HERE / "node_modules" / "@gohighlevel" / "api-client").is_dir():
        pytest.fail("needs Node.js and `npm ci` in peer_tests/typescript (the peer session runs it)")
    fixture = {
        "baseUrl": base_url,
        "agencyToken": DEFAULT_TOKEN,
        "locationToken": LOCATION_TOKEN,
        "locations": list(SEED_LOCATIONS),
        "userId": SEED_USER_ID,
        "draft": DRAFT_INVOICE_ID,
        "secondDraft": SECOND_DRAFT_INVOICE_ID,
        "otherLocationDraft": OTHER_LOCATION_DRAFT_ID,
        "unknown": UNKNOWN_INVOICE_ID,
        "forbidden": FORBIDDEN_MESSAGE,
    }
    run = subprocess.run(
        [node, "--test", "--test-reporter=tap", "sdk.test.mjs"],
        cwd=HERE,
        env={**os.environ, "PEER_SANDBOX": json.dumps(fixture)},
        capture_output=True,
        text=True,
        timeout=NODE_TIMEOUT,
        check=False,
    )
    print(run.stdout, run.stderr)  # the runner's TAP report, one line per call: shown by pytest on failure

    assert run.returncode == 0
    summary = [line for line in run.stdout.splitlines() if line.startswith(("# pass", "# fail"))]
    assert summary == ["# pass 8", "# fail 0"]
    delivered = {(d.invoice_id, d.channel) for d in sandbox.outbox}
    assert delivered == {
        (DRAFT_INVOICE_ID, "email"),
        (SECOND_DRAFT_INVOICE_ID, "email"),
        (SECOND_DRAFT_INVOICE_ID, "sms"),
    }
