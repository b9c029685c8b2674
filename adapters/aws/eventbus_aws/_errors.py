"""AWS SDK exceptions become eventbus errors here, at the adapter boundary.

``translated(action, where)`` is a context manager around aiobotocore calls: an unreachable
endpoint, missing or refused credentials become ``BrokerConnectionError``, a failed publish
``PublishError``, anything else from the SDK ``AdapterError``; each raised ``from`` the original.
Texts name the action, the endpoint and AWS's error code and message, never credentials: botocore
never puts keys in its error texts, and the adapter only ever shows the code and first line.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

import aiohttp
from botocore import exceptions as bexc

from eventbus.adapter import (
    AdapterError,
    BrokerConnectionError,
    ChannelNameError,
    ConfigurationError,
    LimitExceededError,
    PublishError,
    first_line,
)

__all__ = ["MissingResourceError", "describe", "error_code", "translated"]

_CONNECTION = (
    bexc.EndpointConnectionError,
    bexc.ConnectTimeoutError,
    bexc.ReadTimeoutError,
    bexc.NoCredentialsError,
    bexc.PartialCredentialsError,
    bexc.NoRegionError,
    bexc.ProfileNotFound,
    bexc.TokenRetrievalError,
    aiohttp.ClientError,
    OSError,
    TimeoutError,
)
_AUTH_CODES = frozenset(
    {
        "InvalidClientTokenId",
        "UnrecognizedClientException",
        "SignatureDoesNotMatch",
        "ExpiredToken",
        "ExpiredTokenException",
        "AuthorizationError",
        "AccessDenied",
        "AccessDeniedException",
        "InvalidSecurity",
    }
)
_MISSING_CODES = frozenset(
    {
        "NotFound",
        "NotFoundException",
        "QueueDoesNotExist",
        "AWS.SimpleQueueService.NonExistentQueue",
    }
)
_OURS = (AdapterError, ConfigurationError, LimitExceededError, ChannelNameError)


class MissingResourceError(AdapterError, LookupError):
    """A topic or queue the adapter needs does not exist (and ``provision`` is off)."""


def error_code(exc: BaseException) -> str:
    """AWS's error code of a ClientError ('' for anything else)."""
    if isinstance(exc, bexc.ClientError):
        return str(exc.response.get("Error", {}).get("Code", ""))
    return ""


def _status(exc: BaseException) -> int:
    if isinstance(exc, bexc.ClientError):
        return int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
    return 0


def describe(exc: BaseException) -> str:
    """A short description of an aiobotocore / botocore exception."""
    if isinstance(exc, bexc.ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code", "")) or "error"
        text = first_line(str(error.get("Message", "")))
        hint = " (check the credentials and their IAM permissions)" if code in _AUTH_CODES else ""
        return f"{code}: {text}{hint}" if text else f"{code}{hint}"
    if isinstance(exc, bexc.NoCredentialsError | bexc.PartialCredentialsError):
        return (
            "no usable AWS credentials found in the standard chain (environment, profile, SSO, "
            "container or instance role)"
        )
    if isinstance(exc, TimeoutError | bexc.ConnectTimeoutError | bexc.ReadTimeoutError):
        return "timed out"
    if isinstance(exc, bexc.BotoCoreError):
        return f"{type(exc).__name__}: {first_line(str(exc))}"
    return first_line(str(exc)) or type(exc).__name__


def _is_connection_error(exc: BaseException) -> bool:
    return isinstance(exc, _CONNECTION) or error_code(exc) in _AUTH_CODES


@contextlib.contextmanager
def translated(action: str, where: str, *, publishing: bool = False) -> Iterator[None]:
    """Run a block calling the AWS SDK; re-raise its errors as eventbus errors."""
    try:
        yield
    except (*_OURS, asyncio.CancelledError):
        raise
    except (bexc.BotoCoreError, bexc.ClientError, aiohttp.ClientError, OSError) as exc:
        message = f"{action} on {where}: {describe(exc)}"
        if _is_connection_error(exc):
            raise BrokerConnectionError(message) from exc
        if publishing:
            # A 4xx answer (invalid, not found, denied, throttled): AWS stored nothing.
            refused = 400 <= _status(exc) < 500
            raise PublishError(message, outcome="not-stored" if refused else "unknown") from exc
        if error_code(exc) in _MISSING_CODES:
            raise MissingResourceError(message) from exc
        raise AdapterError(message) from exc
    except TimeoutError as exc:
        raise BrokerConnectionError(f"{action} on {where}: timed out") from exc
