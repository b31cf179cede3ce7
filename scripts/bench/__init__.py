"""Benchmarks of the generated client (`nox -s bench`); prints a Markdown table for the README.

    python -m scripts.bench                       # everything (about 2 minutes)
    python -m scripts.bench --only a c            # some of them
    python -m scripts.bench --loopback-calls 2000 # a longer, steadier (b)

Every ratio compares medians measured side by side in one run: rounds alternate the two sides (and
which goes first), so machine noise hits both alike. What is measured:

  (a) per call, the generated client's `send_invoice.sync`/`asyncio` against raw httpx posting the
      same JSON and `json.loads`-ing the answer, both over the same in-memory MockTransport;
  (b) the same against the loopback sandbox, served by a separate process so that the server does
      not share the client's GIL;
  (c) `SendInvoiceResponse.from_dict(json.loads(body))` against `json.loads(body)` alone (an answer
      that follows the spec: the tolerant reader's fast path);
  (d) seconds to regenerate the package and to run the drift check;
  (e) a paced bulk run against a sandbox with a 100-send burst budget and a shortened interval:
      achieved rate over allowed rate, with retries off so that any 429 would surface;
  (f) the sandbox's own throughput: sends per second it answers under concurrent load (plain HTTP/1.1
      from this process, like `wrk`), and the CPU milliseconds it spends per send (in its own process);
  (g) the bulk-send command's engine (its worker processes, one per core: each `run_bulk` with a
      SendLedger connection and one paced async client) sending 1,000 rows over 10 locations to a
      sandbox limited to 100 per 2 s per location, retries off so that any 429 surfaces: aggregate
      rate over the allowed 500/s, 429s, CPU per send (client: all its processes; the sandbox's);
      and the same run without a ledger, whose difference is the ledger's cost per send in a bulk run.
  (h) the client against bare httpx doing the same sends: 2,000 sends to the loopback sandbox (no rate
      limit) with 16 in flight, through the bulk command's client (`send_invoice.asyncio`) and through a
      bare `httpx.AsyncClient` posting the same JSON and `json.loads`-ing each answer: CPU per send.
  (l) the send ledger's cost per send: `SendLedger.send`/`asend` (a durable intent, the send, the
      outcome) against the bare send, both over the same in-memory MockTransport, each ledger
      send with a new key in a ledger file on disk; one send at a time (each waits for its intent's
      fsync) and 16 asyncio tasks at once, as a bulk run sends (their intents share commits).
  (p) (l) with the ledger on a PostgreSQL server over loopback (started by the benchmark, fsync on).
  (q) three host processes (each its own host identity) sending one file of 1,000 rows over 10
      locations, a draft each, through one PostgreSQL ledger to a sandbox limited to 25 per 1 s per
      location (each location's 100 rows span several windows: a paced run, not one burst), retries
      off so that any 429 surfaces: aggregate rate over the allowed 250/s, 429s,
      deliveries per key (the sandbox's outbox), rows a host skipped because another host sent them.
  (w) the webhook receiver (`leadway-invoices webhooks serve`, its own process): 3,000 signed InvoiceSent
      events POSTed from 32 kept-alive connections, each verified (Ed25519) and recorded with an fsync
      before its 200: events per second; and `WebhookVerifier.verify` alone per event, Ed25519 and
      legacy RSA-4096.
Both sides of (a) and (b) get the same transport and timeout; only the client's own layers differ.
"""
