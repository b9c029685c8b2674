"""The HTTP ingress over real HTTP: uvicorn serving IngressApps mounted in Starlette, httpx as
the client, the official CloudEvents SDK building requests and ``standardwebhooks`` signing them.

One server for the module: three ingress apps on one memory bus (``/signed``: Standard Webhooks,
``/token``: a shared secret, ``/open``: no auth, a small body limit and a short publish timeout).
"""

from __future__ import annotations

import asyncio
import base64
import logging
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import pytest_asyncio
from cloudevents.core.bindings import http as sdk_http
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent
from ingress_helpers import Collector
from standardwebhooks import Webhook
from starlette.applications import Starlette
from starlette.routing import Mount

from eventbus import (
    ClaimStatus,
    Event,
    EventBus,
    IngressApp,
    IngressError,
    MemoryIdempotencyStore,
    Middleware,
    PublishError,
    SharedSecret,
    StandardWebhooks,
    to_http,
    to_http_batch,
)
from eventbus.adapter import broker_dedupe_id
from eventbus.testing import serve_asgi

pytestmark = pytest.mark.asyncio(loop_scope="module")

FMT = JSONFormat()
TYPE = "com.example.ingress"
KEY = b"k" * 32
SECRET = "whsec_" + base64.b64encode(KEY).decode()
TOKEN = "tok-" + "s3cr3t" * 4
T0 = datetime(2024, 5, 1, 12, 30, 15, 250000, tzinfo=UTC)


class Gate(Middleware):
    """Publish middleware: ``mode`` "pass", "fail" (the broker refuses) or "hang" (no answer)."""

    def __init__(self) -> None:
        self.mode = "pass"

    async def on_publish(self, event: Event[Any], call_next: Any) -> None:
        if self.mode == "fail":
            raise PublishError("the broker refused it", outcome="not-stored")
        if self.mode == "hang":
            await asyncio.Event().wait()
        await call_next(event)


class World:
    def __init__(self, url: str, bus: EventBus, gate: Gate, seen: Collector) -> None:
        self.url = url
        self.bus = bus
        self.gate = gate
        self.seen = seen
        self.apps: dict[str, IngressApp] = {}

    async def stored(self) -> list[Event[Any]]:
        """Every event stored so far: a sentinel published after them has come through."""
        sentinel = Event(type=TYPE, source="/sentinel")
        await self.bus.publish(sentinel)
        while sentinel.id not in self.seen.ids():
            self.seen.arrived.clear()
            await asyncio.wait_for(self.seen.arrived.wait(), 10)
        events = [e for e in self.seen.events if e.source != "/sentinel"]
        self.seen.events.clear()
        return events


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world() -> AsyncIterator[World]:
    gate = Gate()
    seen = Collector()
    async with EventBus(f"memory://ingress-{uuid.uuid4().hex[:8]}", middleware=[gate]) as bus:
        await bus.subscribe(TYPE, seen, group="stored", max_in_flight=1)
        apps = {
            "signed": IngressApp(
                bus,
                auth=StandardWebhooks(SECRET),
                allowed_origins=("sender.example.com",),
                allowed_rate=120,
            ),
            "token": IngressApp(bus, auth=SharedSecret(TOKEN)),
            "open": IngressApp(bus, auth=None, max_body=2048, publish_timeout=0.5),
        }
        site = Starlette(routes=[Mount(f"/{name}", app=app) for name, app in apps.items()])
        async with serve_asgi(site) as url:
            w = World(url, bus, gate, seen)
            w.apps = apps
            yield w


@pytest_asyncio.fixture(loop_scope="module")
async def client(world: World) -> AsyncIterator[httpx.AsyncClient]:
    world.gate.mode = "pass"
    async with httpx.AsyncClient(base_url=world.url, timeout=20) as c:
        yield c


def sdk_event(**attributes: Any) -> CloudEvent:
    base: dict[str, Any] = {
        "type": TYPE,
        "source": "/orders",
        "id": uuid.uuid4().hex,
        "time": T0,
        "subject": 'Euro € "q" 100%',
        "datacontenttype": "application/json",
        "traceparent": "00-abc-01",
    }
    base.update(attributes)
    return CloudEvent(base, {"order": 7})


def signed(body: bytes, headers: dict[str, str], msg_id: str | None = None) -> dict[str, str]:
    msg_id = msg_id or f"msg_{uuid.uuid4().hex}"
    now = datetime.now(UTC)
    signature = Webhook(SECRET).sign(msg_id, now, body)
    return {
        **headers,
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signature,
    }


