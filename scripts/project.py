"""Facts about this repository that its commands, its tests and the contract suite share: where things
are, and the spec with its examples.

A library module, not a command: the commands under scripts/ and the tests import it, and it imports
none of them. The contract suite reads the spec facts through the sandbox (`scripts.sandbox`), the
one module of scripts/ it imports. What the package itself defaults to (URLs, token variables,
timeouts) is the package's own (`leadway_invoices_client._runtime.constants`).
"""

from __future__ import annotations

import copy
from functools import cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
SPEC_DIR = ROOT / "spec"
SPEC_PATH = SPEC_DIR / "openapi.yaml"
GENERATED_DIR = ROOT / "generated"
PACKAGE = "leadway_invoices_client"
PACKAGE_DIR = GENERATED_DIR / PACKAGE

# The two operations, as the spec names their paths.
SEND_PATH = "/invoices/{invoiceId}/send"
READ_PATH = "/invoices/{invoiceId}"


@cache
def load_spec(path: Path = SPEC_PATH) -> dict[str, Any]:
    """The parsed spec (cached: callers that change it must deep-copy it first)."""
    document: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return document


def example(kind: str, name: str, *, path: str = SEND_PATH, method: str = "post") -> dict[str, Any]:
    """A named example of an operation (the send by default): `example("request", "emailAndSms")`,
    `("response", "leadwayPage")`, `("response", "upstreamExample", path=READ_PATH, method="get")`."""
    operation = load_spec()["paths"][path][method]
    holder = operation["requestBody"] if kind == "request" else operation["responses"]["200"]
    value: dict[str, Any] = copy.deepcopy(holder["content"]["application/json"]["examples"][name]["value"])
    return value
