"""``servicebus://`` URLs.

- ``servicebus://NAMESPACE[?...]``: azure-identity (``DefaultAzureCredential``); NAMESPACE is
  ``name`` or ``name.servicebus.windows.net``.
- ``servicebus://KEYNAME:KEY@HOST[:PORT][?...]``: a shared access key (percent-encode the
  key: it holds ``+``, ``/`` and ``=``). ``emulator=true`` speaks plain AMQP to HOST:PORT, as
  the SDK's ``UseDevelopmentEmulator=true`` (the local emulator, the test broker).
- ``servicebus://?connection_string_env=VAR``: the connection string is read from the
  environment variable VAR, so no secret sits in the URL (shell history, ``ps``).

A full connection string has no URL form on purpose: the core redacts a URL's password and
secret-named parameters, and a connection string in a query parameter would be shown as it
is. Pass one in code with ``ServiceBusConfig(connection_string=...)``.

Parameters: ``provision``, ``sessions``, ``emulator``, ``native_dead_letter`` (true/false), ``queues`` (comma-separated
channel names), ``max_message_bytes``, ``max_concurrent_sessions``, ``session_idle``,
``receive_wait``, ``max_delivery_count``, ``lock_duration``, ``duplicate_window``,
``retry_total``, ``socket_timeout``, ``reply_queue``.
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import unquote

from eventbus.adapter import (
    ConfigurationError,
    Param,
    Reader,
    parse_params,
    split_url,
)
from eventbus_servicebus._config import ServiceBusConfig

__all__ = ["parse_servicebus_url"]

_PARAMS: dict[str, Reader] = {
    **dict.fromkeys(("provision", "sessions", "emulator", "native_dead_letter"), Param.flag),
    **dict.fromkeys(
        ("max_message_bytes", "max_concurrent_sessions", "max_delivery_count", "retry_total"),
        Param.integer(),
    ),
    **dict.fromkeys(
        ("session_idle", "receive_wait", "lock_duration", "duplicate_window", "socket_timeout"),
        Param.number(),
    ),
    "queues": Param.text,
    "reply_queue": Param.nonempty,
    "connection_string_env": Param.nonempty,
}


def parse_servicebus_url(url: str, credential: Any = None) -> ServiceBusConfig:
    """Read a ``servicebus://`` URL into a :class:`ServiceBusConfig` (see the module doc)."""
    parts, shown = split_url(url, "servicebus", what="servicebus URL")
    try:
        port = parts.port
    except ValueError:
        raise ConfigurationError(
            f"not a valid servicebus URL: {shown}: the port is not a number from 1 to 65535"
        ) from None
    if parts.path not in ("", "/") or parts.fragment:
        raise ConfigurationError(f"a servicebus URL has no path or fragment: {shown}")
    options = parse_params(parts.query, _PARAMS, what="servicebus URL", shown=shown)
    env = options.pop("connection_string_env", None)
    if "queues" in options:
        options["queues"] = frozenset(q for q in options["queues"].split(",") if q)
    emulator = options.pop("emulator", False)
    host = parts.hostname or ""
    if env is not None:
        if parts.netloc:
            raise ConfigurationError(f"connection_string_env takes no host in the URL: {shown}")
        connection_string = os.environ.get(env)
        if not connection_string:
            raise ConfigurationError(f"the environment variable {env!r} holds no connection string")
        return ServiceBusConfig(connection_string=connection_string, **options)
    if not host:
        raise ConfigurationError(
            f"a servicebus URL names a namespace: servicebus://NAMESPACE or "
            f"servicebus://KEYNAME:KEY@HOST, got {shown}"
        )
    if parts.username is not None:
        if not parts.password:
            raise ConfigurationError(f"servicebus://KEYNAME:KEY@HOST needs the key too: {shown}")
        hostport = f"{host}:{port}" if port else host
        if not emulator and "." not in host:
            hostport = f"{host}.servicebus.windows.net"
        connection_string = (
            f"Endpoint=sb://{hostport}/;SharedAccessKeyName={unquote(parts.username)};"
            f"SharedAccessKey={unquote(parts.password)}"
        )
        if emulator:
            connection_string += ";UseDevelopmentEmulator=true"
        return ServiceBusConfig(connection_string=connection_string, **options)
    if emulator:
        raise ConfigurationError(f"emulator=true needs KEYNAME:KEY@HOST:PORT in {shown}")
    return ServiceBusConfig(namespace=host, credential=credential, **options)
