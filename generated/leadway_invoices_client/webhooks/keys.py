"""The public keys webhooks are verified with: upstream's published RSA key for the legacy
`x-wh-signature`, and how a key given as text (PEM, or base64 of its DER SubjectPublicKeyInfo) is
loaded and checked to be of the kind its scheme needs."""

from __future__ import annotations

import base64
import binascii
import functools

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

from .errors import WebhookKeyError

PUBLISHED_RSA_KEY = """-----BEGIN PUBLIC KEY-----
MIICIjANBgkqhkiG9w0BAQEFAAOCAg8AMIICCgKCAgEAokvo/r9tVgcfZ5DysOSC
Frm602qYV0MaAiNnX9O8KxMbiyRKWeL9JpCpVpt4XHIcBOK4u3cLSqJGOLaPuXw6
dO0t6Q/ZVdAV5Phz+ZtzPL16iCGeK9po6D6JHBpbi989mmzMryUnQJezlYJ3DVfB
csedpinheNnyYeFXolrJvcsjDtfAeRx5ByHQmTnSdFUzuAnC9/GepgLT9SM4nCpv
uxmZMxrJt5Rw+VUaQ9B8JSvbMPpez4peKaJPZHBbU3OdeCVx5klVXXZQGNHOs8gF
3kvoV5rTnXV0IknLBXlcKKAQLZcY/Q9rG6Ifi9c+5vqlvHPCUJFT5XUGG5RKgOKU
J062fRtN+rLYZUV+BjafxQauvC8wSWeYja63VSUruvmNj8xkx2zE/Juc+yjLjTXp
IocmaiFeAO6fUtNjDeFVkhf5LNb59vECyrHD2SQIrhgXpO4Q3dVNA5rw576PwTzN
h/AMfHKIjE4xQA1SZuYJmNnmVZLIZBlQAF9Ntd03rfadZ+yDiOXCCs9FkHibELhC
HULgCsnuDJHcrGNd5/Ddm5hxGQ0ASitgHeMZ0kcIOwKDOzOU53lDza6/Y09T7sYJ
PQe7z0cvj7aE4B+Ax1ZoZGPzpJlZtGXCsu9aTEGEnKzmsFqwcSsnw3JB31IGKAyk
T1hhTiaCeIY/OwwwNUY2yvcCAwEAAQ==
-----END PUBLIC KEY-----
"""
"""Upstream's published key for `x-wh-signature` (4096-bit RSA), from its webhook authentication
guide (spec/upstream/webhook-authentication.md). Upstream announces a rotation by email: pass the new
key as `rsa_key` until this package carries it."""

MIN_RSA_BITS = 2048

PublicKeyText = str | bytes
"""A public key as text: PEM (`-----BEGIN PUBLIC KEY-----`), or base64 of its DER SubjectPublicKeyInfo."""


@functools.lru_cache(maxsize=16)
def _load(text: PublicKeyText, name: str) -> object:
    raw = text.encode("ascii", "replace") if isinstance(text, str) else bytes(text)
    raw = raw.strip()
    try:
        if raw.startswith(b"-----BEGIN"):
            return serialization.load_pem_public_key(raw)
        return serialization.load_der_public_key(base64.b64decode(b"".join(raw.split()), validate=True))
    except (ValueError, TypeError, binascii.Error, UnsupportedAlgorithm):
        raise WebhookKeyError(f"{name} is not a public key in PEM or base64 SPKI form") from None


def _kind(key: object) -> str:
    if isinstance(key, RSAPublicKey):
        return "an RSA public key"
    if isinstance(key, Ed25519PublicKey):
        return "an Ed25519 public key"
    return f"a {type(key).__name__}"


def ed25519_key(key: PublicKeyText | Ed25519PublicKey, name: str = "ed25519_key") -> Ed25519PublicKey:
    """`key` loaded, if it is an Ed25519 public key; else WebhookKeyError."""
    loaded = key if not isinstance(key, str | bytes) else _load(key, name)
    if not isinstance(loaded, Ed25519PublicKey):
        raise WebhookKeyError(f"{name} is {_kind(loaded)}, not an Ed25519 public key (x-ghl-signature)")
    return loaded


def rsa_key(key: PublicKeyText | RSAPublicKey, name: str = "rsa_key") -> RSAPublicKey:
    """`key` loaded, if it is an RSA public key of at least MIN_RSA_BITS; else WebhookKeyError."""
    loaded = key if not isinstance(key, str | bytes) else _load(key, name)
    if not isinstance(loaded, RSAPublicKey):
        raise WebhookKeyError(f"{name} is {_kind(loaded)}, not an RSA public key (x-wh-signature)")
    if loaded.key_size < MIN_RSA_BITS:
        raise WebhookKeyError(f"{name} is a {loaded.key_size}-bit RSA key; at least {MIN_RSA_BITS} bits are needed")
    return loaded
