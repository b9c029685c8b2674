"""``eventbus webhooks`` as operators run it: separate processes on NATS JetStream.

- ``deliver`` (a subprocess) exhausts an endpoint's retries against the real receiver
  (uvicorn); ``replay --list`` (another process) shows the dead letter with the last HTTP status
  and the attempt count; ``replay`` sends it again and the receiver gets it with a valid Standard
  Webhooks signature (verified with the ``standardwebhooks`` package).
- ``deliver --smtp HOST:PORT`` renders an event to mail, received by a real SMTP server
  (aiosmtpd) with a valid signature in its headers.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from smtp_inbox import Inbox, smtp_server
from standardwebhooks import Webhook
from webhook_receiver import Receiver

from eventbus import Event, EventBus

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT / "adapters/nats/tests") not in sys.path:
    sys.path.append(str(ROOT / "adapters/nats/tests"))

from nats_launcher import NatsServer  # noqa: E402

LOOPBACK = "127.0.0.0/8"


@pytest.fixture(scope="module")
def nats(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NatsServer]:
    server = NatsServer(tmp_path_factory.mktemp("nats-webhooks-cli")).start()
    try:
        yield server
    finally:
        server.stop()


def cli(*argv: str) -> tuple[int, str, str]:
    """``eventbus ARGV`` in a process of its own."""
    done = subprocess.run(
        [sys.executable, "-m", "eventbus", *argv], capture_output=True, text=True, timeout=120
    )
    return done.returncode, done.stdout, done.stderr


def add(store: str, url: str, event_type: str, *options: str) -> dict[str, Any]:
    code, out, err = cli(
        "webhooks", "add", url, "--type", event_type, "--store", store, "--allow", LOOPBACK,
        "--json", *options,
    )  # fmt: skip
    assert code == 0, err
    added: dict[str, Any] = json.loads(out)
    return added


class Delivery:
    """``eventbus webhooks deliver`` running until stopped."""

    def __init__(self, log: Path, *argv: str) -> None:
        self.log = log
        with log.open("ab") as stream:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "eventbus", "webhooks", "deliver", *argv],
                stdout=subprocess.DEVNULL,
                stderr=stream,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )

    async def ready(self) -> None:
        for _ in range(1200):
            text = await asyncio.to_thread(self.log.read_text)
            if "delivering to 1 endpoint" in text:
                return
            assert self.process.poll() is None, text
            await asyncio.sleep(0.05)
        raise AssertionError(f"the delivery process did not start: {self.log.read_text()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


async def test_exhausted_delivery_is_dead_lettered_then_replayed_by_the_cli(
    nats: NatsServer, receiver: Receiver, path: str, tmp_path: Path
) -> None:
    store = f"sqlite:///{tmp_path}/hooks.db"
    kind = f"com.shop.cli{uuid.uuid4().hex[:8]}"
    receiver.script(path, default=("status", 500, [], b"database is down"))
    endpoint = add(store, receiver.url(path), kind, "--schedule", "0.2,0.2")
    endpoint_id, secret = endpoint["id"], endpoint["secret"]
    delivery = Delivery(
        tmp_path / "deliver.log",
        *("--bus", nats.url(), "--store", store, "--allow", LOOPBACK, "--refresh", "0.5"),
    )
    try:
        await delivery.ready()
        event = Event(type=kind, source="tests/shop", data={"order": 7})
        async with EventBus(nats.url()) as bus:
            await bus.publish(event)
        await receiver.wait_posts(path, 3)  # the first attempt and the two retries
        listed: list[dict[str, Any]] = []
        for _ in range(200):
            code, out, err = await asyncio.to_thread(
                cli, "webhooks", "replay", endpoint_id, "--list", "--json",
                "--bus", nats.url(), "--store", store,
            )  # fmt: skip
            assert code == 0, err
            listed = json.loads(out)
            if listed:
                break
            await asyncio.sleep(0.1)
        (dead,) = listed
        assert dead["id"] == event.id
        assert dead["attempts"] == "3"
        assert "HTTP 500" in dead["error"] and "database is down" in dead["error"]
        assert len(receiver.posts(path)) == 3  # exhausted: no fourth attempt on its own

        receiver.script(path, default=("status", 200))
        code, out, err = await asyncio.to_thread(
            cli, "webhooks", "replay", endpoint_id, "--json", "--bus", nats.url(), "--store", store
        )
        assert code == 0, err
        assert json.loads(out) == {"replayed": 1, "skipped": 0, "failed": None}
        request = (await receiver.wait_answered(path, 4))[-1]  # the three 500s, then this
        assert request.headers["ce-id"] == event.id
        assert request.headers["webhook-id"] == receiver.posts(path)[0].headers["webhook-id"]
        Webhook(secret).verify(request.body, request.headers, json_parse=False)
        code, out, _ = await asyncio.to_thread(
            cli, "webhooks", "replay", endpoint_id, "--list", "--json",
            "--bus", nats.url(), "--store", store,
        )  # fmt: skip
        assert code == 0 and json.loads(out) == []
    finally:
        delivery.stop()


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    with smtp_server() as server:
        yield server


async def test_deliver_with_smtp_sends_an_event_as_signed_mail(
    nats: NatsServer, smtp: tuple[Inbox, int], tmp_path: Path
) -> None:
    inbox, port = smtp
    store = f"sqlite:///{tmp_path}/hooks.db"
    kind = f"com.shop.alert{uuid.uuid4().hex[:8]}"
    endpoint = add(store, "mailto:ops@example.com", kind)
    delivery = Delivery(
        tmp_path / "deliver.log",
        *("--bus", nats.url(), "--store", store, "--refresh", "0.5"),
        *("--smtp", f"127.0.0.1:{port}", "--smtp-from", "bus@example.com"),
    )
    try:
        await delivery.ready()
        event = Event(type=kind, source="tests/shop", data={"level": "high"})
        async with EventBus(nats.url()) as bus:
            await bus.publish(event)
        for _ in range(600):
            if inbox.mails:
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError(f"no mail arrived: {delivery.log.read_text()[-2000:]}")
    finally:
        delivery.stop()
    ((recipients, raw),) = inbox.mails
    assert recipients == ["ops@example.com"]
    mail = email.message_from_bytes(raw, policy=email.policy.default)
    assert mail["From"] == "bus@example.com"
    assert mail["Subject"] == f"[eventbus] {kind}"
    body = mail.get_payload(decode=True)
    assert isinstance(body, bytes)
    assert json.loads(body)["id"] == event.id
    headers = {k: str(v) for k, v in mail.items()}
    Webhook(endpoint["secret"]).verify(body, headers, json_parse=False)
