"""Every default of the package, and the few names the outside world gives it, in one place.

Modules import these; none writes a default of its own. A bound (a cap, a limit) belongs beside the
check that enforces it, not here.
"""

from __future__ import annotations

import httpx

PACKAGE = "leadway_invoices_client"
DISTRIBUTION = "leadway-invoices-client"
LOGGER_NAME = PACKAGE

PRODUCTION_URL = "https://services.leadconnectorhq.com"
API_TOKEN_ENV = "LEADWAY_API_TOKEN"  # noqa: S105 (a variable's name, not a token)
"""Where the command line reads the API token from: never an option, which `ps` and shell history show."""

DEFAULT_API_VERSION = "2021-07-28"
"""The `Version` header every request carries unless the client is given another: the value the
Leadway send page and upstream's `apps/invoices.json` document for both calls. The spec accepts two
more (`models.ApiVersion`; README, "API versions"): `v3`, from upstream's `apps/v3/invoices-v3.json`
and sent by its Python SDK, and `2023-02-21`, documented nowhere for these calls but sent by its
TypeScript SDK."""

DEFAULT_TIMEOUT = httpx.Timeout(connect=5.0, read=30.0, write=30.0, pool=10.0)
"""5 s to connect (then the connect is retried: nothing was sent), 30 s to read the answer (a
read timeout is an unknown outcome, never retried), 30 s to write, 10 s to get a pooled connection."""

RETRY_ATTEMPTS = 3
"""Tries of one request, the first included."""
RETRY_MAX_WAIT = 30.0
"""Seconds: the longest wait before a retry, whatever the server hints."""
RETRY_BACKOFF = 0.5
"""Seconds: the first backoff when the server gives no hint; it doubles per attempt."""

PACER_MARGIN = 0.002
"""Seconds added to every wait the pacer computes."""
PACER_MAX_WAIT = 60.0
"""Seconds: the longest rate-limit interval the pacer waits by, whatever a header says."""

GRACE_PERIOD = 10.0
"""Seconds reconciliation watches an invoice whose send had an unknown outcome."""
MAX_READS = 4
"""Reads of the invoice spread over the grace period."""
LEASE = 600.0
"""Seconds a ledger claim is presumed alive when its owner cannot be checked (another host); on a
PostgreSQL ledger its owner renews it every quarter of it while the send is in flight."""
LOCATION_LEASE = 15.0
"""Seconds a host holds a location's rate budget on a PostgreSQL ledger, renewed while it sends there.
Longer than the rate-limit window (10 s): a host taking over a location a dead host held starts with
a budget the server has refilled."""
LOCATION_POLL = 0.5
"""Seconds between a host's tries to take a location another host holds."""
PG_POOL_SIZE = 8
"""Connections to a PostgreSQL ledger per process: its transactions in flight at once."""
PG_CONNECT_TIMEOUT = 10.0
"""Seconds to wait for a connection to a PostgreSQL ledger (one pooled, or a new one)."""

LEDGER_APP = "leadway-invoices"
"""The bulk command's folder in the user's data folder (platformdirs: ~/.local/share/leadway-invoices
on Linux), which holds its default ledger."""
LEDGER_FILE = "ledger.sqlite3"
"""The bulk command's default ledger, in that folder: one for every file sent, so that a copied or
renamed file is still known."""
LEDGER_SUFFIX = ".ledger.sqlite3"
"""Release 0.1 kept the bulk command's ledger beside the file (its name plus this); such a
ledger, when present, is still used by default."""

BULK_CONCURRENCY = 16
"""Sends in flight at once over all locations of a bulk run (split among its worker processes).
Enough to share an intent's fsync among several sends; more only adds CPU: httpcore checks every
idle connection of its pool at each request."""
BULK_PER_LOCATION = 4
"""Sends in flight at once per location: enough to keep a location's budget busy while answers
are on their way."""

CHECK_MAX_READS = 50
"""Reads the live read check (`leadway-invoices check`) makes at most, unless `--max-reads` says more:
a check needs a few invoices, and each read spends the location's rate-limit budget."""
CHECK_INTERVAL = 0.2
"""Seconds between two reads of the live read check: at most 5 a second, half of upstream's burst
rate (100 per 10 s), so a check alone never meets a 429, whatever the headers say; the pacer waits
longer when the location's budget runs low (its sends count in the same budget)."""
WEBHOOK_POLL = 0.1
"""Seconds between two looks in the ledger for an InvoiceSent, while a key that a reconciliation left
unsettled early waits out the rest of its grace period."""
WEBHOOK_MAX_AGE = 300.0
"""Seconds: the oldest webhook `timestamp` accepted (upstream's authentication guide: about 5
minutes); an older delivery may be a replay."""
WEBHOOK_MAX_SKEW = 30.0
"""Seconds a webhook `timestamp` may be ahead of our clock (the two clocks are never equal); a
delivery further in the future is refused."""
WEBHOOK_MAX_BODY = 1_048_576
"""Bytes: the largest webhook body the receiver reads (an invoice with many items is tens of KB)."""
WEBHOOK_KEY_ENV = "WEBHOOK_SIGNATURE_PUBLIC_KEY"
"""Where upstream's SDKs read the Ed25519 public key of `x-ghl-signature`; the receiver's command
reads it there too when no `--ed25519-key` is given."""
WEBHOOK_PORT = 8766
"""The receiver's default port (the sandbox's is 8765)."""
