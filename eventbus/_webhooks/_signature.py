"""Standard Webhooks signatures: pure functions, no I/O, no clock unless asked.

The scheme (standard-webhooks spec): a request carries ``webhook-id`` (the message id, the same
on every retry), ``webhook-timestamp`` (Unix seconds, integer) and ``webhook-signature``, a
space-separated list of ``v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>``: one entry
per active secret, so a receiver can rotate keys without a gap. A secret is written
``whsec_<base64 key>``.

API (stable; the ingress and the delivery side both use it):

- :class:`WebhookSecret` -- a parsed secret. ``WebhookSecret.parse("whsec_...")``,
  ``WebhookSecret.generate()``; ``reveal()`` gives the ``whsec_`` text back (to show once, to
  store); ``repr``/``str`` never show the key.
- :func:`sign(msg_id, timestamp, body, secrets) <sign>` -> the ``webhook-signature`` value.
- :func:`signature_headers(msg_id, timestamp, body, secrets) <signature_headers>` -> the three
  headers as a dict.
- :func:`verify(headers, body, secrets, *, tolerance=300, now=None) <verify>` -> a
  :class:`Verified` (message id and timestamp) or raises
  :class:`~eventbus.WebhookSignatureError` whose ``problem`` names what is wrong
  (``missing-header``, ``bad-timestamp``, ``too-old``, ``too-new``, ``no-signature``,
  ``no-match``).

``secrets`` is one secret or a sequence of them; each may be a :class:`WebhookSecret` or its
``whsec_`` text. A malformed secret raises :class:`~eventbus.ConfigurationError` that does not
quote it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets as _random
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from eventbus._errors import ConfigurationError, WebhookSignatureError

__all__ = [
    "DEFAULT_TOLERANCE",
    "SECRET_PREFIX",
    "SecretsArg",
    "Verified",
    "WebhookSecret",
    "parse_secrets",
    "sign",
    "signature_headers",
    "verify",
]

SECRET_PREFIX: Final = "whsec_"
DEFAULT_TOLERANCE: Final = 300.0
_MIN_KEY = 16
_MAX_KEY = 256


class WebhookSecret:
    """A Standard Webhooks signing key. The key never appears in ``repr``/``str``."""

    __slots__ = ("_key",)

    def __init__(self, key: bytes) -> None:
        if not isinstance(key, bytes | bytearray):
            raise ConfigurationError("a webhook secret key must be bytes")
        if not _MIN_KEY <= len(key) <= _MAX_KEY:
            raise ConfigurationError(
                f"a webhook secret key must be {_MIN_KEY} to {_MAX_KEY} bytes long, "
                f"got {len(key)} bytes"
            )
        self._key = bytes(key)

    @classmethod
    def parse(cls, text: str | WebhookSecret) -> WebhookSecret:
        """Read ``whsec_<base64>`` (padding optional). The error never quotes the text."""
        if isinstance(text, WebhookSecret):
            return text
        if not isinstance(text, str):
            raise ConfigurationError(
                f"a webhook secret must be a 'whsec_...' string, got {type(text).__name__}"
            )
        if not text.startswith(SECRET_PREFIX):
            raise ConfigurationError(
                "a webhook secret must start with 'whsec_' followed by the base64 key "
                "(the value given is not shown)"
            )
        body = text[len(SECRET_PREFIX) :]
        try:
            key = base64.b64decode(body + "=" * (-len(body) % 4), validate=True)
        except (binascii.Error, ValueError):
            raise ConfigurationError(
                "a webhook secret's key after 'whsec_' is not valid base64 "
                "(the value given is not shown)"
            ) from None
        return cls(key)

    @classmethod
    def generate(cls, size: int = 32) -> WebhookSecret:
        """A new random key (32 bytes by default)."""
        return cls(_random.token_bytes(size))

    def reveal(self) -> str:
        """The ``whsec_`` text of this secret (to show once to its owner, or to store)."""
        return SECRET_PREFIX + base64.b64encode(self._key).decode("ascii")

    def digest(self, signed: bytes) -> bytes:
        return hmac.new(self._key, signed, hashlib.sha256).digest()

    def __repr__(self) -> str:
        return "WebhookSecret(<hidden>)"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, WebhookSecret):
            return NotImplemented
        return hmac.compare_digest(self._key, other._key)

    def __hash__(self) -> int:
        return hash(hashlib.sha256(b"eventbus-whsec" + self._key).digest())


SecretsArg = WebhookSecret | str | Sequence[WebhookSecret | str]


def parse_secrets(secrets: SecretsArg) -> tuple[WebhookSecret, ...]:
    """One secret or a sequence of them, parsed; at least one is required."""
    items = [secrets] if isinstance(secrets, WebhookSecret | str) else list(secrets)
    parsed = tuple(WebhookSecret.parse(s) for s in items)
    if not parsed:
        raise ConfigurationError("at least one webhook secret is required")
    return parsed


@dataclass(frozen=True, slots=True)
class Verified:
    """A verified request: its ``webhook-id`` and ``webhook-timestamp``."""

    msg_id: str
    timestamp: int


def _check_id(msg_id: str) -> str:
    if not isinstance(msg_id, str) or not msg_id or not msg_id.isascii():
        raise ConfigurationError("webhook-id must be a non-empty ASCII string")
    if not msg_id.isprintable() or any(c.isspace() for c in msg_id):
        raise ConfigurationError("webhook-id must not contain spaces or control characters")
    return msg_id


def _signed_content(msg_id: str, timestamp: int | str, body: bytes) -> bytes:
    return f"{msg_id}.{timestamp}.".encode() + body


def _v1(secret: WebhookSecret, signed: bytes) -> str:
    return "v1," + base64.b64encode(secret.digest(signed)).decode("ascii")


def sign(msg_id: str, timestamp: int, body: bytes, secrets: SecretsArg) -> str:
    """The ``webhook-signature`` header value: one ``v1,`` signature per secret, in order."""
    if isinstance(timestamp, bool) or not isinstance(timestamp, int) or timestamp < 0:
        raise ConfigurationError(f"webhook-timestamp must be a non-negative int, got {timestamp!r}")
    if not isinstance(body, bytes | bytearray | memoryview):
        raise ConfigurationError(f"the body to sign must be bytes, got {type(body).__name__}")
    signed = _signed_content(_check_id(msg_id), timestamp, bytes(body))
    return " ".join(_v1(s, signed) for s in parse_secrets(secrets))


def signature_headers(
    msg_id: str, timestamp: int, body: bytes, secrets: SecretsArg
) -> dict[str, str]:
    """``webhook-id``, ``webhook-timestamp`` and ``webhook-signature`` for one request."""
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(msg_id, timestamp, body, secrets),
    }


def _header(headers: Mapping[str, str], name: str) -> str:
    value = headers.get(name)
    if value is None:
        for key, candidate in headers.items():
            if key.lower() == name:
                value = candidate
                break
    if not value:
        raise WebhookSignatureError(
            "header is missing or empty", problem="missing-header", header=name
        )
    return value


def verify(
    headers: Mapping[str, str],
    body: bytes,
    secrets: SecretsArg,
    *,
    tolerance: float = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> Verified:
    """Check a request's Standard Webhooks headers against its raw ``body``.

    ``headers`` is any mapping of header names (matched case-insensitively) to values.
    ``tolerance`` is how far (seconds) the timestamp may be from ``now`` (default: the clock),
    either way. Signatures other than ``v1`` (e.g. ``v1a``) are ignored.
    """
    keys = parse_secrets(secrets)
    msg_id = _header(headers, "webhook-id")
    raw_ts = _header(headers, "webhook-timestamp").strip()
    signature = _header(headers, "webhook-signature")
    if not (raw_ts.isascii() and raw_ts.isdigit() and len(raw_ts) <= 12):
        raise WebhookSignatureError(
            f"not a Unix timestamp in whole seconds: {raw_ts[:20]!r}",
            problem="bad-timestamp",
            header="webhook-timestamp",
        )
    timestamp = int(raw_ts)
    current = time.time() if now is None else now
    if timestamp < current - tolerance:
        raise WebhookSignatureError(
            f"timestamp is {current - timestamp:.0f} s old, more than the {tolerance:g} s allowed",
            problem="too-old",
            header="webhook-timestamp",
        )
    if timestamp > current + tolerance:
        raise WebhookSignatureError(
            f"timestamp is {timestamp - current:.0f} s in the future, more than the "
            f"{tolerance:g} s allowed",
            problem="too-new",
            header="webhook-timestamp",
        )
    given = [
        entry.encode("ascii", "replace") for entry in signature.split(" ") if entry[:3] == "v1,"
    ]
    if not given:
        raise WebhookSignatureError(
            "holds no v1 signature", problem="no-signature", header="webhook-signature"
        )
    signed = _signed_content(msg_id, raw_ts, bytes(body))  # as sent, even "0123"
    for key in keys:
        expected = _v1(key, signed).encode("ascii")
        if any(hmac.compare_digest(expected, entry) for entry in given):
            return Verified(msg_id, timestamp)
    raise WebhookSignatureError(
        f"none of the {len(given)} v1 signature(s) matches the body with any of the "
        f"{len(keys)} secret(s)",
        problem="no-match",
        header="webhook-signature",
    )
