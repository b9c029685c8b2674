"""Typed configuration of the NATS adapter: connection, auth, TLS, reconnects, streams, consumers.

Every object is a frozen dataclass checked when built (``ConfigurationError`` names the field).
Secrets (password, token) never appear in a ``repr``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from nats.aio.subscription import DEFAULT_SUB_PENDING_MSGS_LIMIT

from eventbus.adapter import ConfigurationError, check_positive

__all__ = [
    "DEFAULT_SERVER",
    "AuthConfig",
    "ConsumerConfig",
    "Mode",
    "NatsConfig",
    "ReconnectConfig",
    "StreamConfig",
    "TlsConfig",
]

Mode = Literal["jetstream", "core"]
DEFAULT_SERVER = "127.0.0.1:4222"
ROOT_PLACEHOLDER = "{root}"


@dataclass(frozen=True, slots=True)
class TlsConfig:
    """TLS for the client connection. Files are PEM paths; ``verify=False`` skips checks
    of the server certificate (tests only). ``handshake_first`` needs nats-server 2.10.4+."""

    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    verify: bool = True
    hostname: str | None = None
    handshake_first: bool = False

    def __post_init__(self) -> None:
        if (self.cert_file is None) != (self.key_file is None):
            raise ConfigurationError("TlsConfig needs both cert_file and key_file, or neither")


@dataclass(frozen=True, slots=True)
class AuthConfig:
    """One way to authenticate: user + password, token, an nkey seed file or a creds file."""

    user: str | None = None
    password: str | None = None
    token: str | None = None
    nkey_seed_file: str | None = None
    creds_file: str | None = None

    def __post_init__(self) -> None:
        if self.password is not None and self.user is None:
            raise ConfigurationError("AuthConfig: a password needs a user")
        chosen = [
            self.user is not None,
            self.token is not None,
            self.nkey_seed_file is not None,
            self.creds_file is not None,
        ]
        if sum(chosen) > 1:
            raise ConfigurationError(
                "AuthConfig: choose one of user/password, token, nkey_seed_file or creds_file"
            )

    def __repr__(self) -> str:
        shown = {
            "user": self.user,
            "password": None if self.password is None else "***",
            "token": None if self.token is None else "***",
            "nkey_seed_file": self.nkey_seed_file,
            "creds_file": self.creds_file,
        }
        inner = ", ".join(f"{k}={v!r}" for k, v in shown.items() if v is not None)
        return f"AuthConfig({inner})"

    def secrets(self) -> tuple[str, ...]:
        """The secret strings, to scrub from any text shown to users."""
        return tuple(s for s in (self.password, self.token) if s)


@dataclass(frozen=True, slots=True)
class ReconnectConfig:
    """Connection timing. ``max_attempts`` per server, -1 for ever; ``buffer_bytes`` of
    publishes kept while reconnecting (then publishing fails with BrokerConnectionError)."""

    connect_timeout: float = 2.0
    time_wait: float = 2.0
    max_attempts: int = 60
    buffer_bytes: int = 8 * 1024 * 1024
    ping_interval: float = 20.0

    def __post_init__(self) -> None:
        check_positive("ReconnectConfig.connect_timeout", self.connect_timeout)
        check_positive("ReconnectConfig.time_wait", self.time_wait, allow_zero=True)
        check_positive("ReconnectConfig.ping_interval", self.ping_interval)
        if self.max_attempts < -1 or self.max_attempts == 0:
            raise ConfigurationError("ReconnectConfig.max_attempts must be >= 1, or -1 for ever")
        if self.buffer_bytes < 0:
            raise ConfigurationError("ReconnectConfig.buffer_bytes must be >= 0")


@dataclass(frozen=True, slots=True)
class StreamConfig:
    """A JetStream stream the adapter provisions (or, with ``provision=False``, expects).

    With ``subjects`` empty this is the template for channels no stream captures yet: one stream
    per first subject token ``{root}``, capturing ``<root>`` and ``<root>.>`` (so dead-letter
    channels ``<channel>.dlq`` land in the same stream). With ``subjects``, one fixed stream.
    ``max_age`` and ``duplicate_window`` are seconds; None means unlimited.
    """

    name: str = "EVENTBUS_" + ROOT_PLACEHOLDER
    subjects: tuple[str, ...] = ()
    storage: Literal["file", "memory"] = "file"
    retention: Literal["interest", "limits", "workqueue"] = "interest"
    max_age: float | None = None
    max_bytes: int | None = None
    max_msgs: int | None = None
    duplicate_window: float = 120.0
    replicas: int = 1

    def __post_init__(self) -> None:
        object.__setattr__(self, "subjects", tuple(self.subjects))
        if self.is_template != (ROOT_PLACEHOLDER in self.name):
            raise ConfigurationError(
                f"StreamConfig {self.name!r}: a template (no subjects) names its streams with "
                f"'{ROOT_PLACEHOLDER}'; a fixed stream (with subjects) has a literal name"
            )
        sample = self.name.replace(ROOT_PLACEHOLDER, "x")
        if not sample or any(c in sample for c in " .*>/\\\t\r\n"):
            raise ConfigurationError(
                f"stream name {self.name!r}: no spaces, '.', '*', '>' or path separators"
            )
        if self.storage not in ("file", "memory"):
            raise ConfigurationError("StreamConfig.storage must be 'file' or 'memory'")
        if self.retention not in ("interest", "limits", "workqueue"):
            raise ConfigurationError(
                "StreamConfig.retention must be 'interest', 'limits' or 'workqueue'"
            )
        if self.max_age is not None:
            check_positive("StreamConfig.max_age", self.max_age)
        check_positive("StreamConfig.duplicate_window", self.duplicate_window, allow_zero=True)
        if self.replicas < 1:
            raise ConfigurationError("StreamConfig.replicas must be >= 1")

    @property
    def is_template(self) -> bool:
        return not self.subjects


@dataclass(frozen=True, slots=True)
class ConsumerConfig:
    """How subscriptions become JetStream consumers (see docs/adapters/nats.md).

    ``max_deliver = max_attempts + extra_deliveries`` (the bus dead-letters after
    ``max_attempts``; the extra deliveries cover crashes and failed dead-letter moves).
    ``max_ack_pending`` None: 2 x max_in_flight for fan-out, max(1000, that) for a group.
    ``backoff``: redelivery delays (seconds) after ack timeouts. ``inactive_threshold``: seconds
    before the server deletes an abandoned fan-out consumer. ``pull_expires``: seconds a pull
    request waits on the server.
    """

    extra_deliveries: int = 3
    max_ack_pending: int | None = None
    backoff: tuple[float, ...] = ()
    inactive_threshold: float = 300.0
    pull_expires: float = 5.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "backoff", tuple(self.backoff))
        if self.extra_deliveries < 0:
            raise ConfigurationError("ConsumerConfig.extra_deliveries must be >= 0")
        if self.max_ack_pending is not None and self.max_ack_pending < 1:
            raise ConfigurationError("ConsumerConfig.max_ack_pending must be >= 1 or None")
        for delay in self.backoff:
            check_positive("ConsumerConfig.backoff entries", delay)
        check_positive("ConsumerConfig.inactive_threshold", self.inactive_threshold)
        check_positive("ConsumerConfig.pull_expires", self.pull_expires)
        if self.pull_expires < 0.1:
            raise ConfigurationError("ConsumerConfig.pull_expires must be >= 0.1 seconds")


@dataclass(frozen=True, slots=True)
class NatsConfig:
    """Everything the NATS adapter needs. ``servers`` are ``host:port`` (no credentials: use
    ``auth``). ``mode="jetstream"`` (default) or ``"core"``. ``provision=False``: streams must
    exist already (connect and publish raise ConfigurationError naming a missing stream).
    ``publish_timeout``: seconds to wait for JetStream's acknowledgements of one attempt;
    ``publish_retries``: attempts after a timeout or while JetStream is unavailable (the same
    ``Nats-Msg-Id`` is sent, so the stream drops copies it already has).
    ``core_pending_limit``: messages a core subscription buffers behind a slow handler before
    nats-py drops (core NATS is at most once); the default is nats-py's own (524,288). Drops are
    counted in the subscription's ``stats.dropped`` and logged as errors.
    """

    servers: tuple[str, ...] = (DEFAULT_SERVER,)
    mode: Mode = "jetstream"
    name: str | None = None
    auth: AuthConfig = field(default_factory=AuthConfig)
    tls: TlsConfig | None = None
    reconnect: ReconnectConfig = field(default_factory=ReconnectConfig)
    streams: tuple[StreamConfig, ...] = (StreamConfig(),)
    consumer: ConsumerConfig = field(default_factory=ConsumerConfig)
    provision: bool = True
    publish_timeout: float = 5.0
    publish_retries: int = 3
    core_pending_limit: int = DEFAULT_SUB_PENDING_MSGS_LIMIT

    def __post_init__(self) -> None:
        object.__setattr__(self, "servers", tuple(self.servers))
        object.__setattr__(self, "streams", tuple(self.streams))
        if not self.servers:
            raise ConfigurationError("NatsConfig.servers must name at least one host:port")
        for server in self.servers:
            if "@" in server or "/" in server or not server.strip():
                raise ConfigurationError(
                    "NatsConfig.servers are host:port entries; put credentials in AuthConfig"
                )
        if self.mode not in ("jetstream", "core"):
            raise ConfigurationError(f"mode must be 'jetstream' or 'core', got {self.mode!r}")
        templates = [s for s in self.streams if s.is_template]
        if len(templates) > 1:
            raise ConfigurationError("NatsConfig.streams may hold at most one template")
        names = [s.name for s in self.streams]
        if len(set(names)) != len(names):
            raise ConfigurationError("NatsConfig.streams: stream names must be unique")
        check_positive("NatsConfig.publish_timeout", self.publish_timeout)
        if self.publish_retries < 0:
            raise ConfigurationError("NatsConfig.publish_retries must be >= 0")
        if self.core_pending_limit < 1:
            raise ConfigurationError("NatsConfig.core_pending_limit must be >= 1")

    @property
    def template(self) -> StreamConfig | None:
        return next((s for s in self.streams if s.is_template), None)

    @property
    def fixed_streams(self) -> tuple[StreamConfig, ...]:
        return tuple(s for s in self.streams if not s.is_template)
