"""Standard Webhooks signatures, cross-checked against the PyPI ``standardwebhooks`` package both
ways (their signer -> our verify, our signer -> their verify)."""

from __future__ import annotations

import base64
import time
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from eventbus import ConfigurationError, EventBusError, WebhookSignatureError
from eventbus._webhooks._signature import (
    WebhookSecret,
    parse_secrets,
    sign,
    signature_headers,
    verify,
)

keys = st.binary(min_size=16, max_size=64)
ids = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=40)
bodies = st.binary(max_size=512)


def whsec(key: bytes) -> str:
    return "whsec_" + base64.b64encode(key).decode()


@settings(max_examples=200, deadline=None)
@given(key=keys, msg_id=ids, body=bodies)
def test_their_signature_verifies_here(key: bytes, msg_id: str, body: bytes) -> None:
    now = int(time.time())
    theirs = Webhook(whsec(key)).sign(msg_id, datetime.fromtimestamp(now, UTC), body)
    headers = {"webhook-id": msg_id, "webhook-timestamp": str(now), "webhook-signature": theirs}
    verified = verify(headers, body, whsec(key), now=now)
    assert verified.msg_id == msg_id
    assert verified.timestamp == now


@settings(max_examples=200, deadline=None)
@given(key=keys, other=keys, msg_id=ids, body=bodies)
def test_our_signature_verifies_there(key: bytes, other: bytes, msg_id: str, body: bytes) -> None:
    now = int(time.time())
    # Key rotation: one v1 entry per secret, and their verifier accepts either key.
    headers = signature_headers(msg_id, now, body, [whsec(key), whsec(other)])
    assert headers["webhook-signature"].count("v1,") == 2
    Webhook(whsec(key)).verify(body, headers, json_parse=False)
    Webhook(whsec(other)).verify(body, headers, json_parse=False)


@settings(max_examples=100, deadline=None)
@given(key=keys, wrong=keys, msg_id=ids, body=bodies, flip=st.integers(min_value=0))
def test_tampering_fails_both_here_and_there(
    key: bytes, wrong: bytes, msg_id: str, body: bytes, flip: int
) -> None:
    now = int(time.time())
    headers = signature_headers(msg_id, now, body, whsec(key))
    tampered = bytearray(body + b"x")
    tampered[flip % len(tampered)] ^= 0x01
    with pytest.raises(WebhookSignatureError) as err:
        verify(headers, bytes(tampered), whsec(key), now=now)
    assert err.value.problem == "no-match"
    with pytest.raises(WebhookVerificationError):
        Webhook(whsec(key)).verify(bytes(tampered), headers, json_parse=False)
    if wrong != key:
        with pytest.raises(WebhookSignatureError):
            verify(headers, body, whsec(wrong), now=now)
        theirs = Webhook(whsec(wrong)).sign(msg_id, datetime.fromtimestamp(now, UTC), body)
        with pytest.raises(WebhookSignatureError):
            verify({**headers, "webhook-signature": theirs}, body, whsec(key), now=now)


def test_rotation_any_secret_matches_any_signature() -> None:
    old, new = WebhookSecret.generate(), WebhookSecret.generate()
    body = b'{"a":1}'
    only_old = signature_headers("msg_1", 1_700_000_000, body, [old])
    assert verify(only_old, body, [new, old], now=1_700_000_000).msg_id == "msg_1"
    both = signature_headers("msg_1", 1_700_000_000, body, [old, new])
    assert verify(both, body, new, now=1_700_000_000).timestamp == 1_700_000_000


def test_headers_are_matched_case_insensitively() -> None:
    secret = WebhookSecret.generate()
    headers = signature_headers("m", 100, b"b", secret)
    upper = {k.title(): v for k, v in headers.items()}
    assert verify(upper, b"b", secret, now=100).msg_id == "m"


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_missing_header_is_named(missing: str) -> None:
    secret = WebhookSecret.generate()
    headers = signature_headers("m", 100, b"b", secret)
    headers[missing] = ""
    with pytest.raises(WebhookSignatureError) as err:
        verify(headers, b"b", secret, now=100)
    assert err.value.problem == "missing-header"
    assert err.value.header == missing
    assert missing in str(err.value)
    del headers[missing]
    with pytest.raises(WebhookSignatureError, match=missing):
        verify(headers, b"b", secret, now=100)


