"""``kafka://[user:password@]host[:port][,host:port...][?param=value&...]`` URLs.

Credentials in the user part mean SASL (``sasl_mechanism``, default ``PLAIN``). Every parameter
maps to a field of :class:`KafkaConfig` (see ``docs/adapters/kafka.md``). Errors name the
parameter and show the URL through ``redact_url``; secret values are never echoed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

from eventbus.adapter import ConfigurationError, Param, parse_params, redact_url
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
    "idempotence": ("producer", "idempotence", Param.flag),
    "linger_ms": ("producer", "linger_ms", _SECONDS),
    "compression": ("producer", "compression", Param.text),
    "publish_timeout": ("producer", "timeout", _SECONDS),
    "session_timeout": ("consumer", "session_timeout", _SECONDS),
    "max_poll_interval": ("consumer", "max_poll_interval", _SECONDS),
    "commit_interval": ("consumer", "commit_interval", _SECONDS),
    "group_id": ("consumer", "group_id", Param.text),
}


def _servers(hostlist: str, shown: str) -> tuple[str, ...]:
    if not hostlist:
        raise ConfigurationError(f"the Kafka URL names no broker: {shown}")
    servers = []
    # Errors point at the entry by its position: its text may be a password without its host.
    for number, entry in enumerate(hostlist.split(","), 1):
        host, port = entry, str(_DEFAULT_PORT)
        if entry.startswith("["):  # [IPv6]:port
            end = entry.find("]")
            if end < 0:
                raise ConfigurationError(f"unclosed '[' in the Kafka URL {shown}")
            host, rest = entry[: end + 1], entry[end + 1 :]
            if rest:
                if not rest.startswith(":"):
                    raise ConfigurationError(f"bad broker #{number} in the Kafka URL {shown}")
                port = rest[1:]
        elif ":" in entry:
            host, port = entry.rsplit(":", 1)
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ConfigurationError(
                f"bad broker #{number} in the Kafka URL {shown}: expected host[:port]"
            )
        servers.append(f"{host}:{int(port)}")
    return tuple(servers)


def parse_kafka_url(url: str) -> KafkaConfig:
    """Read a ``kafka://`` URL into a :class:`KafkaConfig`; raise ConfigurationError if wrong."""
    shown = redact_url(url)
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.lower() != "kafka":
        raise ConfigurationError(f"not a kafka:// URL: {shown}")
    rest, _, fragment = rest.partition("#")
    rest, _, query = rest.partition("?")
    netloc, _, path = rest.partition("/")
    if path or fragment:
        raise ConfigurationError(
            f"a Kafka URL is kafka://[user:password@]host[:port][,host:port][?param=value], "
            f"got {shown}: unexpected path or fragment"
        )
    userinfo, _, hostlist = netloc.rpartition("@")
    sections: dict[str, dict[str, Any]] = {
        k: {} for k in ("adapter", "sasl", "tls", "topics", "producer", "consumer")
    }
    use_tls = False
    readers = {key: reader for key, (_, _, reader) in _PARAMS.items()}
    for key, value in parse_params(query, readers, what="Kafka URL", shown=shown).items():
        section, name, _ = _PARAMS[key]
        if section == "tls":
            use_tls = use_tls or (value if not name else True)
            if not name:
                continue
        sections[section][name] = value
    sasl = None
    if userinfo:
        user, colon, password = userinfo.partition(":")
        if not colon:
            raise ConfigurationError(f"the Kafka URL's user part needs user:password: {shown}")
        sasl = SaslConfig(unquote(user), unquote(password), **sections["sasl"])
    elif sections["sasl"]:
        raise ConfigurationError(f"sasl_mechanism needs user:password in the URL: {shown}")
    return KafkaConfig(
        servers=_servers(hostlist, shown),
        sasl=sasl,
        tls=TlsConfig(**sections["tls"]) if use_tls else None,
        topics=TopicConfig(**sections["topics"]),
        producer=ProducerConfig(**sections["producer"]),
        consumer=ConsumerConfig(**sections["consumer"]),
        **sections["adapter"],
    )
