"""Signed deliveries for the tests: an InvoiceSent body, and its signatures with keys made here."""

from __future__ import annotations

import base64
import datetime as dt
import functools
import json
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

NOW = dt.datetime(2026, 12, 7, 12, 0, tzinfo=dt.UTC)
INVOICE = "6578278e879ad2646715ba9c"


def body(webhook_id: str = "wh-1", *, invoice_id: str = INVOICE, at: dt.datetime = NOW, **extra: Any) -> bytes:
    event = {
        "type": "InvoiceSent",
        "webhookId": webhook_id,
        "timestamp": at.isoformat().replace("+00:00", "Z"),
        "_id": invoice_id,
        "status": "sent",
        "altId": "loc-1",
        "altType": "location",
        "invoiceNumber": "19",
        "total": 999,
        **extra,
    }
    return json.dumps(event, separators=(",", ":")).encode()


@functools.cache
def ed25519_private() -> Ed25519PrivateKey:
    # A fixed key, so that hypothesis replays the same signatures run after run.
    return Ed25519PrivateKey.from_private_bytes(bytes(range(32)))


@functools.cache
def rsa_private() -> rsa.RSAPrivateKey:
    # 2048 bits: upstream's key is 4096, but the scheme is the same and the tests stay fast.
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def pem(key: Any) -> str:
    return str(
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def spki_base64(key: Any) -> str:
    der = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(der).decode()


def ed25519_signature(data: bytes, key: Ed25519PrivateKey | None = None) -> str:
    return base64.b64encode((key or ed25519_private()).sign(data)).decode()


def rsa_signature(data: bytes, key: rsa.RSAPrivateKey | None = None) -> str:
    signed = (key or rsa_private()).sign(data, padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(signed).decode()
