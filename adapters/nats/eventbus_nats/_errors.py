"""nats-py exceptions become eventbus errors here, at the adapter boundary, without secrets.

``translated(action, scrub)`` is a context manager: connection trouble becomes
``BrokerConnectionError``, a failed or unacknowledged publish ``PublishError``, anything else
from nats-py ``AdapterError``; each ``from`` the original. Texts go through ``scrub`` (the
toolkit's ``Scrubber``), which blanks out the configured password and token wherever they appear.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import Iterator

import nats.errors
import nats.js.errors

from eventbus.adapter import AdapterError, BrokerConnectionError, PublishError, Scrubber

__all__ = ["describe", "is_connection_error", "translated"]

_CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    OSError,  # includes ConnectionError and ssl.SSLError
    nats.errors.ConnectionClosedError,
    nats.errors.ConnectionDrainingError,
    nats.errors.ConnectionReconnectingError,
    nats.errors.OutboundBufferLimitError,
    nats.errors.StaleConnectionError,
    nats.errors.NoServersError,
    nats.errors.AuthorizationError,
    nats.errors.SecureConnRequiredError,
    nats.errors.SecureConnWantedError,
    nats.errors.SecureConnFailedError,
    nats.errors.InvalidUserCredentialsError,
)


def is_connection_error(exc: BaseException) -> bool:
    return isinstance(exc, _CONNECTION_ERRORS)


def describe(exc: BaseException) -> str:
    """A short human description of a nats-py (or socket) exception."""
    if (
        isinstance(exc, nats.errors.AuthorizationError)
        or "authorization violation" in str(exc).lower()
    ):
        return "authorization violation (check the user/password, token, nkey or creds)"
    if isinstance(exc, nats.errors.NoServersError):
        return "no server could be reached"
    if isinstance(exc, nats.errors.SecureConnWantedError):
        return "TLS was requested but the server does not offer it"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"TLS certificate verification failed: {exc.verify_message or exc}"
    if isinstance(exc, nats.js.errors.APIError):
        text = exc.description or type(exc).__name__
        return f"{text} (JetStream error {exc.err_code}, status {exc.code})"
    if isinstance(exc, nats.js.errors.NoStreamResponseError):
        return "no JetStream stream answered (JetStream unavailable or subject not captured)"
    if isinstance(exc, asyncio.TimeoutError | nats.errors.TimeoutError):
        return "timed out"
    text = str(exc).strip()
    if text.startswith("nats: "):
        text = text[6:]
    return text or type(exc).__name__


@contextlib.contextmanager
def translated(action: str, scrub: Scrubber, *, publishing: bool = False) -> Iterator[None]:
    """Run a block that calls nats-py; re-raise its errors as eventbus errors naming ``action``."""
    try:
        yield
    except (AdapterError, asyncio.CancelledError):
        raise
    except Exception as exc:
        if not isinstance(exc, nats.errors.Error | nats.js.errors.Error | OSError | TimeoutError):
            raise
        message = scrub(f"{action}: {describe(exc)}")
        if is_connection_error(exc):
            raise BrokerConnectionError(message) from exc
        if publishing:
            # Refused by the client before sending (bad subject, payload too large...), unless
            # it timed out waiting for the server.
            timed_out = isinstance(exc, asyncio.TimeoutError | nats.errors.TimeoutError)
            raise PublishError(message, outcome="unknown" if timed_out else "not-stored") from exc
        raise AdapterError(message) from exc
