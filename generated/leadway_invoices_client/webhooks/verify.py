"""Verifying a webhook delivery: its signature over the bytes received, then its body, then its age.

Two schemes (upstream's authentication guide and SDKs):

* `x-ghl-signature`: Ed25519, base64, over the raw body, with the app's key (upstream's SDKs read it
  from `WEBHOOK_SIGNATURE_PUBLIC_KEY`). When this header is present it alone decides: a delivery
  carrying it is never accepted on the strength of `x-wh-signature` instead (an attacker could
  otherwise strip or spoil the stronger signature and fall back to the weaker one).
* `x-wh-signature`: RSA-SHA256, PKCS#1 v1.5, base64, over the raw body, with upstream's published
  key (`keys.PUBLISHED_RSA_KEY`); upstream deprecates it on July 1, 2026.

Unlike upstream's SDKs, the bytes received are verified (never a re-serialised body), and a missing
key fails closed. Header names are matched case-insensitively. No error names the body or the
signature.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import time
from collections.abc import Mapping

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

from .._runtime.constants import WEBHOOK_MAX_AGE, WEBHOOK_MAX_SKEW
from .._runtime.parsing import Reader
from .._runtime.validation import seconds
from ..models.invoice_sent_event import InvoiceSentEvent
from .errors import MalformedWebhookError, SignatureError, TimestampError, UnknownSchemeError
from .keys import PUBLISHED_RSA_KEY, PublicKeyText, ed25519_key, rsa_key

ED25519_HEADER = "x-ghl-signature"
RSA_HEADER = "x-wh-signature"
ED25519_SIGNATURE_BYTES = 64
# A signature header longer than this is refused before it is decoded: base64 of a 4096-bit RSA
# signature is 684 characters, of an 8192-bit one 1,368.
MAX_SIGNATURE_CHARS = 1400


def _header(headers: Mapping[str, str], name: str) -> str | None:
    """The value of header `name`, whatever the case of its name; SignatureError when it comes more
    than once with different values."""
    found = {value for key, value in headers.items() if isinstance(key, str) and key.lower() == name}
    if len(found) > 1:
        raise SignatureError(f"{name} comes more than once with different values")
    if not found:
        return None
    value = found.pop()
    if not isinstance(value, str):
        raise SignatureError(f"{name} is not text")
    return value


def _decoded(value: str, name: str, size: int) -> bytes:
    """A signature header's bytes: standard base64 (padding included; whitespace around it allowed),
    `size` bytes long."""
    text = value.strip()
    if not text or len(text) > MAX_SIGNATURE_CHARS:
        raise SignatureError(f"{name} is empty or too long to be a signature")
    try:
        signature = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise SignatureError(f"{name} is not standard base64") from None
    if len(signature) != size:
        raise SignatureError(f"{name} is {len(signature)} bytes; a signature of its scheme is {size}")
    return signature


def event_time(event: InvoiceSentEvent) -> dt.datetime:
    """When HighLevel sent the event: its `timestamp`, aware (UTC when it names no offset);
    MalformedWebhookError when it is no ISO 8601 time."""
    try:
        moment = dt.datetime.fromisoformat(event.timestamp)
    except ValueError:
        raise MalformedWebhookError("the body's timestamp is not an ISO 8601 time") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


class WebhookVerifier:
    """The keys and rules deliveries are verified with, loaded and checked once (a receiver builds
    one); `verify` is `verify_webhook` for one delivery."""

    def __init__(
        self,
        *,
        ed25519_key: PublicKeyText | Ed25519PublicKey | None = None,
        rsa_key: PublicKeyText | RSAPublicKey | None = PUBLISHED_RSA_KEY,
        max_age: float = WEBHOOK_MAX_AGE,
        max_skew: float = WEBHOOK_MAX_SKEW,
        strict: bool = False,
    ) -> None:
        self.ed25519_key = None if ed25519_key is None else _ed25519(ed25519_key)
        self.rsa_key = None if rsa_key is None else _rsa(rsa_key)
        self.max_age = seconds("max_age", max_age, positive=True)
        self.max_skew = seconds("max_skew", max_skew)
        self.strict = strict

    def verify(
        self, body: bytes, headers: Mapping[str, str], *, now: dt.datetime | float | None = None
    ) -> InvoiceSentEvent:
        if not isinstance(body, bytes | bytearray | memoryview):
            raise TypeError(f"body must be the bytes received, not {type(body).__name__}")
        body = bytes(body)
        self._check_signature(body, headers)
        event = self._parse(body)
        self._check_age(event_time(event), now)
        return event

    def _check_signature(self, body: bytes, headers: Mapping[str, str]) -> None:
        ed25519 = _header(headers, ED25519_HEADER)
        if ed25519 is not None:  # it alone decides, whatever x-wh-signature says
            if self.ed25519_key is None:
                raise UnknownSchemeError(f"{ED25519_HEADER} came, but no Ed25519 key is configured to verify it")
            try:
                self.ed25519_key.verify(_decoded(ed25519, ED25519_HEADER, ED25519_SIGNATURE_BYTES), body)
            except InvalidSignature:
                raise SignatureError(f"{ED25519_HEADER} does not verify the body with the Ed25519 key") from None
            return
        legacy = _header(headers, RSA_HEADER)
        if legacy is None:
            raise SignatureError(f"no signature: neither {ED25519_HEADER} nor {RSA_HEADER} came")
        if self.rsa_key is None:
            raise UnknownSchemeError(f"only {RSA_HEADER} came, and the legacy RSA scheme is turned off")
        signature = _decoded(legacy, RSA_HEADER, self.rsa_key.key_size // 8)
        try:
            self.rsa_key.verify(signature, body, padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            raise SignatureError(f"{RSA_HEADER} does not verify the body with the RSA key") from None

    def _parse(self, body: bytes) -> InvoiceSentEvent:
        try:
            decoded = json.loads(body)
        except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
            raise MalformedWebhookError("the signed body is not JSON (UTF-8)") from None
        if not isinstance(decoded, dict):
            raise MalformedWebhookError("the signed body is not a JSON object")
        try:
            return InvoiceSentEvent.from_dict(decoded, Reader(strict=True) if self.strict else None)
        except (TypeError, ValueError) as exc:
            # The message names the field and JSON types (Deviation's rule), never a value.
            raise MalformedWebhookError(f"the signed body is not an InvoiceSent event: {exc}") from None

    def _check_age(self, sent: dt.datetime, now: dt.datetime | float | None) -> None:
        if now is None:
            current = time.time()
        elif isinstance(now, dt.datetime):
            if now.tzinfo is None:
                raise ValueError("now must be an aware datetime (or seconds since the epoch)")
            current = now.timestamp()
        else:
            current = seconds("now", now)
        age = current - sent.timestamp()
        if age > self.max_age:
            raise TimestampError(f"the event is {age:.0f} s old; at most {self.max_age:g} s is accepted")
        if -age > self.max_skew:
            raise TimestampError(f"the event is {-age:.0f} s in the future; at most {self.max_skew:g} s is accepted")


def _ed25519(key: PublicKeyText | Ed25519PublicKey) -> Ed25519PublicKey:
    return ed25519_key(key)


def _rsa(key: PublicKeyText | RSAPublicKey) -> RSAPublicKey:
    return rsa_key(key)


def verify_webhook(
    body: bytes,
    headers: Mapping[str, str],
    *,
    ed25519_key: PublicKeyText | Ed25519PublicKey | None = None,
    rsa_key: PublicKeyText | RSAPublicKey | None = PUBLISHED_RSA_KEY,
    max_age: float = WEBHOOK_MAX_AGE,
    now: dt.datetime | float | None = None,
    strict: bool = False,
) -> InvoiceSentEvent:
    """Verify one delivery and return its event, or raise a WebhookError subclass.

    `body` is the bytes received, unchanged; `headers` the request's (any case). `ed25519_key` verifies
    `x-ghl-signature` (PEM or base64 SPKI; None: such a delivery is refused as UnknownSchemeError);
    `rsa_key` verifies `x-wh-signature` (upstream's published key by default; None turns the legacy
    scheme off). The body's `timestamp` must be at most `max_age` seconds old and not ahead of `now`
    (default: the clock) by more than WEBHOOK_MAX_SKEW. The event is read tolerantly (`deviations`,
    `raw`), or strictly with `strict=True`. A duplicate `webhookId` is not this function's to catch:
    the ledger records each id once (`SendLedger.record_webhook`).

    Raises: SignatureError, UnknownSchemeError, TimestampError, MalformedWebhookError; WebhookKeyError
    for a key that is not one of its kind.
    """
    verifier = WebhookVerifier(ed25519_key=ed25519_key, rsa_key=rsa_key, max_age=max_age, strict=strict)
    return verifier.verify(body, headers, now=now)
