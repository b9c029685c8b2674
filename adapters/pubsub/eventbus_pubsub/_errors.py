"""Google client exceptions become eventbus errors here, at the adapter boundary.

``translated(action, where)`` is a context manager around calls to google-cloud-pubsub:
an unreachable or unauthenticated service becomes ``BrokerConnectionError``, a failed publish
``PublishError``, anything else from the client ``AdapterError``; each raised ``from`` the
original. Texts name the action and the endpoint, never credentials: google-auth errors are
reduced to their class and first line, and the key file's contents are never read into a text.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

import grpc
from google.api_core import exceptions as gexc
from google.auth import exceptions as auth_exc

from eventbus.adapter import (
    AdapterError,
    BrokerConnectionError,
    ChannelNameError,
    ConfigurationError,
    LimitExceededError,
    PublishError,
    first_line,
)

__all__ = ["describe", "is_connection_error", "translated"]

_CONNECTION = (
    gexc.ServiceUnavailable,
    gexc.DeadlineExceeded,
    gexc.Unauthenticated,
    gexc.RetryError,
    auth_exc.GoogleAuthError,
    OSError,
    TimeoutError,
)
_CONNECTION_CODES = frozenset(
    {
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.UNAUTHENTICATED,
    }
)
_OURS = (AdapterError, ConfigurationError, LimitExceededError, ChannelNameError)


def describe(exc: BaseException) -> str:
    """A short description of a google-cloud / grpc / google-auth exception."""
    if isinstance(exc, gexc.RetryError):
        cause = exc.cause
        inner = describe(cause) if cause is not None else "no answer"
        return f"gave up retrying ({inner})"
    if isinstance(exc, gexc.GoogleAPICallError):
        code = exc.grpc_status_code.name if exc.grpc_status_code is not None else exc.code
        text = first_line(str(exc.message or ""))
        hint = ""
        if isinstance(exc, gexc.PermissionDenied):
            hint = " (check the IAM roles of the credentials on this project)"
        elif isinstance(exc, gexc.Unauthenticated):
            hint = " (check the credentials)"
        return f"{code}: {text}{hint}" if text else f"{code}{hint}"
    if isinstance(exc, grpc.RpcError) and isinstance(exc, grpc.Call):
        code = exc.code()
        name = code.name if code is not None else "UNKNOWN"
        return f"{name}: {first_line(exc.details() or '')}"
    if isinstance(exc, auth_exc.GoogleAuthError):
        return f"credentials: {type(exc).__name__}: {first_line(str(exc))}"
    if isinstance(exc, TimeoutError):
        return "timed out"
    return first_line(str(exc)) or type(exc).__name__


def is_connection_error(exc: BaseException) -> bool:
    if isinstance(exc, _CONNECTION):
        return True
    if isinstance(exc, grpc.RpcError) and isinstance(exc, grpc.Call):
        return exc.code() in _CONNECTION_CODES
    return False


@contextlib.contextmanager
def translated(action: str, where: str, *, publishing: bool = False) -> Iterator[None]:
    """Run a block calling the Pub/Sub client; re-raise its errors as eventbus errors."""
    try:
        yield
    except (*_OURS, asyncio.CancelledError):
        raise
    except (gexc.GoogleAPIError, grpc.RpcError, auth_exc.GoogleAuthError, OSError) as exc:
        message = f"{action} on {where}: {describe(exc)}"
        if is_connection_error(exc):
            raise BrokerConnectionError(message) from exc
        if publishing:
            # A 4xx answer (invalid, not found, denied, quota): the service stored nothing.
            refused = isinstance(exc, gexc.ClientError)
            raise PublishError(message, outcome="not-stored" if refused else "unknown") from exc
        raise AdapterError(message) from exc
    except TimeoutError as exc:
        raise BrokerConnectionError(f"{action} on {where}: timed out") from exc
