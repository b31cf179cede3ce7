"""The send ledger's PostgreSQL tables: their schema, every statement run on them, creating and
checking them, and the mapping of psycopg's errors to the ledger's.

`leadway_sends` has a row per key with the same columns as the SQLite file's `sends` (`sqlite.py`): the
send, where it stands and, while a send holds it, its owner and lease. A lease is a time on the
database's clock (`clock_timestamp()`, seconds since the epoch): hosts sharing the ledger compare it
with that one clock, never with their own. `leadway_location_leases` gives a location's rate budget to
one host at a time (`PostgresStore.take_location`), each host taking its share of a file's locations
among the hosts `leadway_hosts` has seen lately. `leadway_webhook_events` has a row per verified
webhook delivery (by webhookId), as the file's `webhook_events`. `leadway_ledger` holds the schema
version.

psycopg is imported by the functions that need it, never at import time: the `postgres` extra is
needed only by a ledger given a PostgreSQL URL.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .claims import Owner
from .records import LedgerError, LedgerRecord, SendState, WebhookEvent, record_of

if TYPE_CHECKING:
    import psycopg

SCHEMA_VERSION = 2
"""The version in `leadway_ledger` of the tables this package writes: 1 the sends and leases, 2 adds
the webhook events."""
APPLICATION = "leadway-invoices-client send ledger"
"""What `leadway_ledger` says it is: tells our tables from another program's of the same name."""
EXTRA = "leadway-invoices-client[postgres]"

# A transaction-level advisory lock taken by every opening (the number spells "LWSL"): hosts opening a
# new database together create the tables once.
_SCHEMA_LOCK = 0x4C57534C

_TABLES = (
    """
    CREATE TABLE leadway_ledger (
        application TEXT NOT NULL,
        version INTEGER NOT NULL
    )
    """,
    """
    CREATE TABLE leadway_sends (
        key TEXT PRIMARY KEY,
        invoice_id TEXT NOT NULL,
        alt_id TEXT NOT NULL,
        alt_type TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'not_sent', 'needs_attention', 'refused')),
        reason TEXT NOT NULL,
        attempts INTEGER NOT NULL,
        attempted_at TEXT,
        updated_at TEXT NOT NULL,
        evidence TEXT,
        owner_claim TEXT,
        owner_host TEXT,
        owner_namespace TEXT,
        owner_pid INTEGER,
        owner_start TEXT,
        lease_until DOUBLE PRECISION
    )
    """,
    "CREATE INDEX leadway_sends_claim ON leadway_sends (owner_claim) WHERE owner_claim IS NOT NULL",
    """
    CREATE TABLE leadway_location_leases (
        location TEXT PRIMARY KEY,
        holder TEXT NOT NULL,
        lease_until DOUBLE PRECISION NOT NULL
    )
    """,
    """
    CREATE TABLE leadway_hosts (
        holder TEXT PRIMARY KEY,
        seen_until DOUBLE PRECISION NOT NULL
    )
    """,
)

_EVENTS = (
    """
    CREATE TABLE leadway_webhook_events (
        webhook_id TEXT PRIMARY KEY,
        invoice_id TEXT NOT NULL,
        event_type TEXT NOT NULL,
        sent_at TEXT NOT NULL,
        received_at TEXT NOT NULL
    )
    """,
    "CREATE INDEX leadway_webhook_events_by_invoice ON leadway_webhook_events (invoice_id, sent_at)",
    # An event settles the keys of its invoice: found by index, not by a scan of every send.
    "CREATE INDEX leadway_sends_by_invoice ON leadway_sends (invoice_id)",
)


def _upgrade_from_1(conn: psycopg.Connection[Any]) -> None:
    # Webhook events join the sends: a new table and two indexes, nothing rewritten.
    for statement in _EVENTS:
        conn.execute(statement)


# Each brings the tables from its version to the next; all run in the transaction that opens them.
_UPGRADES: dict[int, Callable[[psycopg.Connection[Any]], None]] = {1: _upgrade_from_1}

