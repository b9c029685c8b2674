"""eventbus-nats: the NATS adapter for eventbus (core NATS and JetStream).

Installed, it serves ``nats://`` URLs: ``EventBus("nats://localhost:4222")``. For typed
configuration build a :class:`NatsAdapter` from a :class:`NatsConfig` and pass it to
``EventBus``. See docs/adapters/nats.md.
"""

from eventbus_nats._adapter import NatsAdapter
from eventbus_nats._capabilities import CORE, JETSTREAM
from eventbus_nats._config import (
    AuthConfig,
    ConsumerConfig,
    NatsConfig,
    ReconnectConfig,
    StreamConfig,
    TlsConfig,
)
from eventbus_nats._url import parse_nats_url

__all__ = [
    "CORE",
    "JETSTREAM",
    "AuthConfig",
    "ConsumerConfig",
    "NatsAdapter",
    "NatsConfig",
    "ReconnectConfig",
    "StreamConfig",
    "TlsConfig",
    "parse_nats_url",
]