# -- accepted ----------------------------------------------------------------------------------


async def test_sdk_binary_and_structured_requests_are_stored(
    world: World, client: httpx.AsyncClient
) -> None:
    binary = sdk_event()
    structured = sdk_event()
    for message in (sdk_http.to_binary(binary, FMT), sdk_http.to_structured(structured, FMT)):
        response = await client.post(
            "/signed/", content=message.body, headers=signed(message.body, message.headers)
        )
        assert response.status_code == 200, response.text
        assert response.json()["accepted"] == 1
    stored = await world.stored()
    assert [e.id for e in stored] == [binary.get_id(), structured.get_id()]
    for event in stored:
        assert (event.source, event.type, event.time) == ("/orders", TYPE, T0)
        assert event.subject == 'Euro € "q" 100%'
        assert event.extensions == {"traceparent": "00-abc-01"}
        assert event.data == {"order": 7}


async def test_a_batch_is_stored_event_by_event(world: World, client: httpx.AsyncClient) -> None:
    events = [Event(type=TYPE, source="/batch", data=i) for i in range(3)]
    headers, body = to_http_batch(events)
    response = await client.post("/signed/", content=body, headers=signed(body, headers))
    assert response.status_code == 200
    assert response.json() == {"status": 200, "accepted": 3, "duplicates": 0, "shape": "batch"}
    assert [(e.id, e.data) for e in await world.stored()] == [(e.id, e.data) for e in events]


# -- authentication ----------------------------------------------------------------------------


async def test_a_bad_or_missing_signature_is_401_and_nothing_is_stored(
    world: World, client: httpx.AsyncClient
) -> None:
    headers, body = to_http(Event(type=TYPE, source="/forged", data={"a": 1}))
    good = signed(body, headers)
    tampered = await client.post("/signed/", content=body + b" ", headers=good)
    assert tampered.status_code == 401
    assert tampered.json()["error"] == "signature-no-match"
    assert tampered.json()["where"] == "webhook-signature"
    missing = await client.post("/signed/", content=body, headers=headers)
    assert missing.status_code == 401
    assert missing.json()["error"] == "signature-missing-header"
    old = dict(good, **{"webhook-timestamp": str(int(time.time()) - 3600)})
    assert (await client.post("/signed/", content=body, headers=old)).json()["error"] == (
        "signature-too-old"
    )
    assert await world.stored() == []