_RECORD = "SELECT key, invoice_id, alt_id, alt_type, state, reason, attempts, attempted_at, evidence FROM leadway_sends"
_ONE = "SELECT * FROM leadway_sends WHERE key = %s"
# Every transaction that decides from a key's row locks the key first, row or no row: two hosts
# claiming a key nobody has recorded yet must not both find it absent (READ COMMITTED would let them).
# A hash collision only makes two keys wait for each other.
_LOCK_KEY = "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))"
_INTENT = (
    "INSERT INTO leadway_sends (key, invoice_id, alt_id, alt_type, state, reason, attempts, attempted_at, updated_at,"
    " owner_claim, owner_host, owner_namespace, owner_pid, owner_start, lease_until)"
    " VALUES (%s, %s, %s, %s, 'pending', %s, %s, %s, %s, %s, %s, %s, %s, %s,"
    " extract(epoch FROM clock_timestamp()) + %s)"
    " ON CONFLICT (key) DO UPDATE SET alt_id = excluded.alt_id, alt_type = excluded.alt_type,"
    " state = 'pending', reason = excluded.reason, attempts = excluded.attempts,"
    " attempted_at = excluded.attempted_at, updated_at = excluded.updated_at,"
    " owner_claim = excluded.owner_claim, owner_host = excluded.owner_host,"
    " owner_namespace = excluded.owner_namespace, owner_pid = excluded.owner_pid,"
    " owner_start = excluded.owner_start, lease_until = excluded.lease_until"
)
_OUTCOME = (
    "UPDATE leadway_sends SET state = %s, reason = %s, updated_at = %s, evidence = COALESCE(%s, evidence),"
    " owner_claim = CASE WHEN %s THEN owner_claim END WHERE key = %s AND owner_claim = %s"
)
_RESOLUTION = "UPDATE leadway_sends SET state = %s, reason = %s, updated_at = %s, owner_claim = NULL WHERE key = %s"
_RENEW = "UPDATE leadway_sends SET lease_until = extract(epoch FROM clock_timestamp()) + %s WHERE owner_claim = ANY(%s)"
# A location's lease: taken when free, expired or already ours (then extended), else left as it is.
_TAKE_LOCATION = (
    "INSERT INTO leadway_location_leases (location, holder, lease_until)"
    " VALUES (%s, %s, extract(epoch FROM clock_timestamp()) + %s)"
    " ON CONFLICT (location) DO UPDATE SET holder = excluded.holder, lease_until = excluded.lease_until"
    " WHERE leadway_location_leases.holder = excluded.holder"
    " OR leadway_location_leases.lease_until <= extract(epoch FROM clock_timestamp())"
    " RETURNING location"
)
_EVENT = (
    "INSERT INTO leadway_webhook_events (webhook_id, invoice_id, event_type, sent_at, received_at)"
    " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (webhook_id) DO NOTHING RETURNING webhook_id"
)
_EVENTS_OF = (
    "SELECT webhook_id, invoice_id, event_type, sent_at, received_at FROM leadway_webhook_events"
    " WHERE invoice_id = %s ORDER BY sent_at"
)
_KEYS_OF = 'SELECT key FROM leadway_sends WHERE invoice_id = %s ORDER BY key COLLATE "C"'
_ROWS_OF = 'SELECT * FROM leadway_sends WHERE invoice_id = %s ORDER BY key COLLATE "C"'
_FREE_LOCATION = "DELETE FROM leadway_location_leases WHERE location = %s AND holder = %s"
_SEEN = (
    "INSERT INTO leadway_hosts (holder, seen_until) VALUES (%s, extract(epoch FROM clock_timestamp()) + %s)"
    " ON CONFLICT (holder) DO UPDATE SET seen_until = excluded.seen_until"
)
_GONE = "DELETE FROM leadway_hosts WHERE holder = %s OR seen_until <= extract(epoch FROM clock_timestamp())"
# A holder's fair share of the locations a file names: at most its part of them among the hosts seen.
_OVER_SHARE = (
    "SELECT (SELECT count(*) FROM leadway_location_leases WHERE holder = %s AND location <> %s"
    " AND lease_until > extract(epoch FROM clock_timestamp()))"
    " >= ceil(%s::double precision / GREATEST(1, (SELECT count(*) FROM leadway_hosts"
    " WHERE seen_until > extract(epoch FROM clock_timestamp())))) AS over"
)


