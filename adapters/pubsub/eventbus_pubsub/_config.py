"""Typed configuration of the Pub/Sub adapter (every ``pubsub://`` URL parameter maps here)."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from eventbus.adapter import ConfigurationError
from eventbus_pubsub._names import (
    ENVELOPE_BYTES,
    MAX_REQUEST_BYTES,
    check_project,
    check_topic_id,
)

if TYPE_CHECKING:
    from google.auth.credentials import Credentials

__all__ = ["EMULATOR_ENV", "FlowControl", "PubSubConfig", "RetryBackoff"]

#: The environment variable every Google Pub/Sub client reads to talk to an emulator.
EMULATOR_ENV = "PUBSUB_EMULATOR_HOST"


@dataclass(frozen=True, slots=True)
class RetryBackoff:
    """The subscription's server-side retry policy (seconds, each within 0..600).

    Pub/Sub waits between ``minimum`` and ``maximum`` (growing exponentially) before it
    redelivers a nacked or expired message. This comes *on top of* the bus's own RetryPolicy
    delays, so the default is no server policy (redeliver as soon as the bus asks).
    """

    minimum: float = 10.0
    maximum: float = 600.0

    def __post_init__(self) -> None:
        if not (0 <= self.minimum <= self.maximum <= 600):
            raise ConfigurationError(
                "retry backoff must satisfy 0 <= minimum <= maximum <= 600 seconds, got "
                f"minimum={self.minimum!r}, maximum={self.maximum!r}"
            )


@dataclass(frozen=True, slots=True)
class FlowControl:
    """How many messages a subscriber leases from Pub/Sub at once.

    A consumer-group subscriber leases at most its subscription's ``max_in_flight`` messages,
    so idle members of the group get the rest. A fan-out subscriber is the only reader of its
    subscription: it leases up to ``max(max_in_flight, fanout_messages)``, pulls in larger
    batches and hands each batch over in publish-time order. ``max_bytes`` bounds the leased
    payload either way. Messages waiting in the adapter have their ack deadline extended.
    """

    fanout_messages: int = 256
    max_bytes: int = 64 * 1024 * 1024

    def __post_init__(self) -> None:
        if self.fanout_messages < 1 or self.max_bytes < 1:
            raise ConfigurationError(
                "flow control limits must be >= 1, got "
                f"fanout_messages={self.fanout_messages!r}, max_bytes={self.max_bytes!r}"
            )


@dataclass(frozen=True, slots=True)
class PubSubConfig:
    """Everything the adapter needs; ``PubSubAdapter.from_url`` builds one from a URL.

    ``emulator_host`` (``host:port``): talk plaintext gRPC to an emulator or ``pstest``, without
    credentials; None falls back to ``$PUBSUB_EMULATOR_HOST``. Otherwise the adapter
    authenticates with ``credentials`` (a google-auth object), else the service-account key file
    ``credentials_file``, else Application Default Credentials. ``endpoint`` overrides the
    service endpoint (e.g. a regional one, ``us-east1-pubsub.googleapis.com:443``).

    ``provision``: create missing topics and subscriptions (True) or only check that they exist
    and raise ConfigurationError naming the missing one (False). ``message_ordering``: enable
    message ordering on the subscriptions the adapter creates and send ``Message.key`` as the
    ordering key. ``exactly_once``: enable exactly-once delivery on them and wait for each ack's
    confirmation. ``retry_backoff``: the server-side retry policy (None: none). ``timeout``:
    seconds an admin, publish or ack call may take, retries included. ``pull_timeout``: the
    deadline of one long-polling Pull (keep it long against the service: a pull cut off while its
    answer is on the way strands those messages until their ack deadline). ``max_request_bytes``:
    the largest PublishRequest the server accepts (10 MB; a pstest server takes 4 MiB).
    ``reply_topic``: the topic replies to this bus's requests come back on (one filtered
    subscription per requester; see docs/request-reply.md).
    """

    project: str
    emulator_host: str | None = None
    credentials_file: str | None = field(default=None, repr=False)
    credentials: Credentials | None = field(default=None, repr=False, compare=False)
    endpoint: str | None = None
    provision: bool = True
    message_ordering: bool = True
    exactly_once: bool = False
    retry_backoff: RetryBackoff | None = None
    flow_control: FlowControl = field(default_factory=FlowControl)
    timeout: float = 30.0
    pull_timeout: float = 60.0
    max_request_bytes: int = MAX_REQUEST_BYTES
    reply_topic: str = "eventbus-replies"

    def __post_init__(self) -> None:
        check_project(self.project)
        for name in ("timeout", "pull_timeout"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise ConfigurationError(f"{name} must be > 0 seconds, got {value!r}")
        if not 2 * ENVELOPE_BYTES <= self.max_request_bytes <= MAX_REQUEST_BYTES:
            raise ConfigurationError(
                f"max_request_bytes must be within {2 * ENVELOPE_BYTES}..{MAX_REQUEST_BYTES}, "
                f"got {self.max_request_bytes!r}"
            )
        check_topic_id(self.reply_topic, "reply_topic")
        if self.emulator_host is not None:
            _check_host(self.emulator_host, "emulator_host")
        if self.credentials_file is not None and self.credentials is not None:
            raise ConfigurationError("give either credentials or credentials_file, not both")

    def resolved_emulator_host(self) -> str | None:
        """``emulator_host``, else ``$PUBSUB_EMULATOR_HOST`` (empty means unset)."""
        if self.emulator_host:
            return self.emulator_host
        host = os.environ.get(EMULATOR_ENV, "").strip()
        if host:
            _check_host(host, EMULATOR_ENV)
            return host
        return None


def _check_host(host: str, what: str) -> None:
    name, sep, port = host.rpartition(":")
    if not (sep and name and port.isdigit() and 0 < int(port) < 65536) or "/" in host:
        raise ConfigurationError(f"{what} must be HOST:PORT, got {host!r}")
