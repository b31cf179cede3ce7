"""The names other code imports from `scripts.sandbox` (the demo, the contract and client-safety suites)."""

from __future__ import annotations

import ast
from pathlib import Path

import scripts.sandbox


def test_public_names_are_pinned() -> None:
    assert set(scripts.sandbox.__all__) == {
        "DEFAULT_BURST_INTERVAL_MS",
        "DEFAULT_BURST_LIMIT",
        "DEFAULT_DAILY_LIMIT",
        "DEFAULT_PORT",
        "DEFAULT_TOKEN",
        "DRAFT_INVOICE_ID",
        "FAULT_HEADER",
        "FORBIDDEN_MESSAGE",
        "LOCATION_TOKEN",
        "MAX_SLOW_SECONDS",
        "OTHER_LOCATION_DRAFT_ID",
        "PAID_INVOICE_ID",
        "READ_PATH",
        "SECOND_DRAFT_INVOICE_ID",
        "SEND_PATH",
        "SPEC_DIR",
        "SPEC_PATH",
        "SEED_LOCATIONS",
        "SEED_USER_ID",
        "SPEC_SERVER_URL",
        "TOKEN_ENV",
        "VOID_INVOICE_ID",
        "ConnectionDropped",
        "Delivery",
        "FaultKind",
        "Sandbox",
        "SandboxConfig",
        "SandboxError",
        "create_app",
        "error_response",
        "example",
        "load_spec",
        "serve_in_thread",
    }
    assert all(hasattr(scripts.sandbox, name) for name in scripts.sandbox.__all__)


def test_documented_tokens_and_port() -> None:
    assert scripts.sandbox.DEFAULT_TOKEN == "sandbox-agency-token"
    assert scripts.sandbox.LOCATION_TOKEN == "sandbox-location-token"
    assert scripts.sandbox.TOKEN_ENV == "LEADWAY_SANDBOX_TOKEN"
    assert scripts.sandbox.SPEC_SERVER_URL == "http://127.0.0.1:8765"
    assert scripts.sandbox.DEFAULT_PORT == 8765


def test_the_sandbox_imports_nothing_from_the_client_it_tests() -> None:
    package = Path(scripts.sandbox.__file__).parent
    for source in package.glob("*.py"):
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import | ast.ImportFrom):
                names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                assert not any(n.startswith("leadway_invoices_client") for n in names), source
