"""``kafka://[user:password@]host[:port][,host:port...][?param=value&...]`` URLs.

Credentials in the user part mean SASL (``sasl_mechanism``, default ``PLAIN``). Every parameter
maps to a field of :class:`KafkaConfig` (see ``docs/adapters/kafka.md``). Errors name the
parameter and show the URL through ``redact_url``; secret values are never echoed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

from eventbus.adapter import ConfigurationError, Param, parse_hosts_url
from eventbus_kafka._config import (
    ConsumerConfig,
    KafkaConfig,
    ProducerConfig,
    SaslConfig,
    TlsConfig,
    TopicConfig,
)

__all__ = ["parse_kafka_url"]

_DEFAULT_PORT = 9092
_SECONDS = Param.seconds
_COUNT = Param.integer()


def _delays(raw: str) -> tuple[float, ...]:
    return tuple(_SECONDS(part) for part in raw.split(","))


# parameter -> (section, field, reader)
_PARAMS: dict[str, tuple[str, str, Callable[[str], Any]]] = {
    "client_id": ("adapter", "client_id", Param.text),
    "connect_timeout": ("adapter", "connect_timeout", _SECONDS),
    "sasl_mechanism": ("sasl", "mechanism", Param.text),
    "tls": ("tls", "", Param.flag),
    "tls_ca": ("tls", "ca_file", Param.text),
    "tls_cert": ("tls", "cert_file", Param.text),
    "tls_key": ("tls", "key_file", Param.text),
    "tls_verify": ("tls", "verify", Param.flag),
    "partitions": ("topics", "partitions", _COUNT),
    "replication_factor": ("topics", "replication_factor", _COUNT),
    "provision": ("topics", "provision", Param.flag),
    "retry_delays": ("topics", "retry_delays", _delays),
    "reply_topic": ("topics", "reply_topic", Param.text),
    "idempotence": ("producer", "idempotence", Param.flag),
    "linger_ms": ("producer", "linger_ms", _SECONDS),
    "compression": ("producer", "compression", Param.text),
    "publish_timeout": ("producer", "timeout", _SECONDS),
    "session_timeout": ("consumer", "session_timeout", _SECONDS),
    "max_poll_interval": ("consumer", "max_poll_interval", _SECONDS),
    "commit_interval": ("consumer", "commit_interval", _SECONDS),
    "group_id": ("consumer", "group_id", Param.text),
}


def parse_kafka_url(url: str) -> KafkaConfig:
    """Read a ``kafka://`` URL into a :class:`KafkaConfig`; raise ConfigurationError if wrong."""
    userinfo, servers, sections, use_tls, shown = parse_hosts_url(
        url,
        "kafka",
        what="Kafka URL",
        params=_PARAMS,
        sections=("adapter", "sasl", "tls", "topics", "producer", "consumer"),
        default_port=_DEFAULT_PORT,
        entry="broker",
    )
    sasl = None
    if userinfo:
        user, colon, password = userinfo.partition(":")
        if not colon:
            raise ConfigurationError(f"the Kafka URL's user part needs user:password: {shown}")
        sasl = SaslConfig(unquote(user), unquote(password), **sections["sasl"])
    elif sections["sasl"]:
        raise ConfigurationError(f"sasl_mechanism needs user:password in the URL: {shown}")
    return KafkaConfig(
        servers=servers,
        sasl=sasl,
        tls=TlsConfig(**sections["tls"]) if use_tls else None,
        topics=TopicConfig(**sections["topics"]),
        producer=ProducerConfig(**sections["producer"]),
        consumer=ConsumerConfig(**sections["consumer"]),
        **sections["adapter"],
    )
