"""verify_webhook: the bytes received, verified with the right key of the right scheme; tampering,
key confusion, replays and clock skew refused with a WebhookError that echoes nothing."""

from __future__ import annotations

import base64
import datetime as dt
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from leadway_invoices_client.webhooks import (
    PUBLISHED_RSA_KEY,
    MalformedWebhookError,
    SignatureError,
    TimestampError,
    UnknownSchemeError,
    WebhookError,
    WebhookKeyError,
    WebhookVerifier,
    event_time,
    verify_webhook,
)
from leadway_invoices_client.webhooks.verify import MAX_SIGNATURE_CHARS

from .signing import (
    INVOICE,
    NOW,
    body,
    ed25519_private,
    ed25519_signature,
    pem,
    rsa_private,
    rsa_signature,
    spki_base64,
)

ED = pem(ed25519_private())
RSA = pem(rsa_private())
BODY = body()
ED_SIG = ed25519_signature(BODY)
RSA_SIG = rsa_signature(BODY)
VERIFIER = WebhookVerifier(ed25519_key=ED, rsa_key=RSA)

# Tampering cases tried across the properties below (the resolved note counts them).
TAMPER_EXAMPLES = 300


def verify(data: bytes, headers: dict[str, str], **kw: Any) -> Any:
    return verify_webhook(
        data,
        headers,
        ed25519_key=kw.pop("ed25519_key", ED),
        rsa_key=kw.pop("rsa_key", RSA),
        now=kw.pop("now", NOW),
        **kw,
    )


def test_an_ed25519_signed_delivery_gives_its_event() -> None:
    event = verify(BODY, {"x-ghl-signature": ED_SIG})
    assert (event.id, event.webhook_id, event.type_) == (INVOICE, "wh-1", "InvoiceSent")
    assert event_time(event) == NOW
    assert event.deviations == ()
    assert event.raw["total"] == 999


def test_a_legacy_rsa_signed_delivery_gives_its_event() -> None:
    assert verify(BODY, {"x-wh-signature": RSA_SIG}).webhook_id == "wh-1"


def test_header_names_match_whatever_their_case() -> None:
    assert verify(BODY, {"X-GHL-Signature": ED_SIG}).id == INVOICE
    assert verify(BODY, {"X-WH-SIGNATURE": RSA_SIG}).id == INVOICE


def test_keys_are_taken_as_pem_base64_spki_or_key_objects() -> None:
    for key in (ED, ED.encode(), spki_base64(ed25519_private()), ed25519_private().public_key()):
        assert verify(BODY, {"x-ghl-signature": ED_SIG}, ed25519_key=key).id == INVOICE
    assert verify(BODY, {"x-wh-signature": RSA_SIG}, rsa_key=spki_base64(rsa_private())).id == INVOICE


def test_the_published_key_is_upstreams_4096_bit_rsa_key_and_the_default() -> None:
    from leadway_invoices_client.webhooks.keys import rsa_key

    assert rsa_key(PUBLISHED_RSA_KEY).key_size == 4096
    with pytest.raises(
        SignatureError, match="256 bytes; a signature of its scheme is 512"
    ):  # a 2048-bit key's signature
        verify_webhook(BODY, {"x-wh-signature": rsa_signature(BODY, rsa_private())}, now=NOW)


def test_a_present_ed25519_header_decides_alone_even_beside_a_valid_rsa_signature() -> None:
    with pytest.raises(SignatureError, match="x-ghl-signature"):
        verify(BODY, {"x-ghl-signature": ED_SIG[:-4] + "AAA=", "x-wh-signature": RSA_SIG})
    with pytest.raises(UnknownSchemeError, match="no Ed25519 key"):
        verify(BODY, {"x-ghl-signature": ED_SIG, "x-wh-signature": RSA_SIG}, ed25519_key=None)


def test_without_any_signature_or_a_key_for_it_nothing_is_accepted() -> None:
    with pytest.raises(SignatureError, match="no signature"):
        verify(BODY, {"content-type": "application/json"})
    with pytest.raises(UnknownSchemeError, match="legacy"):
        verify(BODY, {"x-wh-signature": RSA_SIG}, rsa_key=None)


