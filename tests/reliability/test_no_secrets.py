"""No secret in any error text, repr or log line, for any URL or connection string (property).

Hypothesis builds secrets from a wide alphabet (``/ ? # @ : & ; ' %`` and blanks included) and
places them where secrets go: a URL's password or token (after ``scheme://``, a mistyped
``scheme:/`` or ``scheme:``, or no scheme at all), a secret-named query parameter, an Azure
connection string (bare or inside a URL), a libpq ``key=value`` string. Every entry point that
takes such a string is fed with it: ``redact_url``, ``EventBus(url)``, each adapter's URL
parser, the PostgreSQL stores and the Redis store (built, then used against a closed port);
error texts, reprs, the errors' causes and every log record are checked.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from servers import free_port

from eventbus import (
    EventBus,
    PostgresIdempotencyStore,
    PostgresOutbox,
    RedisIdempotencyStore,
    redact_url,
)

_MARK = "Zq7"  # every secret starts with it: no accidental match with the rest of a text
_WIDE = st.characters(
    codec="utf-8",
    categories=("L", "N", "P", "S", "Zs"),
    include_characters="/?#@:&;'%+=\\",
)
_NO_EQUALS = st.characters(
    codec="utf-8", categories=("L", "N", "P", "S", "Zs"), exclude_characters="=&;"
)
_BASE64 = st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=")


def _secret(alphabet: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.text(alphabet, min_size=5, max_size=24).map(lambda s: _MARK + s)


_SCHEMES = st.sampled_from(
    ["nats", "memory", "pubsub", "servicebus", "kafka", "postgresql", "redis", "x"]
)
_SEPARATORS = st.sampled_from(["://", ":/", ":", ""])
_TAILS = st.sampled_from(["", ":4222", ":4222?mode=core", "/db", "/db?sslmode=disable", "?a=1#f"])
_SECRET_PARAMS = st.sampled_from(
    ["token", "password", "SharedAccessKey", "sig", "credentials_token", "key", "api_key"]
)


@st.composite
def _userinfo(draw: st.DrawFn) -> tuple[str, str]:
    scheme, separator = draw(_SCHEMES), draw(_SEPARATORS)
    prefix = f"{scheme}{separator}" if separator else ""
    user = draw(st.sampled_from(["", "bob:", "app:"]))
    # A token (no user) with an unencoded ':' is read as "user:password" by every parser; its
    # first part is then a user name, shown as such.
    secret = draw(_secret(_WIDE).filter(lambda s: bool(user) or ":" not in s))
    return secret, f"{prefix}{user}{secret}@host{draw(_TAILS)}"


_AUTHORITY_SAFE = st.characters(
    codec="utf-8", categories=("L", "N", "P", "S"), exclude_characters="/?#@,[]"
)


@st.composite
def _no_host(draw: st.DrawFn) -> tuple[str, str]:
    """``scheme://user:password`` with the host forgotten: the password sits where a port goes."""
    secret = draw(_secret(_AUTHORITY_SAFE).filter(lambda s: not s[3:].isdigit()))
    scheme, user = draw(_SCHEMES), draw(st.sampled_from(["bob", "app", "h1:4222,bob"]))
    return secret, f"{scheme}://{user}:{secret}{draw(st.sampled_from(['', '?mode=core']))}"


@st.composite
def _query(draw: st.DrawFn) -> tuple[str, str]:
    secret = draw(_secret(_NO_EQUALS))
    scheme, name = draw(_SCHEMES), draw(_SECRET_PARAMS)
    before = draw(st.sampled_from(["", "mode=core&", "a=1;"]))
    after = draw(st.sampled_from(["", "&mode=core", ";x=1", "#frag"]))
    return secret, f"{scheme}://host?{before}{name}={secret}{after}"


@st.composite
def _azure(draw: st.DrawFn) -> tuple[str, str]:
    key = _MARK + draw(st.text(_BASE64, min_size=8, max_size=44))
    conn = f"Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=app;SharedAccessKey={key}"
    form = draw(st.sampled_from(["bare", "encoded", "plain-param"]))
    if form == "bare":
        return key, conn
    if form == "encoded":
        return key, f"servicebus://ns?connection_string={quote(conn, safe='')}"
    return key, f"servicebus://ns?conn={conn}"


def _libpq_quote(value: str) -> str:
    if value and not any(c.isspace() or c in "'\\" for c in value):
        return value
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


@st.composite
def _libpq(draw: st.DrawFn) -> tuple[str, str]:
    secret = draw(_secret(_WIDE))
    equals = draw(st.sampled_from(["=", " = ", "= "]))
    port = free_port()
    return secret, (
        f"host=127.0.0.1 port={port} user=eventbus password{equals}{_libpq_quote(secret)} "
        "dbname=d connect_timeout=2"
    )


