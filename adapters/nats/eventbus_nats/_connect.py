"""Opening the nats-py connection from a :class:`NatsConfig`.

Credentials never travel in server URLs (nats-py would show them in its errors); a password or
token is handed over through a callback that refuses to send it in plain text when TLS was
asked for and the server did not switch to TLS. The first connect tries each server twice,
quickly; after that the reconnect settings of the config apply.
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import Awaitable, Callable
from typing import Any

import nats
import nats.errors
from nats.aio.client import Client

from eventbus.adapter import BrokerConnectionError, ConfigurationError, Scrubber
from eventbus_nats._config import NatsConfig, TlsConfig
from eventbus_nats._errors import describe
from eventbus_nats._hooks import new_client, report_path

__all__ = ["ConnectionEvents", "open_connection", "servers_text"]

log = logging.getLogger("eventbus.nats")
_FIRST_CONNECT_ATTEMPTS = 1  # nats-py counts retries: two tries per server
_FIRST_CONNECT_WAIT = 0.1


def servers_text(config: NatsConfig) -> str:
    return ",".join(config.servers)


def _ssl_context(tls: TlsConfig) -> ssl.SSLContext:
    try:
        context = ssl.create_default_context(cafile=tls.ca_file)
        if tls.cert_file is not None:
            context.load_cert_chain(tls.cert_file, tls.key_file)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigurationError(f"cannot load the TLS files: {exc}") from exc
    if not tls.verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def _server_uses_tls(nc: Client) -> bool:
    # nats-py keeps the server's INFO in a private attribute; read it defensively.
    info = getattr(nc, "_server_info", None) or {}
    return bool(info.get("tls_required"))


def _guarded(secret: str, nc: Client, wants_tls: bool) -> Callable[[], str]:
    """A credential callback that refuses a plain-text connection when TLS was asked for."""

    def credential() -> str:
        if wants_tls and not _server_uses_tls(nc):
            raise nats.errors.SecureConnWantedError
        return secret

    return credential


class ConnectionEvents:
    """nats-py's callbacks: remembers the last error, logs, and tells the adapter."""

    def __init__(
        self,
        scrub: Scrubber,
        on_reconnect: Callable[[], Awaitable[None]],
        on_closed: Callable[[], Awaitable[None]],
        on_dropped: Callable[[Any], None],
    ) -> None:
        self.last_error: BaseException | None = None
        #: A refusal of the credentials: it explains a failed connect better than the
        #: connection reset that often follows it (the server closes right after its -ERR).
        self.refusal: BaseException | None = None
        self.client: Client | None = None
        self._scrub = scrub
        self._on_reconnect = on_reconnect
        self._on_closed = on_closed
        self._on_dropped = on_dropped
        self._connected = False

    def connected(self) -> None:
        self._connected = True

    def closing(self) -> None:
        """We close the connection ourselves: no warnings about it."""
        self._connected = False

    async def error(self, exc: Exception) -> None:
        if isinstance(exc, nats.errors.SlowConsumerError):
            self._on_dropped(exc.sub)  # nats-py dropped one message of that subscription
            return
        self.last_error = exc
        if self.refusal is None and describe(exc).startswith("authorization violation"):
            self.refusal = exc
        if self._connected:
            log.warning("nats: %s", self._scrub(describe(exc)))
        elif isinstance(exc, ssl.SSLError) and self.client is not None:
            # A failed TLS handshake is not worth retrying, and nats-py would hang waiting for
            # the dead stream to close: make the first connect give up at once.
            self.client.options["allow_reconnect"] = False

    async def disconnected(self) -> None:
        if self._connected:
            log.warning("nats: disconnected; reconnecting")

    async def reconnected(self) -> None:
        log.info("nats: reconnected")
        await self._on_reconnect()

    async def closed(self) -> None:
        if self._connected:
            self._connected = False
            log.info("nats: connection closed")
            await self._on_closed()


async def open_connection(config: NatsConfig, events: ConnectionEvents, scrub: Scrubber) -> Client:
    """Connect to one of ``config.servers``; raise BrokerConnectionError naming them."""
    nc, problem = new_client()
    events.client = nc
    auth, reconnect = config.auth, config.reconnect
    wants_tls = config.tls is not None
    options: dict[str, Any] = {
        "servers": [f"nats://{s}" for s in config.servers],
        "name": config.name,
        "error_cb": events.error,
        "disconnected_cb": events.disconnected,
        "reconnected_cb": events.reconnected,
        "closed_cb": events.closed,
        "connect_timeout": reconnect.connect_timeout,
        "reconnect_time_wait": _FIRST_CONNECT_WAIT,
        "max_reconnect_attempts": _FIRST_CONNECT_ATTEMPTS,
        "ping_interval": reconnect.ping_interval,
        "pending_size": reconnect.buffer_bytes,
    }
    if config.tls is not None:
        options["tls"] = _ssl_context(config.tls)
        options["tls_hostname"] = config.tls.hostname
        options["tls_handshake_first"] = config.tls.handshake_first
    if auth.user is not None:
        options["user"] = auth.user
        options["password"] = _guarded(auth.password or "", nc, wants_tls)
    elif auth.token is not None:
        options["token"] = _guarded(auth.token, nc, wants_tls)
    elif auth.nkey_seed_file is not None:
        options["nkeys_seed"] = auth.nkey_seed_file
    elif auth.creds_file is not None:
        options["user_credentials"] = auth.creds_file
    where = servers_text(config)
    try:
        await nc.connect(**options)
    except Exception as exc:
        cause = events.last_error if isinstance(exc, nats.errors.NoServersError) else exc
        cause = events.refusal or cause or exc
        raise BrokerConnectionError(
            scrub(f"cannot connect to NATS at {where}: {describe(cause)}")
        ) from exc
    if wants_tls and not _server_uses_tls(nc):
        await nc.close()
        raise BrokerConnectionError(
            f"cannot connect to NATS at {where}: TLS was requested but the server does not use it"
        )
    # From now on, the reconnect settings of the config (nats-py reads these at reconnect time).
    nc.options["allow_reconnect"] = True
    nc.options["reconnect_time_wait"] = reconnect.time_wait
    nc.options["max_reconnect_attempts"] = reconnect.max_attempts
    report_path(nc, problem)
    events.connected()
    return nc
