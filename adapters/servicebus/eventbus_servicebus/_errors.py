"""azure-servicebus exceptions become eventbus errors here, at the adapter boundary.

``translated(action, scrub)`` is a context manager: connection, authentication and timeout
trouble becomes ``BrokerConnectionError``; a failed send ``PublishError``; anything else from
the SDK ``AdapterError`` (a missing entity says how to create it). Each is raised ``from`` the
original (unless its text holds a secret), and every text goes through ``scrub`` (the toolkit's
``Scrubber``), which blanks out the connection string, its key and its signature wherever they
appear.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

from azure.core.exceptions import AzureError, ClientAuthenticationError
from azure.servicebus import exceptions as sb

from eventbus.adapter import (
    AdapterError,
    BrokerConnectionError,
    ConfigurationError,
    PublishError,
    Scrubber,
)

__all__ = ["describe", "is_lock_lost", "translated"]

_CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    sb.ServiceBusConnectionError,
    sb.ServiceBusAuthenticationError,
    sb.ServiceBusAuthorizationError,
    sb.ServiceBusCommunicationError,
    sb.OperationTimeoutError,
    sb.ServiceBusServerBusyError,
    ClientAuthenticationError,
)


#: A send the service answered with a refusal: nothing was stored.
_REFUSED_SENDS: tuple[type[BaseException], ...] = (
    sb.MessageSizeExceededError,
    sb.MessagingEntityNotFoundError,
    sb.MessagingEntityDisabledError,
    sb.ServiceBusQuotaExceededError,
)


def is_lock_lost(exc: BaseException) -> bool:
    """The message went back to the broker (lock expired or already settled)."""
    return isinstance(
        exc, sb.MessageLockLostError | sb.MessageAlreadySettled | sb.SessionLockLostError
    )


def describe(exc: BaseException) -> str:
    if isinstance(exc, sb.MessagingEntityNotFoundError):
        return (
            "the topic, subscription or queue does not exist (create it, or set provision=true "
            "so the adapter creates it)"
        )
    if isinstance(exc, sb.ServiceBusAuthenticationError | ClientAuthenticationError):
        return "authentication failed (check the key, token or credential)"
    if isinstance(exc, sb.ServiceBusAuthorizationError):
        return "not authorised for this operation (the key or role lacks Send/Listen/Manage)"
    if isinstance(exc, sb.OperationTimeoutError | asyncio.TimeoutError):
        return "timed out"
    text = getattr(exc, "message", None) or str(exc)
    text = str(text).strip().splitlines()[0] if str(text).strip() else ""
    return text or type(exc).__name__


@contextlib.contextmanager
def translated(action: str, scrub: Scrubber, *, publishing: bool = False) -> Iterator[None]:
    """Run a block that calls the SDK; re-raise its errors as eventbus errors naming ``action``."""
    try:
        yield
    except (AdapterError, ConfigurationError, asyncio.CancelledError):
        raise
    except Exception as exc:
        if not isinstance(exc, AzureError | OSError | TimeoutError | ValueError):
            raise
        message = scrub(f"{action}: {describe(exc)}")
        # Chain the SDK's exception only when its own text holds no secret.
        cause = exc if scrub(str(exc)) == str(exc) else None
        error: AdapterError | ConfigurationError
        if isinstance(exc, ValueError) and not isinstance(exc, AzureError):
            error = ConfigurationError(message)
        elif isinstance(exc, _CONNECTION_ERRORS):
            error = BrokerConnectionError(message)
        elif publishing:
            refused = isinstance(exc, _REFUSED_SENDS)
            error = PublishError(message, outcome="not-stored" if refused else "unknown")
        else:
            error = AdapterError(message)
        raise error from cause