@st.composite
def _postgres_url(draw: st.DrawFn) -> tuple[str, str]:
    """URLs psycopg gets to parse (and quote from, when it finds something wrong)."""
    port = free_port()  # nothing listens there
    if draw(st.booleans()):
        secret = draw(_secret(_WIDE))
        return secret, f"postgresql://eventbus:{secret}@127.0.0.1:{port}/db?connect_timeout=2"
    secret = draw(_secret(_NO_EQUALS))
    return secret, f"postgresql://eventbus@127.0.0.1:{port}/db?password={secret}&connect_timeout=2"


@st.composite
def _redis_url(draw: st.DrawFn) -> tuple[str, str]:
    secret = draw(_secret(_WIDE))
    user = draw(st.sampled_from(["", "bob"]))
    return secret, f"redis://{user}:{secret}@127.0.0.1:{free_port()}/0"


SHAPES = st.one_of(_userinfo(), _no_host(), _query(), _azure(), _libpq())


def _leaks(secret: str, text: str) -> bool:
    escaped = secret.replace("\\", "\\\\").replace("'", "\\'")
    return secret in text or escaped in text or quote(secret, safe="") in text


@contextmanager
def _no_secret_logged(secret: str) -> Iterator[None]:
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler, root = Keep(logging.DEBUG), logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
    formatter = logging.Formatter()
    for record in records:
        assert not _leaks(secret, formatter.format(record)), record.getMessage()


def _texts(exc: BaseException) -> Iterator[str]:
    """The error's text and repr, and its causes' (what a traceback would print)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield str(current)
        yield repr(current)
        current = current.__cause__ or (
            None if current.__suppress_context__ else current.__context__
        )


def _check(secret: str, action: Callable[[], Any]) -> Any:
    try:
        result = action()
    except Exception as exc:
        for text in _texts(exc):
            assert not _leaks(secret, text), text
        return None
    assert not _leaks(secret, repr(result)), repr(result)
    return result


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(SHAPES)
def test_redact_url_hides_the_secret_of_every_shape(case: tuple[str, str]) -> None:
    secret, url = case
    assert not _leaks(secret, redact_url(url)), redact_url(url)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(SHAPES)
def test_buses_and_adapter_parsers_never_show_the_secret(case: tuple[str, str]) -> None:
    from eventbus_kafka import parse_kafka_url
    from eventbus_nats import parse_nats_url
    from eventbus_pubsub import parse_pubsub_url
    from eventbus_servicebus import parse_servicebus_url

    from eventbus._memory._url import parse_memory_url

    secret, url = case
    parsers = (parse_nats_url, parse_pubsub_url, parse_servicebus_url, parse_memory_url)
    with _no_secret_logged(secret):
        _check(secret, lambda: EventBus(url))
        for parse in (*parsers, parse_kafka_url):
            _check(secret, lambda parse=parse: parse(url))  # type: ignore[misc]


async def _use_store(secret: str, url: str) -> None:
    makers: tuple[Any, ...] = (PostgresIdempotencyStore, PostgresOutbox)
    if url.startswith("redis"):
        makers = (RedisIdempotencyStore,)
    for make in makers:
        store = _check(secret, lambda make=make: make(url))  # type: ignore[misc]
        if store is None:
            continue
        try:
            if isinstance(store, PostgresIdempotencyStore | RedisIdempotencyStore):
                await store.claim("k", "owner", 1)
            else:
                await store.cleanup(older_than=1)
        except Exception as exc:
            for text in _texts(exc):
                assert not _leaks(secret, text), text
        finally:
            await store.close()


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(_postgres_url(), _libpq(), _userinfo(), _redis_url()))
def test_postgres_and_redis_stores_never_show_the_secret(case: tuple[str, str]) -> None:
    secret, url = case
    with _no_secret_logged(secret):
        asyncio.run(_use_store(secret, url))


@pytest.mark.parametrize(
    ("url", "secret"),
    [
        ("nats://user:s3/cret@host:4222", "s3/cret"),
        ("nats://user:s3?cret@host:4222", "s3?cret"),
        ("nats://user:s3#cret@host:4222", "s3#cret"),
        ("nats://s3/cret@host:4222", "s3/cret"),
        ("nats:/user:s3cret@host", "s3cret"),
        ("nats:user:s3cret@host", "s3cret"),
        ("servicebus://app:ab/cd+ef==@ns", "ab/cd+ef=="),
        ("host=h port=5432 password=s3cret dbname=x", "s3cret"),
        ("host=h password='s3 cret' dbname=x", "s3 cret"),
        ("host=h password = s3cret", "s3cret"),
        ("nats://user:s3cret", "s3cret"),
    ],
)
def test_the_reported_shapes_are_redacted(url: str, secret: str) -> None:
    assert secret not in redact_url(url)