class PostgresTx:
    """The statements of one transaction on the ledger's tables (the store's `Tx`)."""

    __slots__ = ("conn",)

    def __init__(self, conn: psycopg.Connection[dict[str, Any]]) -> None:
        self.conn = conn

    def clock(self) -> float:
        """The database's clock, seconds since the epoch: the one every host's leases are read on."""
        found = self.conn.execute("SELECT extract(epoch FROM clock_timestamp()) AS now").fetchone()
        assert found is not None
        return float(found["now"])

    def row(self, key: str) -> dict[str, Any] | None:
        self.conn.execute(_LOCK_KEY, (key,))
        found: dict[str, Any] | None = self.conn.execute(_ONE, (key,)).fetchone()
        return found

    def read_one(self, key: str) -> LedgerRecord | None:
        row = self.conn.execute(f"{_RECORD} WHERE key = %s", (key,)).fetchone()
        return record_of(row) if row is not None else None

    def read_all(self) -> list[LedgerRecord]:
        return [record_of(row) for row in self.conn.execute(f'{_RECORD} ORDER BY key COLLATE "C"')]

    def read_sent(self, keys: list[str]) -> list[LedgerRecord]:
        """The records of those of `keys` that are SENT (one query: a host taking over a location)."""
        return [
            record_of(row) for row in self.conn.execute(f"{_RECORD} WHERE key = ANY(%s) AND state = 'sent'", (keys,))
        ]

    def write_intent(
        self,
        *,
        key: str,
        invoice_id: str,
        alt_id: str,
        alt_type: str,
        reason: str,
        attempts: int,
        attempted_at: str | None,
        updated_at: str,
        claim: str,
        held_by: Owner,
        lease: float,
    ) -> None:
        self.conn.execute(
            _INTENT,
            (
                key,
                invoice_id,
                alt_id,
                alt_type,
                reason,
                attempts,
                attempted_at,
                updated_at,
                claim,
                held_by.host,
                held_by.namespace,
                held_by.pid,
                held_by.start,
                lease,
            ),
        )

    def write_outcome(
        self,
        *,
        key: str,
        claim: str,
        state: SendState,
        reason: str,
        updated_at: str,
        evidence: str | None,
        keep_claim: bool,
    ) -> LedgerRecord:
        self.conn.execute(_OUTCOME, (state.value, reason, updated_at, evidence, keep_claim, key, claim))
        found = self.read_one(key)
        assert found is not None  # the claim's intent wrote the row
        return found

    def write_resolution(self, *, key: str, state: SendState, reason: str, updated_at: str) -> LedgerRecord:
        self.conn.execute(_RESOLUTION, (state.value, reason, updated_at, key))
        found = self.read_one(key)
        assert found is not None  # the caller found the row in this transaction
        return found

    def write_event(self, event: WebhookEvent) -> bool:
        row = (event.webhook_id, event.invoice_id, event.event_type, event.sent_at, event.received_at)
        # RETURNING, not rowcount: in the store's pipeline a row count is known only once fetched.
        return self.conn.execute(_EVENT, row).fetchone() is not None

    def events_for(self, invoice_id: str) -> list[WebhookEvent]:
        return [WebhookEvent(**row) for row in self.conn.execute(_EVENTS_OF, (invoice_id,))]

    def rows_for(self, invoice_id: str) -> list[dict[str, Any]]:
        # Each key is locked as `row` locks it, in key order (a send's transaction locks one key), so
        # that an event settles a key between two steps of its send, never beside one.
        for found in self.conn.execute(_KEYS_OF, (invoice_id,)).fetchall():
            self.conn.execute(_LOCK_KEY, (found["key"],))
        return self.conn.execute(_ROWS_OF, (invoice_id,)).fetchall()

    def renew(self, claims: list[str], lease: float) -> None:
        """Extend the lease of every row still held by one of `claims` to `lease` seconds from now."""
        self.conn.execute(_RENEW, (lease, claims))

    def take_location(self, location: str, holder: str, lease: float, of: int = 0) -> bool:
        """Whether `holder` holds `location`'s lease for `lease` seconds from now (taken or extended).
        With `of` (the locations it has to send to), not while it holds its share of them already."""
        if of:
            over = self.conn.execute(_OVER_SHARE, (holder, location, of)).fetchone()
            if over is not None and over["over"]:
                return False
        return self.conn.execute(_TAKE_LOCATION, (location, holder, lease)).fetchone() is not None

    def seen(self, holder: str, lease: float) -> None:
        """Record that `holder` is alive for `lease` seconds (each host's share counts the hosts seen)."""
        self.conn.execute(_SEEN, (holder, lease))

    def gone(self, holder: str) -> None:
        """`holder` leaves (and hosts not seen since their lease ran out are forgotten)."""
        self.conn.execute(_GONE, (holder,))

    def free_location(self, location: str, holder: str) -> None:
        self.conn.execute(_FREE_LOCATION, (location, holder))