def test_key_confusion_is_refused_when_the_keys_are_given() -> None:
    with pytest.raises(WebhookKeyError, match="is an RSA public key, not an Ed25519"):
        WebhookVerifier(ed25519_key=RSA)
    with pytest.raises(WebhookKeyError, match="is an Ed25519 public key, not an RSA"):
        WebhookVerifier(rsa_key=ED)
    with pytest.raises(WebhookKeyError, match="not a public key in PEM or base64 SPKI"):
        WebhookVerifier(ed25519_key="-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
    with pytest.raises(WebhookKeyError, match="not a public key"):
        WebhookVerifier(ed25519_key="not base64!")
    assert isinstance(WebhookKeyError("x"), ValueError)


def test_a_signature_of_the_other_scheme_in_a_header_is_refused() -> None:
    with pytest.raises(SignatureError, match="256 bytes; a signature of its scheme is 64"):
        verify(BODY, {"x-ghl-signature": RSA_SIG})
    with pytest.raises(SignatureError, match="64 bytes; a signature of its scheme is 256"):
        verify(BODY, {"x-wh-signature": ED_SIG})


@pytest.mark.parametrize(
    ("moment", "problem"),
    [
        (NOW + dt.timedelta(seconds=301), "301 s old; at most 300 s"),
        (NOW - dt.timedelta(seconds=31), "31 s in the future"),
    ],
)
def test_a_replay_or_a_delivery_from_the_future_is_refused(moment: dt.datetime, problem: str) -> None:
    with pytest.raises(TimestampError, match=problem):
        verify(BODY, {"x-ghl-signature": ED_SIG}, now=moment)


def test_small_clock_skew_and_ages_within_max_age_pass() -> None:
    for moment in (NOW - dt.timedelta(seconds=29), NOW + dt.timedelta(seconds=299), NOW.timestamp() + 10):
        assert verify(BODY, {"x-ghl-signature": ED_SIG}, now=moment).id == INVOICE
    with pytest.raises(TimestampError):
        verify(BODY, {"x-ghl-signature": ED_SIG}, now=NOW + dt.timedelta(seconds=11), max_age=10)


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"not json", "not JSON"),
        (b"\xff\xfe", "not JSON"),
        (b"[1, 2]", "not a JSON object"),
        (json.dumps({"webhookId": "w", "timestamp": "2026-12-07T12:00:00Z"}).encode(), r"\$\._id"),
        (json.dumps({"_id": "i", "timestamp": "2026-12-07T12:00:00Z"}).encode(), "webhookId"),
        (json.dumps({"_id": "i", "webhookId": "w", "timestamp": "yesterday"}).encode(), "not an ISO 8601"),
        (json.dumps({"_id": "i", "webhookId": "w", "timestamp": 1765108800000}).encode(), "timestamp"),
    ],
)
def test_a_signed_body_that_is_no_event_is_malformed(data: bytes, problem: str) -> None:
    with pytest.raises(MalformedWebhookError, match=problem):
        verify(data, {"x-ghl-signature": ed25519_signature(data)})


def test_a_deviating_field_is_reported_not_raised_unless_strict() -> None:
    data = body(total="a lot")
    event = verify(data, {"x-ghl-signature": ed25519_signature(data)})
    assert [str(d) for d in event.deviations] == ["$.total: expected number, got string"]
    with pytest.raises(MalformedWebhookError, match=r"\$\.total"):
        verify(data, {"x-ghl-signature": ed25519_signature(data)}, strict=True)


def test_bad_arguments_are_named() -> None:
    with pytest.raises(TypeError, match="bytes received, not str"):
        verify(BODY.decode(), {"x-ghl-signature": ED_SIG})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_age"):
        WebhookVerifier(max_age=0)
    with pytest.raises(ValueError, match="aware"):
        verify(BODY, {"x-ghl-signature": ED_SIG}, now=dt.datetime(2026, 12, 7))


def test_a_header_repeated_with_different_values_is_refused() -> None:
    class Repeated(dict[str, str]):
        def items(self) -> Any:
            return [("x-ghl-signature", ED_SIG), ("X-Ghl-Signature", ED_SIG[::-1])]

    with pytest.raises(SignatureError, match="more than once"):
        verify(BODY, Repeated())


# -- tampering: hypothesis ------------------------------------------------------------------------


def _no_echo(error: WebhookError, *secrets: str | bytes) -> None:
    text = f"{error} {error.args!r}"
    for secret in secrets:
        shown = secret.decode("utf-8", "replace") if isinstance(secret, bytes) else secret
        if len(shown) >= 8:
            assert shown not in text


