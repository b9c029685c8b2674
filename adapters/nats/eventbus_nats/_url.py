"""``nats://[user:password@|token@]host[:port][,host:port...][?param=value&...]`` URLs.

Every parameter maps to a field of :class:`NatsConfig` (see ``docs/adapters/nats.md``). Errors
name the parameter and show the URL through ``redact_url``; secret values are never echoed.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace
from typing import Any
from urllib.parse import parse_qsl, unquote

from eventbus.adapter import ConfigurationError, redact_url
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

_SECRET_PARAMS = frozenset({"token", "password"})
_BOOL = {"1": True, "true": True, "yes": True, "0": False, "false": False, "no": False}


def _text(raw: str) -> str:
    return raw


def _flag(raw: str) -> bool:
    value = _BOOL.get(raw.lower())
    if value is None:
        raise ValueError("expected true or false")
    return value


def _seconds(raw: str) -> float:
    value = float(raw)
    if not math.isfinite(value) or value < 0:
        raise ValueError("expected a number of seconds >= 0")
    return value


def _count(raw: str) -> int:
    return int(raw)


# parameter -> (section, field, reader)
_PARAMS: dict[str, tuple[str, str, Callable[[str], Any]]] = {
    "mode": ("adapter", "mode", _text),
    "name": ("adapter", "name", _text),
    "provision": ("adapter", "provision", _flag),
    "publish_timeout": ("adapter", "publish_timeout", _seconds),
    "publish_retries": ("adapter", "publish_retries", _count),
    "core_pending_limit": ("adapter", "core_pending_limit", _count),
    "token": ("auth", "token", _text),
    "nkey_seed": ("auth", "nkey_seed_file", _text),
    "creds": ("auth", "creds_file", _text),
    "tls": ("tls", "", _flag),
    "tls_ca": ("tls", "ca_file", _text),
    "tls_cert": ("tls", "cert_file", _text),
    "tls_key": ("tls", "key_file", _text),
    "tls_verify": ("tls", "verify", _flag),
    "tls_hostname": ("tls", "hostname", _text),
    "tls_handshake_first": ("tls", "handshake_first", _flag),
    "connect_timeout": ("reconnect", "connect_timeout", _seconds),
    "reconnect_wait": ("reconnect", "time_wait", _seconds),
    "max_reconnect": ("reconnect", "max_attempts", _count),
    "stream": ("stream", "name", _text),
    "storage": ("stream", "storage", _text),
    "retention": ("stream", "retention", _text),
    "max_age": ("stream", "max_age", _seconds),
    "duplicate_window": ("stream", "duplicate_window", _seconds),
    "replicas": ("stream", "replicas", _count),
    "max_ack_pending": ("consumer", "max_ack_pending", _count),
    "extra_deliveries": ("consumer", "extra_deliveries", _count),
    "pull_expires": ("consumer", "pull_expires", _seconds),
}


def _servers(hostlist: str, shown: str) -> tuple[str, ...]:
    if not hostlist:
        return (DEFAULT_SERVER,)
    servers = []
    for entry in hostlist.split(","):
        host, port = entry, "4222"
        if entry.startswith("["):  # [IPv6]:port
            end = entry.find("]")
            if end < 0:
                raise ConfigurationError(f"unclosed '[' in the NATS URL {shown}")
            host, rest = entry[: end + 1], entry[end + 1 :]
            if rest:
                if not rest.startswith(":"):
                    raise ConfigurationError(f"bad server {entry!r} in the NATS URL {shown}")
                port = rest[1:]
        elif ":" in entry:
            host, port = entry.rsplit(":", 1)
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ConfigurationError(
                f"bad server {entry!r} in the NATS URL {shown}: expected host[:port]"
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
    seen: set[str] = set()
    for key, raw in parse_qsl(query, keep_blank_values=True):
        known = _PARAMS.get(key)
        if known is None:
            raise ConfigurationError(
                f"unknown NATS URL parameter {key!r} in {shown} (known: {', '.join(_PARAMS)})"
            )
        if key in seen:
            raise ConfigurationError(f"NATS URL parameter {key!r} is given twice in {shown}")
        seen.add(key)
        section, name, reader = known
        try:
            value = reader(raw)
        except ValueError as exc:
            got = "" if key in _SECRET_PARAMS else f", got {raw!r}"
            raise ConfigurationError(f"NATS URL parameter {key!r}: {exc}{got}") from None
        if section == "tls":
            use_tls = use_tls or (value if not name else True)
            if not name:
                continue
        sections[section][name] = value
    if query and not seen:
        raise ConfigurationError(f"cannot read the query of the NATS URL {shown}")
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
