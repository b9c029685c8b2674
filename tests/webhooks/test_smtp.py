"""The SMTP sink against a real SMTP server (aiosmtpd), through the same delivery consumers."""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
from collections.abc import Iterator

import pytest
from smtp_inbox import Inbox, smtp_server
from standardwebhooks import Webhook

from eventbus import Event, EventBus
from eventbus.webhooks import DeliveryFailedError, SmtpSink, WebhookDelivery, Webhooks


@pytest.fixture(scope="module")
def smtp() -> Iterator[tuple[Inbox, int]]:
    with smtp_server() as server:
        yield server


async def test_events_arrive_as_signed_mail(
    smtp: tuple[Inbox, int], hooks: Webhooks, bus: EventBus
) -> None:
    inbox, port = smtp
    inbox.refuse = 1  # the first attempt is refused with a 4xx: retried
    endpoint = await hooks.add("mailto:ops@example.com", "com.shop.alert", schedule=(0.05,) * 3)
    sink = SmtpSink("127.0.0.1", port, sender="bus@example.com", password="hunter2", username="u")
    assert "hunter2" not in repr(sink)
    # No login on this test server: the credentials are only used where it offers AUTH.
    sink = SmtpSink("127.0.0.1", port, sender="bus@example.com")
    async with WebhookDelivery(bus, hooks.store, sinks=[sink]) as delivery:
        event = Event(type="com.shop.alert", source="tests/shop", data={"level": "high"})
        await bus.publish(event)
        for _ in range(400):
            if inbox.mails:
                break
            await asyncio.sleep(0.025)
        assert delivery.failed == 1
    (recipients, raw) = inbox.mails[-1]
    assert recipients == ["ops@example.com"]
    mail = email.message_from_bytes(raw, policy=email.policy.default)
    assert mail["Subject"] == "[eventbus] com.shop.alert"
    body = mail.get_payload(decode=True)
    assert json.loads(body)["id"] == event.id
    headers = {k: str(v) for k, v in mail.items()}
    Webhook(endpoint.secrets[0].reveal()).verify(body, headers, json_parse=False)


async def test_refusal_is_a_failed_attempt_with_the_smtp_code(
    smtp: tuple[Inbox, int], hooks: Webhooks
) -> None:
    inbox, port = smtp
    inbox.refuse = 1
    endpoint = await hooks.add("mailto:ops@example.com", "x.y")
    sink = SmtpSink("127.0.0.1", port)
    with pytest.raises(DeliveryFailedError) as err:
        await hooks.test(endpoint.id, sink)
    assert "SMTP 451" in str(err.value)
    await hooks.test(endpoint.id, sink)
