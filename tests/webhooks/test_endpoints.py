"""Endpoints: validation, the SQLite and PostgreSQL stores, the SSRF guard, the abuse-protection
handshake, the retry schedule and Retry-After parsing."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
from servers import PostgresServer
from webhook_receiver import Receiver

from eventbus import ConfigurationError, StoreError
from eventbus.webhooks import (
    DEFAULT_SCHEDULE,
    DestinationGuard,
    DestinationRefusedError,
    Endpoint,
    HandshakeError,
    PostgresEndpointStore,
    ScheduleRetry,
    SqliteEndpointStore,
    UnknownEndpointError,
    Webhooks,
    open_endpoint_store,
    retry_after_seconds,
)


@pytest.fixture(scope="module")
def postgres_server() -> Iterator[PostgresServer]:
    server = PostgresServer().start()
    try:
        yield server
    finally:
        server.stop()


# -- model -----------------------------------------------------------------------------------


def test_default_schedule_is_svix_like() -> None:
    assert DEFAULT_SCHEDULE == (5, 300, 1800, 7200, 18000, 36000, 36000)
    retry = ScheduleRetry.of(DEFAULT_SCHEDULE)
    assert retry.max_attempts == 8
    rng = random.Random(1)
    for attempt, base in enumerate(DEFAULT_SCHEDULE, 1):
        assert base * 0.8 <= retry.delay(attempt, rng) <= base * 1.2
    assert not retry.exhausted(7)
    assert retry.exhausted(8)


def test_endpoint_problems_are_reported_together() -> None:
    with pytest.raises(ConfigurationError) as err:
        Endpoint.new(
            "http://example.com/h",
            [],
            content_mode="xml",
            timeout=0,
            rate_limit=0,
            schedule=(-1,),
        )
    text = str(err.value)
    for word in ("event_types", "content_mode", "timeout", "rate_limit", "schedule"):
        assert word in text
    with pytest.raises(ConfigurationError, match="must be http"):
        Endpoint.new("ftp://example.com/x", "a.b")


def test_endpoint_repr_hides_secrets_and_url_credentials() -> None:
    endpoint = Endpoint.new("https://user:pw123@example.com/h?token=abc", "a.b")
    secret = endpoint.secrets[0].reveal()
    for text in (repr(endpoint), str(endpoint.summary())):
        assert secret not in text
        assert secret.removeprefix("whsec_") not in text
        assert "pw123" not in text


# -- stores ----------------------------------------------------------------------------------


async def _round_trip(store: SqliteEndpointStore | PostgresEndpointStore) -> None:
    await store.ensure_schema()
    await store.ensure_schema()  # idempotent
    endpoint = Endpoint.new(
        "https://example.com/hook",
        ["a.b", "c.>"],
        content_mode="structured",
        timeout=7.5,
        rate_limit=30,
        schedule=(1, 2),
        handshake=False,
        description="partner",
    )
    await store.add(endpoint)
    assert await store.get(endpoint.id) == endpoint
    assert [e.id for e in await store.list()] == [endpoint.id]
    changed = endpoint.with_changes(enabled=False, disabled_reason="410 Gone")
    await store.update(changed)
    assert await store.get(endpoint.id) == changed
    with pytest.raises(StoreError):
        await store.add(endpoint)  # same id
    await store.remove(endpoint.id)
    with pytest.raises(UnknownEndpointError):
        await store.get(endpoint.id)
    with pytest.raises(UnknownEndpointError):
        await store.remove(endpoint.id)
    with pytest.raises(UnknownEndpointError):
        await store.update(endpoint)
    await store.close()


async def test_sqlite_store(tmp_path: Path) -> None:
    await _round_trip(SqliteEndpointStore(tmp_path / "w.db"))
    # Durable: a new store on the same file sees what an earlier one wrote.
    first = open_endpoint_store(f"sqlite:///{tmp_path}/x.db")
    await first.ensure_schema()
    endpoint = Endpoint.new("https://example.com/h", "a.b")
    await first.add(endpoint)
    await first.close()
    second = open_endpoint_store(f"sqlite:///{tmp_path}/x.db")
    assert await second.get(endpoint.id) == endpoint
    await second.close()


async def test_postgres_store(postgres_server: PostgresServer) -> None:
    url = postgres_server.create_database("webhooks_store")
    store = open_endpoint_store(url)
    assert isinstance(store, PostgresEndpointStore)
    await _round_trip(store)


def test_unsupported_store_url_is_named_without_its_password() -> None:
    with pytest.raises(ConfigurationError) as err:
        open_endpoint_store("mysql://u:secretpw@h/db")
    assert "secretpw" not in str(err.value)


# -- SSRF guard ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("http://127.0.0.1:8080/x", "loopback"),
        ("http://localhost/x", "loopback"),
        ("http://[::1]/x", "loopback"),
        ("http://169.254.169.254/latest/meta-data", "link-local"),
        ("http://10.1.2.3/x", "private"),
        ("http://192.168.0.10/x", "private"),
        ("http://[fd00::1]/x", "private"),
        ("http://[::ffff:127.0.0.1]/x", "loopback"),
        ("http://0.0.0.0/x", "unspecified"),
        ("http://100.64.0.1/x", "shared"),
    ],
)
async def test_guard_refuses_internal_destinations(url: str, kind: str) -> None:
    with pytest.raises(DestinationRefusedError, match=kind):
        await DestinationGuard().check(url)


async def test_guard_allows_listed_networks_and_public_addresses() -> None:
    await DestinationGuard(["127.0.0.0/8"]).check("http://127.0.0.1:9/x")
    await DestinationGuard().check("http://93.184.215.14/x")
    with pytest.raises(DestinationRefusedError):
        await DestinationGuard(["127.0.0.0/8"]).check("http://10.0.0.1/x")
    with pytest.raises(ConfigurationError, match="allow-list"):
        DestinationGuard(["not-a-network"])


async def test_add_refuses_loopback_unless_allow_listed(
    receiver: Receiver, path: str, store_file: Path
) -> None:
    async with Webhooks(SqliteEndpointStore(store_file)) as strict:
        with pytest.raises(DestinationRefusedError, match="loopback"):
            await strict.add(receiver.url(path), "a.b")
        assert await strict.list() == []
    assert receiver.options(path) == []  # refused before any request


# -- abuse-protection handshake --------------------------------------------------------------


async def test_handshake_sends_origin_and_reads_the_allowed_rate(
    receiver: Receiver, path: str, hooks: Webhooks
) -> None:
    receiver.handshake[path] = 30
    endpoint = await hooks.add(receiver.url(path), "a.b")
    (options,) = receiver.options(path)
    assert options.headers["webhook-request-origin"] == "eventbus.local"
    assert endpoint.rate_limit == 30
    assert (await hooks.get(endpoint.id)).rate_limit == 30


async def test_handshake_refusal_keeps_the_endpoint_out(
    receiver: Receiver, path: str, hooks: Webhooks
) -> None:
    receiver.handshake[path] = "deny"
    with pytest.raises(HandshakeError, match="403"):
        await hooks.add(receiver.url(path), "a.b")
    assert await hooks.list() == []
    endpoint = await hooks.add(receiver.url(path), "a.b", handshake=False)
    assert [e.id for e in await hooks.list()] == [endpoint.id]
    assert len(receiver.options(path)) == 1  # only the refused one


async def test_handshake_must_name_our_origin(
    receiver: Receiver, path: str, hooks: Webhooks
) -> None:
    receiver.handshake[path] = "no-origin"
    with pytest.raises(HandshakeError, match=r"did not allow origin 'eventbus\.local'"):
        await hooks.add(receiver.url(path), "a.b")
    assert await hooks.list() == []


# -- Retry-After -----------------------------------------------------------------------------


def test_retry_after_values() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert retry_after_seconds("120") == 120.0
    assert retry_after_seconds("999999") == 86_400.0
    assert retry_after_seconds(format_datetime(now + timedelta(seconds=30)), now.timestamp()) == 30
    assert retry_after_seconds(format_datetime(now - timedelta(seconds=30)), now.timestamp()) == 0
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds(None) is None
