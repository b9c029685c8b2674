"""Typed configuration of the Kafka adapter: brokers, SASL, TLS, topics, producer, consumers.

Every object is a frozen dataclass checked when built (``ConfigurationError`` names the field).
The SASL password and the TLS key password never appear in a ``repr``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from eventbus.adapter import ConfigurationError, check_positive

__all__ = [
    "DEFAULT_SERVER",
    "ConsumerConfig",
    "KafkaConfig",
    "ProducerConfig",
    "SaslConfig",
    "TlsConfig",
    "TopicConfig",
]

DEFAULT_SERVER = "127.0.0.1:9092"
SaslMechanism = Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]
_MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")


@dataclass(frozen=True, slots=True)
class SaslConfig:
    """SASL authentication: ``PLAIN``, ``SCRAM-SHA-256`` or ``SCRAM-SHA-512``."""

    username: str
    password: str = field(repr=False)
    mechanism: SaslMechanism = "PLAIN"

    def __post_init__(self) -> None:
        if self.mechanism not in _MECHANISMS:
            raise ConfigurationError(
                f"SaslConfig.mechanism must be one of {', '.join(_MECHANISMS)}, "
                f"got {self.mechanism!r}"
            )
        if not self.username:
            raise ConfigurationError("SaslConfig.username must not be empty")

    def __repr__(self) -> str:
        return (
            f"SaslConfig(username={self.username!r}, password='***', mechanism={self.mechanism!r})"
        )


@dataclass(frozen=True, slots=True)
class TlsConfig:
    """TLS to the brokers. Files are PEM paths; ``verify=False`` skips the checks of the broker's
    certificate and host name (tests only)."""

    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    key_password: str | None = field(default=None, repr=False)
    verify: bool = True

    def __post_init__(self) -> None:
        if (self.cert_file is None) != (self.key_file is None):
            raise ConfigurationError("TlsConfig needs both cert_file and key_file, or neither")

    def __repr__(self) -> str:
        shown = {
            "ca_file": self.ca_file,
            "cert_file": self.cert_file,
            "key_file": self.key_file,
            "key_password": None if self.key_password is None else "***",
        }
        inner = ", ".join(f"{k}={v!r}" for k, v in shown.items() if v is not None)
        return f"TlsConfig({inner}{', ' if inner else ''}verify={self.verify!r})"


@dataclass(frozen=True, slots=True)
class TopicConfig:
    """How channels become topics. ``provision=False``: topics must exist (subscribing or
    publishing to a missing one raises ConfigurationError naming it). ``replication_factor``
    -1 is the broker's default. ``retry_delays``: the upper delay bound, in seconds, of each
    retry topic (``<channel>.retry.<n>s``); a retry waits in the first topic whose bound is at
    least its delay (the last one takes longer delays too). ``reply_topic``: the topic replies
    to this bus's requests come back on (request-reply; see docs/request-reply.md)."""

    partitions: int = 3
    replication_factor: int = -1
    provision: bool = True
    retry_delays: tuple[float, ...] = (1.0, 30.0, 600.0)
    reply_topic: str = "eventbus-replies"

    def __post_init__(self) -> None:
        object.__setattr__(self, "retry_delays", tuple(self.retry_delays))
        if isinstance(self.partitions, bool) or self.partitions < 1:
            raise ConfigurationError(f"TopicConfig.partitions must be >= 1, got {self.partitions}")
        if self.replication_factor == 0 or self.replication_factor < -1:
            raise ConfigurationError(
                "TopicConfig.replication_factor must be >= 1, or -1 for the broker's default"
            )
        if not self.reply_topic or "/" in self.reply_topic:
            raise ConfigurationError(
                f"TopicConfig.reply_topic must be a topic name, got {self.reply_topic[:80]!r}"
            )
        if not self.retry_delays:
            raise ConfigurationError("TopicConfig.retry_delays must name at least one delay")
        for delay in self.retry_delays:
            check_positive("TopicConfig.retry_delays entries", delay)
        if list(self.retry_delays) != sorted(set(self.retry_delays)):
            raise ConfigurationError("TopicConfig.retry_delays must increase")


