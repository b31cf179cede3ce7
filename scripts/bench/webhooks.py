"""(w): the webhook receiver: verified and durably recorded events per second, and verification alone."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from leadway_invoices_client import SendLedger
from leadway_invoices_client.webhooks import WebhookVerifier

from scripts.bench.raw_http import read_status
from scripts.bench.timing import Row
from scripts.project import example

INVOICE = example("response", "leadwayPage")["invoice"]


def _events(count: int, key: Ed25519PrivateKey, prefix: str = "bench") -> list[tuple[bytes, str]]:
    """`count` InvoiceSent deliveries (the send example's invoice), each with its x-ghl-signature."""
    now = dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    signed = []
    for number in range(count):
        event = {"type": "InvoiceSent", "webhookId": f"{prefix}-{number}", "timestamp": now, **INVOICE}
        body = json.dumps(event, separators=(",", ":")).encode()
        signed.append((body, base64.b64encode(key.sign(body)).decode()))
    return signed


def _public_pem(key: Ed25519PrivateKey | rsa.RSAPrivateKey) -> str:
    public = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return public.decode()


async def _flood(base_url: str, events: list[tuple[bytes, str]], concurrency: int) -> list[int]:
    """POST every event from `concurrency` kept-alive connections (plain HTTP/1.1, like `wrk`, so
    that the client's CPU does not set the pace on two cores); the status of each answer."""
    url = httpx.URL(base_url)
    statuses: list[int] = []

    async def worker(share: list[tuple[bytes, str]]) -> None:
        reader, writer = await asyncio.open_connection(url.host, url.port)
        try:
            for body, signature in share:
                writer.write(
                    (
                        f"POST / HTTP/1.1\r\nHost: {url.host}:{url.port}\r\nContent-Type: application/json\r\n"
                        f"x-ghl-signature: {signature}\r\nContent-Length: {len(body)}\r\n\r\n"
                    ).encode()
                    + body
                )
                statuses.append(await read_status(reader))
        finally:
            writer.close()
            await writer.wait_closed()

    await asyncio.gather(*(worker(events[i::concurrency]) for i in range(concurrency)))
    return statuses


def _cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system) process `pid` has spent (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def receiver_throughput(count: int, concurrency: int = 32) -> tuple[float, float, int, int]:
    """Events per second `leadway-invoices webhooks serve` verifies and records (each fsync'd before
    its 200), its CPU ms per event, how many were not 200, and how many the ledger holds after."""
    key = Ed25519PrivateKey.generate()
    warm, events = _events(200, key, "warm-up"), _events(count, key)
    with tempfile.TemporaryDirectory(prefix="leadway-bench-") as scratch:
        key_file, ledger = Path(scratch) / "ed25519.pem", Path(scratch) / "ledger.db"
        key_file.write_text(_public_pem(key))
        command = [sys.executable, "-m", "leadway_invoices_client.cli", "webhooks", "serve", "--port", "0"]
        command += ["--ledger", str(ledger), "--ed25519-key", str(key_file)]
        server = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, env={**os.environ, "COLUMNS": "300"})
        try:
            assert server.stderr is not None
            base_url = server.stderr.readline().split(" on ", 1)[1].split("/ ", 1)[0]
            asyncio.run(_flood(base_url, warm, concurrency))
            cpu_before, start = _cpu_seconds(server.pid), time.perf_counter()
            statuses = asyncio.run(_flood(base_url, events, concurrency))
            elapsed = time.perf_counter() - start
            cpu_ms = (_cpu_seconds(server.pid) - cpu_before) * 1000 / count
        finally:
            server.terminate()
            server.wait(10)
        with SendLedger(ledger) as opened:
            recorded = sum(e.webhook_id.startswith("bench-") for e in opened.events(str(INVOICE["_id"])))
    return count / elapsed, cpu_ms, sum(status != 200 for status in statuses), recorded


def verification_us(rounds: int = 2000) -> tuple[float, float]:
    """Median microseconds of `WebhookVerifier.verify` per event: Ed25519, and legacy RSA (4096 bits,
    as upstream's published key)."""
    ed_key, rsa_key = Ed25519PrivateKey.generate(), rsa.generate_private_key(public_exponent=65537, key_size=4096)
    [(body, ed_signature)] = _events(1, ed_key)
    rsa_signature = base64.b64encode(rsa_key.sign(body, padding.PKCS1v15(), hashes.SHA256())).decode()
    verifier = WebhookVerifier(ed25519_key=_public_pem(ed_key), rsa_key=_public_pem(rsa_key))
    results = []
    for headers in ({"x-ghl-signature": ed_signature}, {"x-wh-signature": rsa_signature}):
        times = []
        for _ in range(rounds):
            start = time.perf_counter()
            verifier.verify(body, headers)
            times.append(time.perf_counter() - start)
        times.sort()
        results.append(times[len(times) // 2] * 1e6)
    return results[0], results[1]


def bench_w(events: int) -> Row:
    ed_us, rsa_us = verification_us()
    rate, cpu_ms, failed, recorded = receiver_throughput(events)
    load = os.getloadavg()[0]
    return Row(
        f"(w) webhook receiver, {events} signed InvoiceSent events",
        f"{rate:.0f} events/s verified and fsync'd, {cpu_ms:.2f} ms CPU per event in the receiver"
        f" ({failed} not 200, {recorded} recorded; load {load:.1f})",
        f"verify alone: {ed_us:.0f} us Ed25519, {rsa_us:.0f} us RSA-4096",
        ">= 1000/s",
        rate >= 1000 and failed == 0 and recorded == events,
    )