def check_or_create(conn: psycopg.Connection[dict[str, Any]], location: str) -> None:
    """Create the tables in a database that has none, bring older ones up to date, refuse another
    program's tables or a newer version's; all in one transaction."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
        found = conn.execute(
            "SELECT count(*) AS n FROM pg_catalog.pg_tables WHERE tablename = 'leadway_ledger'"
            " AND schemaname = ANY(current_schemas(false))"
        ).fetchone()
        if found is None or found["n"] == 0:
            taken = conn.execute("SELECT to_regclass('leadway_sends') IS NOT NULL AS t").fetchone()
            if taken is not None and taken["t"]:
                raise LedgerError(f"{location} has a table leadway_sends but no leadway_ledger: not a send ledger")
            for statement in (*_TABLES, *_EVENTS):
                conn.execute(statement)
            conn.execute(
                "INSERT INTO leadway_ledger (application, version) VALUES (%s, %s)", (APPLICATION, SCHEMA_VERSION)
            )
            return
        marks = conn.execute("SELECT application, version FROM leadway_ledger").fetchall()
        if len(marks) != 1 or marks[0]["application"] != APPLICATION:
            raise LedgerError(f"{location} has a table leadway_ledger that is not a send ledger's")
        version: int = marks[0]["version"]
        if version > SCHEMA_VERSION:
            raise LedgerError(
                f"ledger {location} has schema version {version}, written by a newer leadway-invoices-client;"
                f" this one reads up to version {SCHEMA_VERSION}: upgrade the package"
            )
        if version < SCHEMA_VERSION:
            # An older release's tables: brought up to date in this one transaction, or not at all.
            for step in range(version, SCHEMA_VERSION):
                _UPGRADES[step](conn)
            conn.execute("UPDATE leadway_ledger SET version = %s", (SCHEMA_VERSION,))


def recorded(conn: psycopg.Connection[Any], keys: list[str], location: str) -> dict[str, str]:
    """The invoice each of `keys` is recorded for, read without creating or changing anything (a dry
    run's check); empty when the database has no ledger yet."""
    absent = conn.execute("SELECT to_regclass('leadway_ledger') IS NULL").fetchone()
    if absent is None or absent[0]:
        return {}
    version = conn.execute("SELECT max(version) FROM leadway_ledger").fetchone()
    if version is not None and version[0] is not None and version[0] > SCHEMA_VERSION:
        raise LedgerError(
            f"ledger {location} has schema version {version[0]}, written by a newer leadway-invoices-client;"
            f" this one reads up to version {SCHEMA_VERSION}: upgrade the package"
        )
    return dict(conn.execute("SELECT key, invoice_id FROM leadway_sends WHERE key = ANY(%s)", (keys,)).fetchall())


def ledger_error(action: str, location: str, exc: BaseException, secret: str) -> LedgerError:
    """psycopg's `exc` as a LedgerError about the ledger at `location` (shown without password). Its
    message may quote the connection string: only its class and first line are kept, with `secret`
    (the password) masked in case it is quoted there."""
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    if secret:
        first = first.replace(secret, "***")
    detail = f"{type(exc).__name__}: {first}" if first else type(exc).__name__
    return LedgerError(f"ledger {location} {action}: {detail}")


def import_psycopg() -> tuple[Any, Any]:
    """psycopg and psycopg_pool, or LedgerError naming the extra that installs them."""
    try:
        import psycopg
        import psycopg_pool
    except ImportError:
        raise LedgerError(f"a PostgreSQL ledger needs psycopg and psycopg-pool: pip install '{EXTRA}'") from None
    return psycopg, psycopg_pool
