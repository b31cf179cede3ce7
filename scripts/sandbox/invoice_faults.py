"""Faults assigned to invoices instead of requests: for clients that send no `X-Sandbox-Fault` header.

A bulk-send command cannot add a header per row, so the sandbox can learn which invoices fail from a
startup file (`--faults FILE`, `SandboxConfig.faults_file`), from `SandboxConfig.faults`, or at run
time from `PUT /_sandbox/faults/{invoiceId}`. Values are the header's syntax, parsed by `parse_fault`,
so every fault kind the header knows works here too.

An assigned fault applies to every send of its invoice until it is cleared; a request that carries
the header gets the header's fault instead. `POST /_sandbox/reset` restores the startup assignments.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path

from scripts.sandbox.config import SandboxError
from scripts.sandbox.faults import Fault, FaultError, parse_fault
from scripts.sandbox.json_words import json_text


def _refuse_duplicates(pairs: list[tuple[str, object]]) -> dict[str, object]:
    seen: dict[str, object] = {}
    for key, value in pairs:
        if key in seen:
            raise SandboxError(f"invoice {json_text(key)} is listed twice")
        seen[key] = value
    return seen


def load_fault_file(path: Path) -> dict[str, str]:
    """Read `{"<invoiceId>": "<fault>", ...}` from a JSON file (values are checked by `InvoiceFaults`).

    Raises:
        SandboxError: unreadable file, invalid JSON (with line and column), not an object, a key listed
            twice, or a value that is not a string; the message names the file and the key.
    """
    try:
        document = json.loads(path.read_text(encoding="utf-8"), object_pairs_hook=_refuse_duplicates)
    except OSError as exc:
        raise SandboxError(f"cannot read faults file {path}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise SandboxError(f"faults file {path} is not UTF-8 text: {exc.reason}") from exc
    except json.JSONDecodeError as exc:
        raise SandboxError(f"faults file {path} is not valid JSON: {exc}") from exc
    except SandboxError as exc:
        raise SandboxError(f"faults file {path}: {exc}") from None
    if not isinstance(document, dict):
        raise SandboxError(f'faults file {path}: expected a JSON object {{"<invoiceId>": "<fault>", ...}}')
    for key, value in document.items():
        if not isinstance(value, str):
            raise SandboxError(
                f"faults file {path}: invoice {json_text(key)}: the fault must be a string, got {json_text(value)}"
            )
    return document


class InvoiceFaults:
    """Fault per invoice id. Thread-safe: the served app and a test may use it at once."""

    def __init__(self, initial: Mapping[str, str], known_invoices: Iterable[str], max_slow_seconds: float) -> None:
        """Check every assignment: the invoice must exist and the fault must parse.

        Raises:
            SandboxError: naming the invoice and the problem.
        """
        self._known = frozenset(known_invoices)
        self._max_slow_seconds = max_slow_seconds
        self._lock = threading.Lock()
        self._initial = {invoice_id: self._parse(invoice_id, value) for invoice_id, value in initial.items()}
        self._faults = dict(self._initial)

    def _parse(self, invoice_id: str, value: str) -> tuple[str, Fault]:
        if invoice_id not in self._known:
            raise SandboxError(f"faults: invoice {json_text(invoice_id)} is not a sandbox invoice")
        try:
            fault = parse_fault(value, self._max_slow_seconds)
        except FaultError as exc:
            raise SandboxError(f"faults: invoice {json_text(invoice_id)}: {exc}") from None
        assert fault is not None  # parse_fault gives None only for a missing header
        return value, fault

    def fault_for(self, invoice_id: str) -> Fault | None:
        """The fault assigned to `invoice_id`, or None."""
        with self._lock:
            found = self._faults.get(invoice_id)
        return found[1] if found is not None else None

    def assign(self, invoice_id: str, value: str) -> None:
        """Assign a fault (header syntax) to an invoice, replacing any other.

        Raises:
            SandboxError: unknown invoice, or a fault `parse_fault` refuses (the message names it).
        """
        parsed = self._parse(invoice_id, value)
        with self._lock:
            self._faults[invoice_id] = parsed

    def clear(self, invoice_id: str) -> None:
        """Remove the invoice's fault, if any."""
        with self._lock:
            self._faults.pop(invoice_id, None)

    def knows(self, invoice_id: str) -> bool:
        """True when `invoice_id` is a sandbox invoice (one that may get a fault)."""
        return invoice_id in self._known

    def as_dict(self) -> dict[str, str]:
        """Every assignment, as given: `{invoiceId: fault}`."""
        with self._lock:
            return {invoice_id: value for invoice_id, (value, _) in self._faults.items()}

    def reset(self) -> None:
        """Back to the startup assignments."""
        with self._lock:
            self._faults = dict(self._initial)
