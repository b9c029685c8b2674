"""``pubsub://PROJECT[?param=value&...]`` URLs.

Parameters (each a field of :class:`PubSubConfig`): ``emulator_host``, ``credentials_file``,
``endpoint``, ``provision``, ``message_ordering``, ``exactly_once``, ``min_backoff`` and
``max_backoff`` (together: the server retry policy), ``timeout``, ``pull_timeout``,
``max_request_bytes``, ``reply_topic``,
``fanout_messages`` and ``max_bytes`` (flow control). A wrong one raises ConfigurationError
naming it; the URL is shown through ``redact_url``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from eventbus.adapter import ConfigurationError, Param, Reader, parse_params, split_url
from eventbus_pubsub._config import FlowControl, PubSubConfig, RetryBackoff
from eventbus_pubsub._names import check_project

__all__ = ["parse_pubsub_url"]

_PARAMS: dict[str, Reader] = {
    "emulator_host": Param.nonempty,
    "credentials_file": Param.nonempty,
    "endpoint": Param.nonempty,
    "provision": Param.flag,
    "message_ordering": Param.flag,
    "exactly_once": Param.flag,
    "min_backoff": Param.seconds,
    "max_backoff": Param.seconds,
    "timeout": Param.seconds,
    "pull_timeout": Param.seconds,
    "max_request_bytes": Param.integer(),
    "fanout_messages": Param.integer(),
    "max_bytes": Param.integer(),
    "reply_topic": Param.nonempty,
}


def parse_pubsub_url(url: str) -> PubSubConfig:
    """Read a ``pubsub://`` URL into a :class:`PubSubConfig`; raise ConfigurationError if wrong."""
    parts, shown = split_url(url, "pubsub", what="Pub/Sub URL")
    if parts.path not in ("", "/") or parts.fragment or "@" in parts.netloc:
        raise ConfigurationError(
            f"a Pub/Sub URL is pubsub://PROJECT[?param=value&...], got {shown}"
        )
    project = unquote(parts.netloc)
    if not project:
        raise ConfigurationError(f"the Pub/Sub URL {shown} names no project: pubsub://PROJECT")
    try:
        check_project(project)
    except ConfigurationError:  # its text would show the project: here, perhaps a password
        raise ConfigurationError(
            f"the Pub/Sub URL {shown} does not name a Google Cloud project ID: use lowercase "
            "letters, digits and hyphens, starting with a letter (pubsub://PROJECT)"
        ) from None
    values: dict[str, Any] = parse_params(parts.query, _PARAMS, what="Pub/Sub URL", shown=shown)
    backoff = None
    names = {"min_backoff": "minimum", "max_backoff": "maximum"}
    bounds = {field: values.pop(key) for key, field in names.items() if key in values}
    if bounds:
        backoff = RetryBackoff(**bounds)
    flow = FlowControl(
        **{k: values.pop(k) for k in ("fanout_messages", "max_bytes") if k in values}
    )
    return PubSubConfig(project, retry_backoff=backoff, flow_control=flow, **values)
