"""The HTTP ingress in front of JetStream: while nats-server is down a delivery gets 503 (so the
sender retries); after the restart the retried delivery is accepted and the event is stored once."""

from __future__ import annotations

import asyncio
import base64
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx
import nats
from nats_launcher import NatsServer
from standardwebhooks import Webhook

from eventbus import (
    Event,
    EventBus,
    IngressApp,
    Message,
    SqliteIdempotencyStore,
    StandardWebhooks,
    decode,
    to_http,
)
from eventbus.testing import run, serve_asgi

SECRET = "whsec_" + base64.b64encode(b"n" * 32).decode()
FAST = "reconnect_wait=0.1&max_reconnect=-1&publish_timeout=1&publish_retries=1"


def signed(body: bytes, headers: dict[str, str], msg_id: str) -> dict[str, str]:
    """What a Standard Webhooks sender sends on each attempt: the same id, a fresh timestamp."""
    now = datetime.now(UTC)
    return {
        **headers,
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(SECRET).sign(msg_id, now, body),
    }


def test_broker_down_is_503_and_the_retry_after_restart_is_stored_once(
    start_server: Callable[..., NatsServer], tmp_path: Path
) -> None:
    server = start_server()
    channel = f"ingress.t{uuid.uuid4().hex[:8]}.orders"

    async def scenario() -> None:
        dedupe = SqliteIdempotencyStore(tmp_path / "ingress.db")
        async with EventBus(server.url(FAST + "&retention=limits")) as bus:
            app = IngressApp(bus, auth=StandardWebhooks(SECRET), dedupe=dedupe, publish_timeout=4)
            before = Event(type=channel, source="/ingress", data="before")
            during = Event(type=channel, source="/ingress", data="during")
            async with serve_asgi(app) as url, httpx.AsyncClient(base_url=url, timeout=30) as http:
                headers, body = to_http(before)
                first = await http.post("/", content=body, headers=signed(body, headers, "m-1"))
                assert first.status_code == 200, first.text

                await asyncio.to_thread(server.stop)
                headers, body = to_http(during)
                down = await http.post("/", content=body, headers=signed(body, headers, "m-2"))
                assert down.status_code == 503, down.text
                assert down.json()["error"] in (
                    "publish-unknown",
                    "broker-unavailable",
                    "publish-timeout",
                )
                assert "retry-after" in down.headers

                await asyncio.to_thread(server.start)
                answers = []
                for _ in range(30):  # the sender's retries (its backoff is not under test)
                    retry = await http.post("/", content=body, headers=signed(body, headers, "m-2"))
                    answers.append(retry.status_code)
                    if retry.status_code == 200:
                        break
                    await asyncio.sleep(0.5)
                assert answers[-1] == 200, answers
                again = await http.post("/", content=body, headers=signed(body, headers, "m-2"))
                assert again.json()["duplicates"] == 1
        await dedupe.close()
        assert await stored_ids(server, channel) == [before.id, during.id]

    run(scenario(), timeout=120)


async def stored_ids(server: NatsServer, subject: str) -> list[str]:
    """The ids of the events the stream holds for ``subject``, in stream order."""
    nc = await nats.connect(server.url())
    try:
        js = nc.jetstream()
        stream = await js.find_stream_name_by_subject(subject)
        info = await js.stream_info(stream, subjects_filter=subject)
        ids = []
        for seq in range(info.state.first_seq, info.state.last_seq + 1):
            raw = await js.get_msg(stream, seq)
            if raw.subject == subject:
                event = decode(Message(dict(raw.headers or {}), raw.data or b""), "ce-headers")
                ids.append(event.id)
        return ids
    finally:
        await nc.close()
