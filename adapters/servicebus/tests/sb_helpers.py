"""Helpers of the Service Bus adapter tests (a module of its own: ``conftest`` is not importable
by name when several test folders each have one)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

from sb_broker import ServiceBusTestBroker

__all__ = ["sb_url"]


def sb_url(broker: ServiceBusTestBroker, **params: Any) -> str:
    """The adapter URL of ``broker``: servicebus://KEYNAME:KEY@127.0.0.1:PORT?emulator=true..."""
    ns = broker.namespace
    params.setdefault("socket_timeout", 0.02)  # a loopback broker: see ServiceBusConfig
    query = urlencode(
        {
            "emulator": "true",
            **{k: str(v).lower() if isinstance(v, bool) else v for k, v in params.items()},
        }
    )
    return f"servicebus://{quote(ns.key_name, safe='')}:{quote(ns.key, safe='')}@{broker.host}:{broker.port}?{query}"
