"""``nats://[user:password@|token@]host[:port][,host:port...][?param=value&...]`` URLs.

Every parameter maps to a field of :class:`NatsConfig` (see ``docs/adapters/nats.md``). Errors
name the parameter and show the URL through ``redact_url``; secret values are never echoed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any
from urllib.parse import unquote

from eventbus.adapter import ConfigurationError, Param, parse_params, redact_url
from eventbus_nats._config import (
    DEFAULT_SERVER,
    AuthConfig,
    ConsumerConfig,
    NatsConfig,
    ReconnectConfig,
    StreamConfig,
    TlsConfig,
)

__all__ = ["parse_nats_url"]

_COUNT = Param.integer()
# parameter -> (section, field, reader)
_PARAMS: dict[str, tuple[str, str, Callable[[str], Any]]] = {
    "mode": ("adapter", "mode", Param.text),
    "name": ("adapter", "name", Param.text),
    "provision": ("adapter", "provision", Param.flag),
    "publish_timeout": ("adapter", "publish_timeout", Param.seconds),
    "publish_retries": ("adapter", "publish_retries", _COUNT),
    "core_pending_limit": ("adapter", "core_pending_limit", _COUNT),
    "token": ("auth", "token", Param.text),
    "nkey_seed": ("auth", "nkey_seed_file", Param.text),
    "creds": ("auth", "creds_file", Param.text),
    "tls": ("tls", "", Param.flag),
    "tls_ca": ("tls", "ca_file", Param.text),
    "tls_cert": ("tls", "cert_file", Param.text),
    "tls_key": ("tls", "key_file", Param.text),
    "tls_verify": ("tls", "verify", Param.flag),
    "tls_hostname": ("tls", "hostname", Param.text),
    "tls_handshake_first": ("tls", "handshake_first", Param.flag),
    "connect_timeout": ("reconnect", "connect_timeout", Param.seconds),
    "reconnect_wait": ("reconnect", "time_wait", Param.seconds),
    "max_reconnect": ("reconnect", "max_attempts", _COUNT),
    "stream": ("stream", "name", Param.text),
    "storage": ("stream", "storage", Param.text),
    "retention": ("stream", "retention", Param.text),
    "max_age": ("stream", "max_age", Param.seconds),
    "duplicate_window": ("stream", "duplicate_window", Param.seconds),
    "replicas": ("stream", "replicas", _COUNT),
    "max_ack_pending": ("consumer", "max_ack_pending", _COUNT),
    "extra_deliveries": ("consumer", "extra_deliveries", _COUNT),
    "pull_expires": ("consumer", "pull_expires", Param.seconds),
}


def _servers(hostlist: str, shown: str) -> tuple[str, ...]:
    if not hostlist:
        return (DEFAULT_SERVER,)
    servers = []
    # Errors point at the entry by its position: its text may be a password without its host.
    for number, entry in enumerate(hostlist.split(","), 1):
        host, port = entry, "4222"
        if entry.startswith("["):  # [IPv6]:port
            end = entry.find("]")
            if end < 0:
                raise ConfigurationError(f"unclosed '[' in the NATS URL {shown}")
            host, rest = entry[: end + 1], entry[end + 1 :]
            if rest:
                if not rest.startswith(":"):
                    raise ConfigurationError(f"bad server #{number} in the NATS URL {shown}")
                port = rest[1:]
        elif ":" in entry:
            host, port = entry.rsplit(":", 1)
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ConfigurationError(
                f"bad server #{number} in the NATS URL {shown}: expected host[:port]"
            )
        servers.append(f"{host}:{int(port)}")
    return tuple(servers)


def _auth(userinfo: str) -> AuthConfig:
    if not userinfo:
        return AuthConfig()
    if ":" in userinfo:
        user, password = userinfo.split(":", 1)
        return AuthConfig(user=unquote(user), password=unquote(password))
    return AuthConfig(token=unquote(userinfo))


def parse_nats_url(url: str) -> NatsConfig:
    """Read a ``nats://`` URL into a :class:`NatsConfig`; raise ConfigurationError if wrong."""
    shown = redact_url(url)
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.lower() != "nats":
        raise ConfigurationError(f"not a nats:// URL: {shown}")
    rest, _, fragment = rest.partition("#")
    rest, _, query = rest.partition("?")
    netloc, _, path = rest.partition("/")
    if path or fragment:
        raise ConfigurationError(
            f"a NATS URL is nats://[user:password@]host[:port][,host:port][?param=value], "
            f"got {shown}: unexpected path or fragment"
        )
    userinfo, _, hostlist = netloc.rpartition("@")
    sections: dict[str, dict[str, Any]] = {
        k: {} for k in ("adapter", "auth", "tls", "reconnect", "stream", "consumer")
    }
    use_tls = False
    readers = {key: reader for key, (_, _, reader) in _PARAMS.items()}
    for key, value in parse_params(query, readers, what="NATS URL", shown=shown).items():
        section, name, _ = _PARAMS[key]
        if section == "tls":
            use_tls = use_tls or (value if not name else True)
            if not name:
                continue
        sections[section][name] = value
    auth = _auth(userinfo)
    if sections["auth"]:
        if userinfo:
            raise ConfigurationError(f"give credentials once, in the URL's user part: {shown}")
        auth = AuthConfig(**sections["auth"])
    stream = StreamConfig()
    if sections["stream"]:
        name = sections["stream"].get("name", stream.name)
        stream = StreamConfig(**{**sections["stream"], "name": name})
    return NatsConfig(
        servers=_servers(hostlist, shown),
        auth=auth,
        tls=TlsConfig(**sections["tls"]) if use_tls else None,
        reconnect=replace(ReconnectConfig(), **sections["reconnect"]),
        streams=(stream,),
        consumer=replace(ConsumerConfig(), **sections["consumer"]),
        **sections["adapter"],
    )