@settings(max_examples=TAMPER_EXAMPLES // 3, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_change_to_the_body_is_refused(data: st.DataObject) -> None:
    scheme = data.draw(st.sampled_from(["x-ghl-signature", "x-wh-signature"]))
    signature = ED_SIG if scheme == "x-ghl-signature" else RSA_SIG
    how = data.draw(st.sampled_from(["flip", "reserialise", "truncate", "append"]))
    if how == "flip":
        index = data.draw(st.integers(0, len(BODY) - 1))
        bit = data.draw(st.integers(0, 7))
        tampered = BODY[:index] + bytes([BODY[index] ^ (1 << bit)]) + BODY[index + 1 :]
    elif how == "reserialise":  # the same JSON, other bytes (what upstream's TS SDK verifies)
        tampered = json.dumps(
            json.loads(BODY), indent=data.draw(st.sampled_from([None, 1, 2])), sort_keys=data.draw(st.booleans())
        ).encode()
        if tampered == BODY:
            tampered += b" "
    elif how == "truncate":
        tampered = BODY[: data.draw(st.integers(0, len(BODY) - 1))]
    else:
        tampered = BODY + data.draw(st.binary(min_size=1, max_size=20))
    with pytest.raises(SignatureError) as caught:
        verify(tampered, {scheme: signature})
    _no_echo(caught.value, tampered, signature)


def _variants() -> st.SearchStrategy[tuple[str, str]]:
    """(name, header value) for the Ed25519 signature, changed in the ways a header can be."""
    raw = base64.b64decode(ED_SIG)
    return st.one_of(
        st.tuples(st.just("urlsafe"), st.just(base64.urlsafe_b64encode(raw).decode())),
        st.tuples(st.just("unpadded"), st.just(ED_SIG.rstrip("="))),
        st.tuples(st.just("whitespace"), st.text(" \t", min_size=1, max_size=3).map(lambda w: w + ED_SIG + w)),
        st.tuples(st.just("inner space"), st.integers(1, len(ED_SIG) - 2).map(lambda i: ED_SIG[:i] + " " + ED_SIG[i:])),
        st.tuples(st.just("truncated"), st.integers(0, len(ED_SIG) - 1).map(lambda i: ED_SIG[:i])),
        st.tuples(st.just("oversized"), st.integers(1, 4000).map(lambda n: ED_SIG + "A" * n)),
        st.tuples(
            st.just("flipped"),
            st.integers(0, len(raw) * 8 - 1).map(
                lambda b: base64.b64encode(
                    raw[: b // 8] + bytes([raw[b // 8] ^ (1 << b % 8)]) + raw[b // 8 + 1 :]
                ).decode()
            ),
        ),
        st.tuples(st.just("random"), st.text(max_size=200)),
        st.tuples(st.just("prefixed"), st.sampled_from(["sha256=", "v1,", "ed25519="]).map(lambda p: p + ED_SIG)),
    )


@settings(max_examples=TAMPER_EXAMPLES // 3, deadline=None)
@given(variant=_variants(), name=st.sampled_from(["x-ghl-signature", "X-GHL-SIGNATURE", "X-Ghl-Signature"]))
def test_a_changed_signature_header_is_refused_unless_it_is_the_same_signature(
    variant: tuple[str, str], name: str
) -> None:
    how, value = variant
    try:
        event = verify(BODY, {name: value})
    except SignatureError as error:
        _no_echo(error, value, BODY)
    else:
        # Only what leaves the very signature passes: surrounding whitespace (HTTP strips it anyway),
        # or a "variant" that changed nothing (urlsafe base64 of a signature without + or /).
        assert value.strip() == ED_SIG, how
        assert event.webhook_id == "wh-1"


@settings(max_examples=TAMPER_EXAMPLES // 3, deadline=None)
@given(
    age=st.floats(-3600, 3600, allow_nan=False),
    webhook_id=st.text(min_size=1, max_size=40),
)
def test_replays_and_skew_are_judged_by_the_signed_timestamp(age: float, webhook_id: str) -> None:
    data = body(webhook_id)
    now = NOW + dt.timedelta(seconds=age)
    try:
        event = verify(data, {"x-ghl-signature": ed25519_signature(data)}, now=now)
    except TimestampError:
        assert age > 300 or age < -30
    else:
        assert -30 <= age <= 300
        assert event.webhook_id == webhook_id
    # A fresh timestamp cannot be grafted onto an old signature.
    fresh = body(webhook_id, at=now)
    if fresh != data:
        with pytest.raises(SignatureError):
            verify(fresh, {"x-ghl-signature": ed25519_signature(data)}, now=now)


def test_a_signature_longer_than_any_scheme_is_refused_before_decoding() -> None:
    with pytest.raises(SignatureError, match="too long"):
        verify(BODY, {"x-wh-signature": "A" * (MAX_SIGNATURE_CHARS + 1)})


def test_without_the_extra_the_import_names_it_in_one_error() -> None:
    import subprocess
    import sys

    code = (
        "import sys; sys.modules['cryptography'] = None\n"
        "try:\n    import leadway_invoices_client.webhooks\n"
        "except ImportError as e:\n    print(type(e).__name__, e)\n"
    )
    shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert shown.strip() == (
        "ImportError leadway_invoices_client.webhooks needs the [webhooks] extra (cryptography):"
        " pip install 'leadway-invoices-client[webhooks]'"
    )