@dataclass(frozen=True, slots=True)
class ProducerConfig:
    """The producer: ``idempotence`` (no duplicates or reordering from the producer's own
    retries; needs ``acks=all``), ``linger_ms`` (how long to wait to fill a batch),
    ``compression`` (``none``, ``gzip``, ``snappy``, ``lz4``, ``zstd``), ``timeout`` (seconds
    before a publish not acknowledged by the brokers fails)."""

    idempotence: bool = True
    linger_ms: float = 5.0
    compression: Literal["none", "gzip", "snappy", "lz4", "zstd"] = "none"
    timeout: float = 30.0

    def __post_init__(self) -> None:
        check_positive("ProducerConfig.linger_ms", self.linger_ms, allow_zero=True)
        check_positive("ProducerConfig.timeout", self.timeout)
        if self.compression not in ("none", "gzip", "snappy", "lz4", "zstd"):
            raise ConfigurationError(f"unknown compression {self.compression!r}")


@dataclass(frozen=True, slots=True)
class ConsumerConfig:
    """The consumers: ``session_timeout`` and ``max_poll_interval`` (seconds; a member silent
    that long, or whose handlers hold every slot that long, leaves its group and its
    partitions move), ``commit_interval`` (seconds between commits of settled offsets; also
    committed on rebalance and close), ``group_id`` (the Kafka group of an eventbus group on a
    channel: ``{group}`` and ``{channel}`` are filled in)."""

    session_timeout: float = 45.0
    max_poll_interval: float = 300.0
    commit_interval: float = 0.5
    group_id: str = "{group}.{channel}"

    def __post_init__(self) -> None:
        check_positive("ConsumerConfig.session_timeout", self.session_timeout)
        check_positive("ConsumerConfig.max_poll_interval", self.max_poll_interval)
        check_positive("ConsumerConfig.commit_interval", self.commit_interval)
        if "{group}" not in self.group_id:
            raise ConfigurationError("ConsumerConfig.group_id must contain '{group}'")
        try:
            self.group_id.format(group="g", channel="c")
        except (KeyError, IndexError, ValueError) as exc:
            raise ConfigurationError(
                f"ConsumerConfig.group_id {self.group_id!r}: only {{group}} and {{channel}} "
                f"may be filled in ({exc!r})"
            ) from None


@dataclass(frozen=True, slots=True)
class KafkaConfig:
    """Everything the Kafka adapter needs. ``servers`` are ``host:port`` bootstrap brokers (no
    credentials: use ``sasl``). ``client_id`` names the client in the brokers' logs."""

    servers: tuple[str, ...] = (DEFAULT_SERVER,)
    client_id: str = "eventbus"
    sasl: SaslConfig | None = None
    tls: TlsConfig | None = None
    topics: TopicConfig = field(default_factory=TopicConfig)
    producer: ProducerConfig = field(default_factory=ProducerConfig)
    consumer: ConsumerConfig = field(default_factory=ConsumerConfig)
    connect_timeout: float = 10.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "servers", tuple(self.servers))
        if not self.servers:
            raise ConfigurationError("KafkaConfig.servers must name at least one host:port")
        for server in self.servers:
            if "@" in server or "/" in server or not server.strip() or "," in server:
                raise ConfigurationError(
                    "KafkaConfig.servers are host:port entries; put credentials in SaslConfig"
                )
        check_positive("KafkaConfig.connect_timeout", self.connect_timeout)

    def secrets(self) -> tuple[str, ...]:
        """The secret strings, to scrub from any text shown to users."""
        found = []
        if self.sasl is not None:
            found.append(self.sasl.password)
        if self.tls is not None and self.tls.key_password:
            found.append(self.tls.key_password)
        return tuple(s for s in found if s)

    def security_protocol(self) -> str:
        if self.sasl is not None:
            return "SASL_SSL" if self.tls is not None else "SASL_PLAINTEXT"
        return "SSL" if self.tls is not None else "PLAINTEXT"

    def client_settings(self) -> dict[str, Any]:
        """The librdkafka settings every client of this adapter shares (connection, security)."""
        out: dict[str, Any] = {
            "bootstrap.servers": ",".join(self.servers),
            "client.id": self.client_id,
            "security.protocol": self.security_protocol(),
            "socket.connection.setup.timeout.ms": int(self.connect_timeout * 1000),
        }
        if self.sasl is not None:
            out["sasl.mechanism"] = self.sasl.mechanism
            out["sasl.username"] = self.sasl.username
            out["sasl.password"] = self.sasl.password
        tls = self.tls
        if tls is not None:
            if tls.ca_file is not None:
                out["ssl.ca.location"] = tls.ca_file
            if tls.cert_file is not None and tls.key_file is not None:
                out["ssl.certificate.location"] = tls.cert_file
                out["ssl.key.location"] = tls.key_file
            if tls.key_password is not None:
                out["ssl.key.password"] = tls.key_password
            out["enable.ssl.certificate.verification"] = tls.verify
            out["ssl.endpoint.identification.algorithm"] = "https" if tls.verify else "none"
        return out