async def test_shared_secret_in_the_header_or_the_query(
    world: World, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    headers, body = to_http(Event(type=TYPE, source="/token", data=1))
    ok = await client.post(
        "/token/", content=body, headers={**headers, "authorization": f"Bearer {TOKEN}"}
    )
    assert ok.status_code == 200
    headers, body = to_http(Event(type=TYPE, source="/token", data=2))
    via_query = await client.post(
        "/token/", params={"access_token": TOKEN}, content=body, headers=headers
    )
    assert via_query.status_code == 200
    wrong = await client.post(
        "/token/", content=body, headers={**headers, "authorization": f"Bearer {TOKEN}x"}
    )
    assert wrong.status_code == 401
    assert wrong.json()["error"] == "token-mismatch"
    none = await client.post("/token/", content=body, headers=headers)
    assert none.json()["error"] == "token-missing"
    assert [e.data for e in await world.stored()] == [1, 2]
    server_logs = [  # the client's own log (httpx) shows the URL it was given
        r.getMessage() for r in caplog.records if r.name.startswith(("eventbus", "uvicorn"))
    ]
    assert any("token-mismatch" in line for line in server_logs)
    shown = " ".join(
        [*server_logs, wrong.text, none.text, repr(world.apps["token"]), repr(world.apps["signed"])]
    )
    for secret in (TOKEN, SECRET, SECRET.removeprefix("whsec_")):
        assert secret not in shown


# -- refused -----------------------------------------------------------------------------------


async def test_invalid_events_get_400_naming_the_attribute(
    world: World, client: httpx.AsyncClient
) -> None:
    headers, body = to_http(Event(type=TYPE, source="/bad", data=1))
    cases = {
        "ce-id": {k: v for k, v in headers.items() if k != "ce-id"},
        "ce-time": {**headers, "ce-time": "yesterday"},
        "ce-specversion": {**headers, "ce-specversion": "0.1"},
        "ce-subject": {**headers, "ce-subject": "%FF"},
    }
    for where, bad in cases.items():
        response = await client.post("/open/", content=body, headers=bad)
        assert response.status_code == 400, where
        problem = response.json()
        assert (problem["error"], problem["where"]) == ("invalid-event", where)
        assert problem["detail"]
    structured = await client.post(
        "/open/",
        content=b'{"specversion":"1.0","source":"/s","type":"t"}',
        headers={"content-type": "application/cloudevents+json"},
    )
    assert (structured.status_code, structured.json()["where"]) == (400, "id")
    batch = await client.post(
        "/open/",
        content=b'[{"specversion":"1.0","id":"1","source":"/s","type":"t","time":"x"}]',
        headers={"content-type": "application/cloudevents-batch+json"},
    )
    assert (batch.status_code, batch.json()["where"]) == (400, "[0].time")
    plain = await client.post("/open/", content=b"hello", headers={"content-type": "text/plain"})
    assert (plain.status_code, plain.json()["error"]) == (415, "unsupported-media-type")
    assert (await client.get("/open/")).status_code == 405
    assert await world.stored() == []


async def test_oversize_is_413_declared_or_streamed(
    world: World, client: httpx.AsyncClient
) -> None:
    headers, body = to_http(Event(type=TYPE, source="/big", data="x" * 4000))
    declared = await client.post("/open/", content=body, headers=headers)
    assert (declared.status_code, declared.json()["error"]) == (413, "too-large")

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: chunked transfer
        for i in range(0, len(body), 500):
            yield body[i : i + 500]

    streamed = await client.post("/open/", content=chunks(), headers=headers)
    assert (streamed.status_code, streamed.json()["error"]) == (413, "too-large")
    assert await world.stored() == []


async def test_the_abuse_protection_handshake(client: httpx.AsyncClient) -> None:
    allowed = await client.options(
        "/signed/",
        headers={"WebHook-Request-Origin": "sender.example.com", "WebHook-Request-Rate": "600"},
    )
    assert allowed.status_code == 200
    assert allowed.headers["webhook-allowed-origin"] == "sender.example.com"
    assert allowed.headers["webhook-allowed-rate"] == "120"
    assert "POST" in allowed.headers["allow"]
    other = await client.options("/signed/", headers={"WebHook-Request-Origin": "evil.example"})
    assert "webhook-allowed-origin" not in other.headers
    assert "webhook-allowed-rate" not in other.headers
    anyone = await client.options("/open/", headers={"WebHook-Request-Origin": "a.example"})
    assert (anyone.headers["webhook-allowed-origin"], anyone.headers["webhook-allowed-rate"]) == (
        "*",
        "*",
    )


# -- dedupe ------------------------------------------------------------------------------------


async def test_a_resent_delivery_is_answered_200_and_stored_once(
    world: World, client: httpx.AsyncClient
) -> None:
    event = Event(type=TYPE, source="/dup", data="once")
    headers, body = to_http(event)
    first = signed(body, headers)
    assert (await client.post("/signed/", content=body, headers=first)).json()["accepted"] == 1
    again = await client.post("/signed/", content=body, headers=first)  # the same webhook-id
    assert again.status_code == 200
    assert again.json() == {"status": 200, "accepted": 0, "duplicates": 1, "shape": "duplicate"}
    replay = await client.post("/signed/", content=body, headers=signed(body, headers))
    assert replay.json()["duplicates"] == 1  # a new webhook-id, the same source + id
    other = Event(type=TYPE, source="/dup", data="other")
    headers, body = to_http_batch([event, other, other])
    batch = await client.post("/signed/", content=body, headers=signed(body, headers))
    assert (batch.json()["accepted"], batch.json()["duplicates"]) == (1, 2)
    assert [e.data for e in await world.stored()] == ["once", "other"]


# -- 2xx only once the broker stored it --------------------------------------------------------


async def test_a_refusing_or_silent_broker_gets_503_and_the_retry_is_stored_once(
    world: World, client: httpx.AsyncClient
) -> None:
    event = Event(type=TYPE, source="/retry", data="r")
    headers, body = to_http(event)
    world.gate.mode = "fail"
    refused = await client.post("/open/", content=body, headers=headers)
    assert (refused.status_code, refused.json()["error"]) == (503, "not-stored")
    assert refused.headers["retry-after"] == "5"
    world.gate.mode = "hang"
    silent = await client.post("/open/", content=body, headers=headers)
    assert (silent.status_code, silent.json()["error"]) == (503, "publish-timeout")
    world.gate.mode = "pass"
    assert await world.stored() == []
    retried = await client.post("/open/", content=body, headers=headers)
    assert retried.json()["accepted"] == 1
    again = await client.post("/open/", content=body, headers=headers)
    assert again.json()["duplicates"] == 1
    assert [e.id for e in await world.stored()] == [event.id]


async def test_the_body_limit_stops_reading(world: World) -> None:
    """Called as an ASGI server calls it: a declared size over the limit is refused before any
    body is read, and an undeclared endless body is cut off once the limit is passed."""
    app = world.apps["open"]
    headers, _ = to_http(Event(type=TYPE, source="/endless", data=1))
    raw_headers = [(k.encode(), v.encode()) for k, v in headers.items()]
    reads = 0

    async def endless() -> dict[str, Any]:
        nonlocal reads
        reads += 1
        await asyncio.sleep(0)  # a server's receive suspends: a timeout can cut a runaway loop
        return {"type": "http.request", "body": b"x" * 512, "more_body": True}

    answers: list[dict[str, Any]] = []

    async def send(message: Any) -> None:
        answers.append(message)

    scope = {"type": "http", "method": "POST", "headers": raw_headers, "query_string": b""}
    await asyncio.wait_for(app(scope, endless, send), 10)
    assert answers[0]["status"] == 413
    assert reads == 5  # 2048 bytes allowed: the fifth chunk passes the limit
    answers.clear()
    reads = 0
    declared = [*raw_headers, (b"content-length", b"999999")]
    await app({**scope, "headers": declared}, endless, send)
    assert (answers[0]["status"], reads) == (413, 0)


async def test_as_the_top_level_app_it_opens_and_closes_its_bus() -> None:
    bus = EventBus("memory://")
    app = IngressApp(bus, auth=None)
    headers, body = to_http(Event(type=TYPE, source="/lifespan", data=1))
    async with serve_asgi(app) as url, httpx.AsyncClient(base_url=url) as http:  # no lifespan
        closed = await http.post("/", content=body, headers=headers)
        assert (closed.status_code, closed.json()["error"]) == (503, "bus-closed")
    async with serve_asgi(app, lifespan="on") as url, httpx.AsyncClient(base_url=url) as http:
        assert bus.is_open
        assert (await http.post("/", content=body, headers=headers)).status_code == 200
    assert not bus.is_open


async def test_receive_raises_typed_errors_for_other_frameworks() -> None:
    """``IngressApp.receive`` is the ASGI-free core: the same answers, as IngressError."""
    async with EventBus("memory://?max_message_bytes=300") as bus:
        store = MemoryIdempotencyStore()
        app = IngressApp(bus, auth=None, dedupe=store)
        event = Event(type=TYPE, source="/direct", data=1)
        headers, body = to_http(event)
        raw = {k: v.encode() for k, v in headers.items()}
        busy = "ingress:event:" + broker_dedupe_id(event.source, event.id)
        assert await store.claim(busy, "another-request", 30) is ClaimStatus.CLAIMED
        with pytest.raises(IngressError) as info:
            await app.receive(raw, body)
        assert (info.value.status, info.value.code, info.value.where) == (409, "in-progress", "id")
        await store.release(busy, "another-request")
        assert (await app.receive(raw, body)).accepted == 1

        big_headers, big_body = to_http(Event(type=TYPE, source="/direct", data="x" * 400))
        with pytest.raises(IngressError) as info:
            await app.receive({k: v.encode() for k, v in big_headers.items()}, big_body)
        assert (info.value.status, info.value.code) == (413, "broker-limit")

        push = b'{"message": {"data": "", "attributes": {}}, "subscription": "projects/p/subscriptions/s"}'
        no_pubsub = IngressApp(bus, auth=None, pubsub=False)
        with pytest.raises(IngressError) as info:
            await no_pubsub.receive({"content-type": b"application/json"}, push)
        assert (info.value.status, info.value.code) == (415, "unsupported-media-type")
        eventarc = Event(
            type="google.cloud.pubsub.topic.v1.messagePublished", source="/eventarc", data={}
        )
        headers, body = to_http(eventarc)
        raw = {k: v.encode() for k, v in headers.items()}
        assert (await no_pubsub.receive(raw, body)).shape == "binary"  # published as it is
        with pytest.raises(IngressError) as info:
            await app.receive(raw, body)  # pubsub=True: it must hold MessagePublishedData
        assert (info.value.status, info.value.where) == (400, "data")


async def test_repeated_and_malformed_headers_are_400(client: httpx.AsyncClient) -> None:
    headers, body = to_http(Event(type=TYPE, source="/rep", data=1))
    repeated = [*headers.items(), ("ce-id", "other")]
    response = await client.post("/open/", content=body, headers=repeated)
    assert (response.status_code, response.json()["error"]) == (400, "repeated-header")
    assert response.json()["where"] == "ce-id"
