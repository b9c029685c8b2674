"""``nats://[user:password@|token@]host[:port][,host:port...][?param=value&...]`` URLs.

Every parameter maps to a field of :class:`NatsConfig` (see ``docs/adapters/nats.md``). Errors
name the parameter and show the URL through ``redact_url``; secret values are never echoed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any
from urllib.parse import unquote

from eventbus.adapter import ConfigurationError, Param, parse_hosts_url
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


def _auth(userinfo: str) -> AuthConfig:
    if not userinfo:
        return AuthConfig()
    if ":" in userinfo:
        user, password = userinfo.split(":", 1)
        return AuthConfig(user=unquote(user), password=unquote(password))
    return AuthConfig(token=unquote(userinfo))


def parse_nats_url(url: str) -> NatsConfig:
    """Read a ``nats://`` URL into a :class:`NatsConfig`; raise ConfigurationError if wrong."""
    userinfo, servers, sections, use_tls, shown = parse_hosts_url(
        url,
        "nats",
        what="NATS URL",
        params=_PARAMS,
        sections=("adapter", "auth", "tls", "reconnect", "stream", "consumer"),
        default_port=4222,
        default_server=DEFAULT_SERVER,
    )
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
        servers=servers,
        auth=auth,
        tls=TlsConfig(**sections["tls"]) if use_tls else None,
        reconnect=replace(ReconnectConfig(), **sections["reconnect"]),
        streams=(stream,),
        consumer=replace(ConsumerConfig(), **sections["consumer"]),
        **sections["adapter"],
    )
