"""Pub/Sub push (wrapped and unwrapped) and Eventarc deliveries through the HTTP ingress give the
event a pull subscriber of the Pub/Sub adapter gets for the same published message.

Messages are published to pstest by the Pub/Sub adapter (binary and structured mode, an
ordering key, a non-ASCII subject); the adapter's own pull subscription decodes them; a second,
raw subscription hands over the very messages, which are posted to the ingress in the three
shapes Google sends them in.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
from eventbus_pubsub import PubSubAdapter
from google.pubsub_v1 import types
from pstest_launcher import PstestServer
from starlette.applications import Starlette
from starlette.routing import Mount

from eventbus import (
    Event,
    EventBus,
    IngressApp,
    Middleware,
    SharedSecret,
    to_http,
)
from eventbus.testing import run, serve_asgi, wait_until

TOKEN = "push-" + "t0ken" * 4


class Published(Middleware):
    """Keeps every event the ingress publishes, as it hands it to the bus."""

    def __init__(self) -> None:
        self.events: list[Event[Any]] = []

    async def on_publish(self, event: Event[Any], call_next: Any) -> None:
        await call_next(event)
        self.events.append(event)


def wrapped(received: types.ReceivedMessage, subscription: str) -> bytes:
    message = types.PubsubMessage.to_json(received.message)
    return f'{{"message": {message}, "subscription": "{subscription}"}}'.encode()


def unwrapped(received: types.ReceivedMessage, subscription: str) -> tuple[dict[str, Any], bytes]:
    """Payload unwrapping with write_metadata: attributes as headers, metadata as x-goog-*."""
    pm = received.message
    headers = {k: pm.attributes[k] for k in pm.attributes}
    headers.update(
        {
            "x-goog-pubsub-subscription-name": subscription,
            "x-goog-pubsub-message-id": pm.message_id,
            "x-goog-pubsub-publish-time": pm.publish_time.isoformat(),
        }
    )
    if pm.ordering_key:
        headers["x-goog-pubsub-ordering-key"] = pm.ordering_key
    # Header values on the wire are bytes; httpx sends str as ASCII, so give UTF-8 bytes.
    return {k: v.encode() for k, v in headers.items()}, pm.data


def eventarc(
    received: types.ReceivedMessage, subscription: str, topic: str
) -> tuple[dict[str, Any], bytes]:
    """What Eventarc sends for a Pub/Sub message: a CloudEvent holding MessagePublishedData."""
    data = json.loads(wrapped(received, subscription))
    event = Event(
        type="google.cloud.pubsub.topic.v1.messagePublished",
        source=f"//pubsub.googleapis.com/{topic}",
        id=received.message.message_id,
        data=data,
    )
    return to_http(event)


def test_push_unwrapped_push_and_eventarc_give_what_a_pull_subscriber_gets(
    pstest: PstestServer,
) -> None:
    project = "ingress"
    channel = f"ingress.t{uuid.uuid4().hex[:8]}.orders"

    async def scenario() -> None:
        pulled: list[Event[Any]] = []

        async def pull_subscriber(event: Event[Any]) -> None:
            pulled.append(event)

        adapter = PubSubAdapter.from_url(pstest.url(project))
        await adapter.connect()
        url = pstest.url(project, message_ordering="true")
        published = Published()
        try:
            async with (
                EventBus(url) as binary,
                EventBus(url, content_mode="structured") as structured,
                EventBus("memory://", middleware=[published]) as target,
            ):
                await binary.subscribe(channel, pull_subscriber, group="pull")
                topic = f"projects/{project}/topics/{channel}"
                raw_sub = f"projects/{project}/subscriptions/raw-{uuid.uuid4().hex[:8]}"
                await adapter.clients.subscriber.create_subscription(name=raw_sub, topic=topic)
                sent = [
                    Event(type=channel, source="/shop", subject="Straße 7", data={"n": 1}),
                    Event(
                        type=channel,
                        source="/shop",
                        data=b"\x00\x01 raw",
                        extensions={"partitionkey": "cust-9", "tenant": "acme"},
                    ),
                ]
                for event in sent:
                    await binary.publish(event)
                also = Event(
                    type=channel, source="/shop", data="text", datacontenttype="text/plain"
                )
                await structured.publish(also)
                sent.append(also)
                await wait_until(lambda: len(pulled) == len(sent), timeout=20, what="pulls")

                raw: list[types.ReceivedMessage] = []
                while len(raw) < len(sent):
                    response = await adapter.clients.subscriber.pull(
                        subscription=raw_sub, max_messages=10
                    )
                    raw += list(response.received_messages)
                await adapter.clients.subscriber.acknowledge(
                    subscription=raw_sub, ack_ids=[r.ack_id for r in raw]
                )

                shapes = ("pubsub-push", "pubsub-unwrapped", "eventarc")
                apps = {shape: IngressApp(target, auth=SharedSecret(TOKEN)) for shape in shapes}
                site = Starlette(routes=[Mount(f"/{s}", app=a) for s, a in apps.items()])
                async with serve_asgi(site) as base, httpx.AsyncClient(base_url=base) as http:
                    for received in raw:
                        requests = {
                            "pubsub-push": (
                                {"content-type": "application/json"},
                                wrapped(received, raw_sub),
                            ),
                            "pubsub-unwrapped": unwrapped(received, raw_sub),
                            "eventarc": eventarc(received, raw_sub, topic),
                        }
                        for shape, (headers, body) in requests.items():
                            response = await http.post(
                                f"/{shape}/",
                                params={"access_token": TOKEN},
                                content=body,
                                headers=headers,
                            )
                            assert response.status_code == 200, response.text
                            assert response.json()["accepted"] == 1
                            assert response.json()["shape"] == shape
                assert len(published.events) == len(shapes) * len(sent)
                by_id = {e.id: e for e in pulled}
                for event in published.events:
                    assert event == by_id[event.id], event.id
                assert {e.id for e in published.events} == {e.id for e in sent}
        finally:
            await adapter.close()

    run(scenario(), timeout=120)
