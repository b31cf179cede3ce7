"""A bulk-send world for tests: invoices for the sandbox, the file that sends them, and faults.

Invoices are copies of the sandbox's first seeded one with their own id, location and number, and a
contact with one email address and one phone, so that each send of `email` or `sms` delivers exactly
one message: the outbox then counts sends.
"""

from __future__ import annotations

import copy
import csv
import json
from dataclasses import dataclass, field
from pathlib import Path

from scripts.sandbox.state import seed_invoices

COLUMNS = ["key", "invoice_id", "location_id", "user_id", "action", "live_mode"]
USER_ID = "6578278e879ad2646715ba9c"
UNKNOWN_PREFIX = "ffff"
#: Faults after which the invoice is sent all the same (`delayed-send:SECONDS` too).
DELIVERED_DESPITE = ("drop-after-send", "delayed-send")


def location_id(index: int) -> str:
    return f"65b{index:021x}"


def invoice_id(location: int, number: int) -> str:
    return f"65c{location:05x}{number:016x}"


@dataclass
class World:
    """What a bulk run is expected to do, row by row."""

    invoices: list[dict[str, object]] = field(default_factory=list)
    rows: list[dict[str, str]] = field(default_factory=list)
    faults: dict[str, str] = field(default_factory=dict)
    #: key -> what the row is: "sent" (a plain draft), "404", "void", "paid", or the invoice's sandbox fault.
    expected: dict[str, str] = field(default_factory=dict)

    @property
    def deliverable(self) -> set[str]:
        """Invoice ids whose row must end delivered exactly once."""
        keys = {key for key, kind in self.expected.items() if kind == "sent" or kind.startswith(DELIVERED_DESPITE)}
        return {row["invoice_id"] for row in self.rows if row["key"] in keys}

    def write(self, folder: Path) -> tuple[Path, Path, Path]:
        """invoices.csv, the sandbox's invoices file and its faults file."""
        rows = folder / "invoices.csv"
        with rows.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, COLUMNS, lineterminator="\n")
            writer.writeheader()
            writer.writerows(self.rows)
        invoices = folder / "sandbox-invoices.json"
        invoices.write_text(json.dumps({"invoices": self.invoices}, indent=1), encoding="utf-8")
        faults = folder / "sandbox-faults.json"
        faults.write_text(json.dumps(self.faults, indent=1, sort_keys=True), encoding="utf-8")
        return rows, invoices, faults


def build(rows: int, locations: int, special: dict[int, str]) -> World:
    """`rows` rows over `locations` locations; `special` maps a row index to what it is instead of a
    plain draft: "404" (unknown invoice), "void", "paid", or a sandbox fault ("503", "html-500",
    "drop-after-send", "delayed-send:S")."""
    template = seed_invoices()[0]
    world = World()
    for index in range(rows):
        location = index % locations
        invoice = copy.deepcopy(template)
        iid = invoice_id(location, index)
        invoice.update(
            _id=iid,
            altId=location_id(location),
            invoiceNumber=str(1000 + index),
            status="draft",
        )
        invoice["contactDetails"] = {
            **invoice["contactDetails"],
            "email": f"customer{index}@example.com",
            "phoneNo": f"+1-555-{index:07d}",
        }
        kind = special.get(index, "sent")
        expected = kind
        if kind == "404":
            iid = UNKNOWN_PREFIX + iid[len(UNKNOWN_PREFIX) :]
        else:
            if kind in ("void", "paid"):
                invoice["status"] = kind
            elif kind != "sent":  # a sandbox fault
                world.faults[iid] = kind
            world.invoices.append(invoice)
        world.rows.append(
            {
                "key": f"{iid}/2026-11",
                "invoice_id": iid,
                "location_id": location_id(location),
                "user_id": USER_ID,
                "action": "email" if index % 2 else "sms",
                "live_mode": "false",
            }
        )
        world.expected[f"{iid}/2026-11"] = expected
    return world
