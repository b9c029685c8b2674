"""TLS, user/password, token and nkey authentication against real servers; no secret leaks."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import struct
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nkeys
import pytest
from eventbus_nats import AuthConfig, NatsAdapter, NatsConfig, TlsConfig, parse_nats_url
from nats_certs import make_certificates
from nats_launcher import NatsServer

from eventbus import BrokerConnectionError, ConfigurationError, Event, EventBus, redact_url
from eventbus.testing import run, wait_until

PASSWORD = "s3cret-P4ssw0rd"
WRONG = "wr0ng-Guess-77"
TOKEN = "t0ken-Abc123xyz"


async def roundtrip(target: str | NatsAdapter) -> None:
    """Publish one event and receive it through a fresh bus."""
    got: list[str] = []
    event_type = f"sec.t{uuid.uuid4().hex[:8]}.ping"
    async with EventBus(target) as bus:

        async def handler(event: Event[Any]) -> None:
            got.append(event.id)

        await bus.subscribe(event_type, handler)
        sent = Event(type=event_type, source="/sec", data={"ok": True})
        await bus.publish(sent)
        await wait_until(lambda: got == [sent.id], timeout=10, what="the event")


def connect_error(target: str | NatsAdapter) -> BrokerConnectionError:
    async def attempt() -> None:
        async with EventBus(target):
            pass

    with pytest.raises(BrokerConnectionError) as info:
        run(attempt(), timeout=30)
    return info.value


def assert_refused(error: BrokerConnectionError) -> None:
    """The server refused the credentials, and the error says so (never a bare "reset")."""
    assert "authorization violation" in str(error).lower(), str(error)


def texts_of(exc: BaseException) -> str:
    """Every text an error carries: message, repr and its whole cause chain."""
    parts: list[str] = []
    seen: BaseException | None = exc
    while seen is not None:
        parts += [str(seen), repr(seen)]
        seen = seen.__cause__ or seen.__context__
    return "\n".join(parts)


@pytest.fixture
def certs(tmp_path: Path) -> dict[str, Path]:
    return make_certificates(tmp_path)


@pytest.fixture
def tls_server(start_server: Callable[..., NatsServer], certs: dict[str, Path]) -> NatsServer:
    config = f'tls {{\n  cert_file: "{certs["cert"]}"\n  key_file: "{certs["key"]}"\n}}\n'
    return start_server(jetstream=False, config=config)


def test_tls_with_the_test_ca(tls_server: NatsServer, certs: dict[str, Path]) -> None:
    run(roundtrip(tls_server.url(f"mode=core&tls=true&tls_ca={certs['ca']}")))
    config = NatsConfig(
        servers=(tls_server.address,), mode="core", tls=TlsConfig(ca_file=str(certs["ca"]))
    )
    run(roundtrip(NatsAdapter(config)))


def test_tls_with_an_unknown_ca_is_refused(tls_server: NatsServer) -> None:
    error = connect_error(tls_server.url("mode=core&tls=true"))
    assert "certificate" in str(error).lower()
    assert tls_server.address in str(error)


def test_tls_without_verification_connects(tls_server: NatsServer) -> None:
    run(roundtrip(tls_server.url("mode=core&tls=true&tls_verify=false")))


def test_tls_requested_from_a_plain_server_sends_no_password(
    start_server: Callable[..., NatsServer], caplog: pytest.LogCaptureFixture
) -> None:
    server = start_server(
        jetstream=False, config=f'authorization {{ user: alice, password: "{PASSWORD}" }}\n'
    )
    caplog.set_level(logging.DEBUG)
    error = connect_error(server.url().replace("nats://", f"nats://alice:{PASSWORD}@") + "?tls=1")
    assert "TLS" in str(error)
    assert PASSWORD not in texts_of(error) + caplog.text


@pytest.fixture
def password_server(start_server: Callable[..., NatsServer]) -> NatsServer:
    return start_server(
        jetstream=False, config=f'authorization {{ user: alice, password: "{PASSWORD}" }}\n'
    )


def test_user_and_password(password_server: NatsServer) -> None:
    url = f"nats://alice:{PASSWORD}@{password_server.address}?mode=core"
    run(roundtrip(url))
    config = NatsConfig(
        servers=(password_server.address,),
        mode="core",
        auth=AuthConfig(user="alice", password=PASSWORD),
    )
    run(roundtrip(NatsAdapter(config)))


def test_wrong_password_error_names_no_secret(
    password_server: NatsServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    url = f"nats://alice:{WRONG}@{password_server.address}?mode=core"
    error = connect_error(url)
    message = str(error)
    assert_refused(error)
    assert password_server.address in message
    adapter = NatsAdapter.from_url(url)
    shown = "\n".join(
        [texts_of(error), caplog.text, repr(adapter), repr(adapter.config), repr(EventBus(url))]
    )
    assert WRONG not in shown
    assert PASSWORD not in shown
    assert "***" in repr(adapter.config.auth)


def test_token(start_server: Callable[..., NatsServer], caplog: pytest.LogCaptureFixture) -> None:
    server = start_server(jetstream=False, config=f'authorization {{ token: "{TOKEN}" }}\n')
    run(roundtrip(f"nats://{TOKEN}@{server.address}?mode=core"))
    run(roundtrip(f"nats://{server.address}?mode=core&token={TOKEN}"))
    caplog.set_level(logging.DEBUG)
    error = connect_error(f"nats://{server.address}?mode=core&token={WRONG}")
    assert_refused(error)
    assert WRONG not in texts_of(error) + caplog.text
    assert TOKEN not in texts_of(error) + caplog.text


def test_nkey_seed_file(start_server: Callable[..., NatsServer], tmp_path: Path) -> None:
    seed = nkeys.encode_seed(os.urandom(32), nkeys.PREFIX_BYTE_USER)
    public = nkeys.from_seed(bytearray(seed)).public_key.decode()
    seed_file = tmp_path / "user.nk"
    seed_file.write_bytes(seed)
    server = start_server(
        jetstream=False, config=f"authorization {{ users: [ {{ nkey: {public} }} ] }}\n"
    )
    run(roundtrip(f"nats://{server.address}?mode=core&nkey_seed={seed_file}"))
    error = connect_error(f"nats://{server.address}?mode=core")
    assert_refused(error)
    assert seed.decode() not in texts_of(error)


def test_secrets_never_shown_by_url_handling() -> None:
    url = f"nats://alice:{PASSWORD}@h1:4222,h2:4223?mode=core&name=svc"
    assert PASSWORD not in redact_url(url)
    config = parse_nats_url(url)
    assert config.auth.password == PASSWORD and config.servers == ("h1:4222", "h2:4223")
    assert PASSWORD not in repr(config) and PASSWORD not in repr(NatsAdapter(config))
    with pytest.raises(ConfigurationError) as info:
        parse_nats_url(f"nats://h1?token={TOKEN}&bogus=1")
    assert TOKEN not in str(info.value)
    with pytest.raises(ConfigurationError) as info:
        parse_nats_url(f"nats://{TOKEN}@h1?token={TOKEN}")
    assert TOKEN not in str(info.value)


def test_a_reset_after_the_refusal_still_reports_the_refusal(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """What nats-server does now and then: -ERR 'Authorization Violation', then a reset (it
    closes with the client's PING unread). Replayed here every time, by a socket that speaks
    just that much of the protocol, so the adapter must always name the refusal."""

    async def refuse(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        info = {"server_id": "x", "version": "2.10.0", "auth_required": True, "max_payload": 1024}
        writer.write(f"INFO {json.dumps(info)}\r\n".encode())
        await writer.drain()
        await reader.readline()  # CONNECT
        writer.write(b"-ERR 'Authorization Violation'\r\n")
        await writer.drain()
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.transport.abort()  # RST, not FIN

    async def attempt() -> BrokerConnectionError:
        server = await asyncio.start_server(refuse, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        try:
            with pytest.raises(BrokerConnectionError) as info:
                await NatsAdapter.from_url(f"nats://alice:{WRONG}@127.0.0.1:{port}").connect()
        finally:
            server.close()
        return info.value

    caplog.set_level(logging.DEBUG)
    error = run(attempt(), timeout=30)
    assert_refused(error)
    assert WRONG not in texts_of(error) + caplog.text
