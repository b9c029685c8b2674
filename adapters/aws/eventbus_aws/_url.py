"""``sqs://REGION[?param=value&...]`` URLs.

Parameters (each a field of :class:`AwsConfig`): ``endpoint``, ``profile``, ``provision``,
``wait_time``, ``pollers``, ``timeout``. Credentials are never URL parameters: they come from the
standard AWS chain. A wrong parameter raises ConfigurationError naming it; the URL is shown
through ``redact_url``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from eventbus.adapter import ConfigurationError, redact_url
from eventbus_aws._config import AwsConfig

__all__ = ["parse_sqs_url"]

_BOOL = {"1": True, "true": True, "yes": True, "0": False, "false": False, "no": False}
_CREDENTIALS = ("key", "secret", "token", "password", "credential")


def _flag(raw: str) -> bool:
    value = _BOOL.get(raw.lower())
    if value is None:
        raise ValueError("expected true or false")
    return value


def _seconds(raw: str) -> float:
    value = float(raw)
    if not math.isfinite(value) or value <= 0:
        raise ValueError("expected a number of seconds > 0")
    return value


def _text(raw: str) -> str:
    if not raw:
        raise ValueError("expected a value")
    return raw


_PARAMS: dict[str, Callable[[str], Any]] = {
    "endpoint": _text,
    "profile": _text,
    "provision": _flag,
    "wait_time": int,
    "pollers": int,
    "timeout": _seconds,
}


def parse_sqs_url(url: str) -> AwsConfig:
    """Read an ``sqs://`` URL into an :class:`AwsConfig`; raise ConfigurationError if wrong."""
    shown = redact_url(url)
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise ConfigurationError(f"not a valid SQS URL: {shown}: {exc}") from None
    if parts.scheme.lower() != "sqs":
        raise ConfigurationError(f"not an sqs:// URL: {shown}")
    if "@" in parts.netloc:
        raise ConfigurationError(
            f"an SQS URL carries no credentials ({shown}): they come from the standard AWS "
            "chain (environment, profile, SSO, container or instance role)"
        )
    if parts.path not in ("", "/") or parts.fragment:
        raise ConfigurationError(f"an SQS URL is sqs://REGION[?param=value&...], got {shown}")
    region = unquote(parts.netloc)
    if not region:
        raise ConfigurationError(f"the SQS URL {shown} names no region: sqs://REGION")
    values: dict[str, Any] = {}
    for key, raw in parse_qsl(parts.query, keep_blank_values=True):
        reader = _PARAMS.get(key)
        if reader is None:
            if any(word in key.lower() for word in _CREDENTIALS):
                raise ConfigurationError(
                    f"SQS URL parameter {key!r} in {shown}: credentials are never URL "
                    "parameters; use the standard AWS chain (environment, profile, role)"
                )
            known = ", ".join(_PARAMS)
            raise ConfigurationError(
                f"unknown SQS URL parameter {key!r} in {shown} (known: {known})"
            )
        if key in values:
            raise ConfigurationError(f"SQS URL parameter {key!r} is given twice in {shown}")
        try:
            values[key] = reader(raw)
        except ValueError as exc:
            raise ConfigurationError(
                f"SQS URL parameter {key!r} in {shown}: {exc} (got {raw!r})"
            ) from None
    return AwsConfig(region, **values)
