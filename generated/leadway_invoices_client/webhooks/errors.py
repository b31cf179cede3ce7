"""Why a webhook delivery was refused: one error tree. No message names the body or the signature
(they came from outside, and a log line must not replay them); each says which check failed."""

from __future__ import annotations


class WebhookError(Exception):
    """A delivery that must not be trusted; its subclass says which check failed."""


class SignatureError(WebhookError):
    """No signature header, a signature that is not base64 of the right length, or one that does not
    verify the body received with the key."""


class UnknownSchemeError(WebhookError):
    """A signature this receiver cannot check: `x-ghl-signature` (Ed25519) with no Ed25519 key
    configured, or only `x-wh-signature` (RSA) with the legacy scheme turned off (`rsa_key=None`)."""


class TimestampError(WebhookError):
    """The body's `timestamp` is older than `max_age` (a replay?) or ahead of our clock by more than
    the allowed skew."""


class MalformedWebhookError(WebhookError):
    """A signed body that is not a JSON object with the invoice's `_id`, `webhookId` and an ISO 8601
    `timestamp`."""


class WebhookKeyError(WebhookError, ValueError):
    """A key given to verify with is not a public key of the expected kind (PEM or base64 SPKI): an
    RSA key where an Ed25519 key is expected, a private key, garbage. A configuration error."""
