"""``ServiceBusConfig``: everything the adapter can be told, as one typed, frozen object.

Credentials are either a connection string (SAS key or SAS token, or the development emulator)
or a namespace plus an azure-identity credential. Neither the connection string nor its key ever
appears in ``repr``, errors or logs: :meth:`ServiceBusConfig.secrets` lists what to scrub.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from eventbus.adapter import ConfigurationError

__all__ = ["DEFAULT_MAX_MESSAGE_BYTES", "ServiceBusConfig", "connection_string_parts"]

#: Standard tier: 256 KiB per message (Premium allows more; set ``max_message_bytes``).
DEFAULT_MAX_MESSAGE_BYTES = 256 * 1024
_SUBSCRIPTION_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._\-]{0,49}")
_QUEUE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._\-]{0,259}")


def connection_string_parts(connection_string: str) -> dict[str, str]:
    """``Key=Value;...`` pairs, keys lower-cased; raises ConfigurationError without the value."""
    parts: dict[str, str] = {}
    for item in connection_string.split(";"):
        if not item.strip():
            continue
        key, sep, value = item.partition("=")
        if not sep:
            raise ConfigurationError(
                "the Service Bus connection string is malformed (expected Key=Value;...)"
            )
        parts[key.strip().lower()] = value.strip()
    if "endpoint" not in parts:
        raise ConfigurationError("the Service Bus connection string has no Endpoint=sb://...")
    if "sharedaccesskey" not in parts and "sharedaccesssignature" not in parts:
        raise ConfigurationError(
            "the Service Bus connection string has neither SharedAccessKey nor SharedAccessSignature"
        )
    return parts


@dataclass(frozen=True, slots=True)
class ServiceBusConfig:
    """How to reach a namespace and how to lay channels out on it.

    Give either ``connection_string`` or ``namespace`` (``NAME`` or ``NAME.servicebus.windows.net``;
    ``credential`` defaults to azure-identity's ``DefaultAzureCredential``).

    ``provision``: create missing topics and subscriptions with the administration client (a
    real namespace; the test broker creates them on first use instead, and has no
    administration API). ``sessions``: every subscription is session-enabled (by default only those of
    subscribers that ask for order, ``ordered=True``); the SessionId is the partition key, so
    order per key holds across competing consumers.
    ``queues``: channels that are Service Bus queues rather than topics (one consumer group
    each). ``max_concurrent_sessions``: sessions one subscription works on at once.
    ``receive_wait``: seconds one receive call waits for messages (also bounds stop latency).
    ``max_delivery_count`` and ``lock_duration`` apply to entities this adapter provisions.
    ``native_dead_letter``: dead letters go to the subscription's own ``$DeadLetterQueue`` with
    the reason and description (Azure tools show them there) instead of the bus's dead-letter
    channel; read them with the consumer group ``"<group>/$DeadLetterQueue"``.
    ``reply_queue``: the session-enabled queue replies to this bus's requests come back on (one
    session per requester; see docs/request-reply.md).
    ``socket_timeout``: the SDK's read timeout (None: its default, 0.2 s). One connection reads
    and writes under one lock, so a settlement waits while an idle receive call reads: a small
    value (0.02) cuts that wait on a loopback broker; on a WAN keep the default, as a read cut
    short in the middle of a large frame breaks the connection.
    """

    connection_string: str | None = field(default=None, repr=False)
    namespace: str | None = None
    credential: Any = field(default=None, repr=False)
    provision: bool = False
    sessions: bool = False
    queues: frozenset[str] = frozenset()
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES
    max_concurrent_sessions: int = 8
    session_idle: float = 1.0
    receive_wait: float = 0.5
    max_delivery_count: int = 10
    lock_duration: float = 60.0
    duplicate_window: float = 600.0
    retry_total: int = 3
    socket_timeout: float | None = None
    native_dead_letter: bool = False
    reply_queue: str = "eventbus-replies"

    def __post_init__(self) -> None:
        if (self.connection_string is None) == (self.namespace is None):
            raise ConfigurationError(
                "give the Service Bus adapter either a connection string or a namespace"
            )
        if self.connection_string is not None:
            connection_string_parts(self.connection_string)
        for name in ("max_message_bytes", "max_concurrent_sessions", "max_delivery_count"):
            if getattr(self, name) < 1:
                raise ConfigurationError(f"{name} must be >= 1, got {getattr(self, name)!r}")
        for name in ("session_idle", "receive_wait", "lock_duration", "duplicate_window"):
            if not getattr(self, name) > 0:
                raise ConfigurationError(f"{name} must be > 0 seconds, got {getattr(self, name)!r}")
        if self.socket_timeout is not None and not self.socket_timeout > 0:
            raise ConfigurationError(
                f"socket_timeout must be > 0 seconds, got {self.socket_timeout!r}"
            )
        if not _QUEUE_NAME.fullmatch(self.reply_queue):
            raise ConfigurationError(
                f"reply_queue {self.reply_queue[:80]!r} is not a valid Service Bus queue name: "
                "1-260 letters, digits, '.', '_' or '-', starting with a letter or digit"
            )
        if self.retry_total < 0:
            raise ConfigurationError(f"retry_total must be >= 0, got {self.retry_total!r}")

    @property
    def fully_qualified_namespace(self) -> str:
        """``host[:port]`` of the namespace (from the connection string's Endpoint)."""
        if self.connection_string is not None:
            endpoint = connection_string_parts(self.connection_string)["endpoint"]
            return endpoint.split("://", 1)[-1].strip("/")
        assert self.namespace is not None
        return (
            self.namespace if "." in self.namespace else f"{self.namespace}.servicebus.windows.net"
        )

    @property
    def emulator(self) -> bool:
        if self.connection_string is None:
            return False
        parts = connection_string_parts(self.connection_string)
        return parts.get("usedevelopmentemulator", "").lower() == "true"

    def secrets(self) -> tuple[str, ...]:
        """Texts that must never be shown: the connection string, its key or signature."""
        if self.connection_string is None:
            return ()
        parts = connection_string_parts(self.connection_string)
        found = [self.connection_string]
        for key in ("sharedaccesskey", "sharedaccesssignature"):
            if parts.get(key):
                found.append(parts[key])
        return tuple(found)

    def describe(self) -> str:
        """Where this adapter connects, safe to show."""
        how = "connection string" if self.connection_string is not None else "azure-identity"
        return f"{self.fully_qualified_namespace} ({how})"

    @staticmethod
    def check_subscription_name(name: str) -> None:
        if not _SUBSCRIPTION_NAME.fullmatch(name):
            raise ConfigurationError(
                f"consumer group {name!r} is not a valid Service Bus subscription name: "
                "1-50 letters, digits, '.', '_' or '-', starting with a letter or digit"
            )