@pytest.mark.parametrize("value", ["abc", "1.5", "-3", "1e9", "12345678901234"])
def test_bad_timestamp(value: str) -> None:
    secret = WebhookSecret.generate()
    headers = signature_headers("m", 100, b"b", secret) | {"webhook-timestamp": value}
    with pytest.raises(WebhookSignatureError) as err:
        verify(headers, b"b", secret, now=100)
    assert err.value.problem == "bad-timestamp"


def test_tolerance_both_ways() -> None:
    secret = WebhookSecret.generate()
    headers = signature_headers("m", 1000, b"b", secret)
    verify(headers, b"b", secret, now=1300)  # exactly at the edge: accepted
    verify(headers, b"b", secret, now=700)
    with pytest.raises(WebhookSignatureError) as old:
        verify(headers, b"b", secret, now=1301)
    assert old.value.problem == "too-old"
    with pytest.raises(WebhookSignatureError) as new:
        verify(headers, b"b", secret, now=699)
    assert new.value.problem == "too-new"
    verify(headers, b"b", secret, now=5000, tolerance=4000)


def test_only_other_versions_is_no_signature() -> None:
    secret = WebhookSecret.generate()
    headers = signature_headers("m", 100, b"b", secret)
    headers["webhook-signature"] = headers["webhook-signature"].replace("v1,", "v1a,")
    with pytest.raises(WebhookSignatureError) as err:
        verify(headers, b"b", secret, now=100)
    assert err.value.problem == "no-signature"


def test_timestamp_is_signed_as_sent() -> None:
    # The signed content uses the header's text: "0100" is not "100".
    secret = WebhookSecret.generate()
    headers = signature_headers("m", 100, b"b", secret) | {"webhook-timestamp": "0100"}
    with pytest.raises(WebhookSignatureError):
        verify(headers, b"b", secret, now=100)


def test_secrets_never_appear_in_errors_or_reprs() -> None:
    secret = WebhookSecret.generate()
    text = secret.reveal()
    key_b64 = text.removeprefix("whsec_")
    assert key_b64 not in repr(secret)
    assert key_b64 not in str(secret)
    assert key_b64 not in repr(parse_secrets([text]))
    headers = signature_headers("m", 100, b"b", WebhookSecret.generate())
    with pytest.raises(WebhookSignatureError) as err:
        verify(headers, b"b", text, now=100)
    assert key_b64 not in str(err.value)
    assert sign("m", 100, b"b", secret) not in str(err.value)
    for bad in ["whsec_" + key_b64 + "!", key_b64, "whsec_" + base64.b64encode(b"short").decode()]:
        with pytest.raises(ConfigurationError) as cfg:
            WebhookSecret.parse(bad)
        assert key_b64 not in str(cfg.value)
    assert isinstance(err.value, EventBusError)
    assert isinstance(err.value, ValueError)


def test_reveal_round_trips_and_unpadded_is_accepted() -> None:
    secret = WebhookSecret.generate(24)
    assert WebhookSecret.parse(secret.reveal()) == secret
    assert WebhookSecret.parse(secret.reveal().rstrip("=")) == secret
    assert hash(WebhookSecret.parse(secret.reveal())) == hash(secret)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda s: sign("", 1, b"", s), "webhook-id"),
        (lambda s: sign("a b", 1, b"", s), "spaces"),
        (lambda s: sign("m", -1, b"", s), "timestamp"),
        (lambda s: sign("m", 1, "text", s), "bytes"),  # type: ignore[arg-type]
        (lambda s: sign("m", 1, b"", []), "at least one"),
    ],
)
def test_sign_argument_errors(call: object, message: str) -> None:
    secret = WebhookSecret.generate()
    with pytest.raises(ConfigurationError, match=message):
        call(secret)  # type: ignore[operator]
