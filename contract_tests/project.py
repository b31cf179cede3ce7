"""Facts about this project that its commands, its tests and the contract suite share.

The contract suite is what users run in their CI, so this module imports nothing from `scripts/`:
commands and tests depend on it, never the other way round.
"""

from __future__ import annotations

import copy
import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

ROOT = Path(__file__).resolve().parent.parent
SPEC_DIR = ROOT / "spec"
SPEC_PATH = SPEC_DIR / "openapi.yaml"
# Handwritten modules a post hook in spec/generator.yaml copies into the package.
RUNTIME_DIR = SPEC_DIR / "runtime"
GENERATED_DIR = ROOT / "generated"
CASSETTES = ROOT / "contract_tests" / "cassettes"
PACKAGE = "leadway_invoices_client"
PACKAGE_DIR = GENERATED_DIR / PACKAGE

# The send operation, as the spec names its path.
SEND_PATH = "/invoices/{invoiceId}/send"
READ_PATH = "/invoices/{invoiceId}"
PRODUCTION_URL = "https://services.leadconnectorhq.com"
# The loopback server the spec lists: the sandbox's default address, and what cassettes show.
SANDBOX_URL = "http://127.0.0.1:8765"

# Environment variables holding tokens (their names, not tokens).
API_TOKEN_ENV = "LEADWAY_API_TOKEN"
CONTRACT_TOKEN_ENV = "LEADWAY_CONTRACT_TOKEN"
SANDBOX_TOKEN_ENV = "LEADWAY_SANDBOX_TOKEN"


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


# --- the guard in front of every real API ---------------------------------------------------------


class TargetRefused(Exception):
    """A target was asked for that cannot be used safely; nothing was sent. The message says why."""


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class Target:
    """An API and the test invoice to send to, as which user: built by `checked` before any I/O."""

    base_url: str
    token: str = field(repr=False)
    invoice_id: str
    location_id: str
    user_id: str

    @property
    def host(self) -> str:
        return urlsplit(self.base_url).netloc

    @classmethod
    def checked(
        cls,
        base_url: str,
        *,
        who: str,
        token: str | None,
        token_env: str,
        ids: Mapping[str, str | None],
        asking_for: str = "a token",
    ) -> Target:
        """The target, unless sending to it would be unsafe.

        Args:
            who: what is asking, as the messages name it ("--production", "live mode").
            token_env: where the token comes from, for the message when there is none.
            ids: the invoice, location and user ids in that order, keyed by the option that gives each.

        Raises:
            TargetRefused: not an http(s) URL; no token; a token over plain http to a non-loopback
                host; a missing id.
        """
        parts = urlsplit(base_url)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise TargetRefused(f"{who}: the URL must be an http(s) URL, got {base_url!r}")
        loopback = is_loopback(parts.hostname)
        if not token:
            where = "" if loopback else f"{base_url} is not a loopback address: "
            raise TargetRefused(f"{where}{who} needs {asking_for} in ${token_env} (it sends real requests)")
        if not loopback and parts.scheme != "https":
            raise TargetRefused(f"refusing to send a token to {base_url} over plain http: https only")
        missing = [option for option, value in ids.items() if not value]
        if missing:
            raise TargetRefused(f"{who} sends to a given test invoice only and needs explicit {', '.join(missing)}")
        invoice_id, location_id, user_id = (str(value) for value in ids.values())
        return cls(base_url.rstrip("/"), token, invoice_id, location_id, user_id)
