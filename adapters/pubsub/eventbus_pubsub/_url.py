"""``pubsub://PROJECT[?param=value&...]`` URLs.

Parameters (each a field of :class:`PubSubConfig`): ``emulator_host``, ``credentials_file``,
``endpoint``, ``provision``, ``message_ordering``, ``exactly_once``, ``min_backoff`` and
``max_backoff`` (together: the server retry policy), ``timeout``, ``pull_timeout``,
``max_request_bytes``,
``fanout_messages`` and ``max_bytes`` (flow control). A wrong one raises ConfigurationError
naming it; the URL is shown through ``redact_url``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from eventbus.adapter import ConfigurationError, redact_url
from eventbus_pubsub._config import FlowControl, PubSubConfig, RetryBackoff

__all__ = ["parse_pubsub_url"]

_BOOL = {"1": True, "true": True, "yes": True, "0": False, "false": False, "no": False}


def _flag(raw: str) -> bool:
    value = _BOOL.get(raw.lower())
    if value is None:
        raise ValueError("expected true or false")
    return value


def _seconds(raw: str) -> float:
    value = float(raw)
    if not math.isfinite(value) or value < 0:
        raise ValueError("expected a number of seconds >= 0")
    return value


def _text(raw: str) -> str:
    if not raw:
        raise ValueError("expected a value")
    return raw


_PARAMS: dict[str, Callable[[str], Any]] = {
    "emulator_host": _text,
    "credentials_file": _text,
    "endpoint": _text,
    "provision": _flag,
    "message_ordering": _flag,
    "exactly_once": _flag,
    "min_backoff": _seconds,
    "max_backoff": _seconds,
    "timeout": _seconds,
    "pull_timeout": _seconds,
    "max_request_bytes": int,
    "fanout_messages": int,
    "max_bytes": int,
}


def parse_pubsub_url(url: str) -> PubSubConfig:
    """Read a ``pubsub://`` URL into a :class:`PubSubConfig`; raise ConfigurationError if wrong."""
    shown = redact_url(url)
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise ConfigurationError(f"not a valid Pub/Sub URL: {shown}: {exc}") from None
    if parts.scheme.lower() != "pubsub":
        raise ConfigurationError(f"not a pubsub:// URL: {shown}")
    if parts.path not in ("", "/") or parts.fragment or "@" in parts.netloc:
        raise ConfigurationError(
            f"a Pub/Sub URL is pubsub://PROJECT[?param=value&...], got {shown}"
        )
    project = unquote(parts.netloc)
    if not project:
        raise ConfigurationError(f"the Pub/Sub URL {shown} names no project: pubsub://PROJECT")
    values: dict[str, Any] = {}
    for key, raw in parse_qsl(parts.query, keep_blank_values=True):
        reader = _PARAMS.get(key)
        if reader is None:
            known = ", ".join(_PARAMS)
            raise ConfigurationError(
                f"unknown Pub/Sub URL parameter {key!r} in {shown} (known: {known})"
            )
        if key in values:
            raise ConfigurationError(f"Pub/Sub URL parameter {key!r} is given twice in {shown}")
        try:
            values[key] = reader(raw)
        except ValueError as exc:
            raise ConfigurationError(
                f"Pub/Sub URL parameter {key!r} in {shown}: {exc} (got {raw!r})"
            ) from None
    backoff = None
    names = {"min_backoff": "minimum", "max_backoff": "maximum"}
    bounds = {field: values.pop(key) for key, field in names.items() if key in values}
    if bounds:
        backoff = RetryBackoff(**bounds)
    flow = FlowControl(
        **{k: values.pop(k) for k in ("fanout_messages", "max_bytes") if k in values}
    )
    return PubSubConfig(project, retry_backoff=backoff, flow_control=flow, **values)
