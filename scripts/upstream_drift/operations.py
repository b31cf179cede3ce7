"""Our operations that the drift check watches, upstream's vendored excerpts of each, and where each
one's known differences are listed."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from scripts.project import READ_PATH, ROOT, SEND_PATH, SPEC_DIR

# Vendored (with provenance, see spec/upstream/README.md) so the check needs nothing outside the repo.
# Upstream publishes both calls twice: in its v2 document apps/invoices.json (`Version: 2021-07-28`)
# and in apps/v3/invoices-v3.json (`Version: v3`); our spec accepts both values, and all four are watched.
UPSTREAM_DIR = SPEC_DIR / "upstream"
UPSTREAM_DEFAULT = UPSTREAM_DIR / "send-invoice.openapi.json"
UPSTREAM_V3 = UPSTREAM_DIR / "send-invoice-v3.openapi.json"
UPSTREAM_DOCUMENTS = (UPSTREAM_DEFAULT, UPSTREAM_V3)
UPSTREAM_READ = UPSTREAM_DIR / "get-invoice.openapi.json"
UPSTREAM_READ_V3 = UPSTREAM_DIR / "get-invoice-v3.openapi.json"
KNOWN_PATH = ROOT / "contract_tests" / "upstream_known_differences.yaml"


@dataclass(frozen=True)
class Operation:
    """One of our operations, upstream's vendored excerpts of it, and its known differences."""

    path: str
    method: str
    operation_id: str
    upstreams: tuple[Path, ...]
    known: Path
    webhook: bool = False
    """`path` names an entry of the document's `webhooks:` (OpenAPI 3.1), not of its `paths:`."""

    @property
    def title(self) -> str:
        return f"{self.method.upper()} {self.path}"


SEND = Operation(SEND_PATH, "post", "send-invoice", UPSTREAM_DOCUMENTS, KNOWN_PATH)
READ = Operation(
    READ_PATH,
    "get",
    "get-invoice",
    (UPSTREAM_READ, UPSTREAM_READ_V3),
    ROOT / "contract_tests" / "upstream_known_differences_read.yaml",
)
# Upstream documents the InvoiceSent webhook as a Markdown page holding its JSON schema
# (`documents.load_document` reads the schema out of it), compared with our spec's `webhooks:` entry.
INVOICE_SENT = Operation(
    "InvoiceSent",
    "post",
    "invoice-sent",
    (UPSTREAM_DIR / "webhook-InvoiceSent.md",),
    ROOT / "contract_tests" / "upstream_known_differences_webhook.yaml",
    webhook=True,
)
OPERATIONS = {"send": SEND, "read": READ, "webhook": INVOICE_SENT}
