"""The interop suite: official CloudEvents SDKs (Go, JavaScript, Java, Python) read what eventbus
sends and eventbus reads what they send, through real brokers (nats-server core and JetStream,
pstest, the Service Bus test broker) or, for SDKs without a binding for those brokers, through the
ce- headers binding eventbus uses on NATS (the SDKs' HTTP bindings carry the same ce- headers).

Every row runs every case of cases.py and compares every attribute and the data; the results
feed docs/interop.md (matrix.py, test_zz_matrix.py).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from cases import CASES, Case
from interop_lib import Helper, Wire, differences, wire_of
from matrix import (
    HEADERS,
    JETSTREAM,
    KAFKA,
    KNOWN,
    NATS,
    PUBSUB,
    RESULTS,
    ROWS,
    SERVICEBUS,
    Row,
)
from nats_launcher import NatsServer
from pstest_launcher import PstestServer
from sb_broker import ServiceBusTestBroker

from eventbus import Event, EventBus, Router
from eventbus._wire._bindings import ContentMode, decode, encode
from eventbus._wire._message import Message

PATTERN = "dev.eventbus.interop.>"


def _record(row: Row, outcome: dict[str, list[str]]) -> None:
    """Store the row's results and fail unless every case passed (or failed as KNOWN says)."""
    RESULTS[row.key] = {name: "; ".join(problems) for name, problems in outcome.items()}
    unexpected = []
    for name, problems in outcome.items():
        known = (row.key, name) in KNOWN
        if problems and not known:
            unexpected.append(f"{name}: {'; '.join(problems)}")
        elif known and not problems:
            unexpected.append(f"{name}: passes now; drop it from matrix.KNOWN")
    assert not unexpected, "\n".join(unexpected)


def _channel(row: Row) -> str:
    return f"interop{uuid.uuid4().hex[:8]}.{row.mode}.{row.direction}"


def _query(row: Row) -> str:
    if row.config == "default":
        return ""
    return row.config


def _with_query(url: str, query: str) -> str:
    if not query:
        return url
    return url + ("&" if "?" in url else "?") + query


# -- transports on the eventbus side -------------------------------------------------------------


class Brokers:
    def __init__(self, nats: NatsServer, pstest: PstestServer, sb: ServiceBusTestBroker) -> None:
        self.nats, self.pstest, self.sb = nats, pstest, sb

    def bus_url(self, row: Row) -> str:
        if row.broker == NATS:
            url = self.nats.url("mode=core")
        elif row.broker == JETSTREAM:
            url = self.nats.url("mode=jetstream")
        elif row.broker == PUBSUB:
            url = self.pstest.url("interop")
        else:
            from sb_helpers import sb_url

            url = sb_url(self.sb)
        return _with_query(url, _query(row))


async def _receive_all(
    url: str, channel: str, cases: tuple[Case, ...], send: Callable[[Case], Any]
) -> dict[str, Event[Any]]:
    """Subscribe eventbus to ``channel``, let ``send`` deliver every case, collect by id."""
    got: dict[str, Event[Any]] = {}
    done = asyncio.Event()

    async def handler(event: Event[Any]) -> None:
        got[event.id] = event
        if len(got) >= len(cases):
            done.set()

    async with EventBus(url, router=Router({PATTERN: channel})) as bus:
        await bus.subscribe(PATTERN, handler, channel=channel, dead_letter_channel=False)
        for case in cases:
            await asyncio.to_thread(send, case)
        with contextlib.suppress(TimeoutError):  # what did not arrive is recorded per case
            await asyncio.wait_for(done.wait(), 60)
    return got


def _compare_in(
    cases: tuple[Case, ...], got: dict[str, Event[Any]], errors: dict[str, str]
) -> dict[str, list[str]]:
    outcome: dict[str, list[str]] = {}
    for case in cases:
        if case.name in errors:
            outcome[case.name] = [f"the SDK could not send it: {errors[case.name]}"]
        elif case.event.id not in got:
            outcome[case.name] = ["eventbus did not receive it (dead-lettered or undecodable)"]
        else:
            outcome[case.name] = differences(wire_of(case.event), wire_of(got[case.event.id]))
    return outcome


# -- Go: every protocol module through its broker ------------------------------------------------

_GO_PROTO = {NATS: "nats", JETSTREAM: "jetstream", PUBSUB: "pubsub", SERVICEBUS: "amqp"}


def _go_address(brokers: Brokers, row: Row, channel: str, receiving: bool) -> tuple[str, str]:
    if row.broker in (NATS, JETSTREAM):
        return brokers.nats.url(), channel
    if row.broker == PUBSUB:
        name = f"{channel}~go" if receiving else channel
        return "", f"{brokers.pstest.host}|interop|{name}"
    url = f"amqp://{brokers.sb.host}:{brokers.sb.port}"
    return url, (f"{channel}/Subscriptions/go" if receiving else channel)


def _pubsub_subscription(brokers: Brokers, channel: str) -> None:
    from google.api_core.exceptions import AlreadyExists
    from google.cloud import pubsub_v1

    os.environ["PUBSUB_EMULATOR_HOST"] = brokers.pstest.host
    publisher, subscriber = pubsub_v1.PublisherClient(), pubsub_v1.SubscriberClient()
    topic = publisher.topic_path("interop", channel)
    with contextlib.suppress(AlreadyExists):
        publisher.create_topic(name=topic)
    subscriber.create_subscription(
        name=subscriber.subscription_path("interop", f"{channel}~go"), topic=topic
    )


async def _go_out(helper: Helper, brokers: Brokers, row: Row) -> dict[str, list[str]]:
    channel = _channel(row)
    url = brokers.bus_url(row)
    proto = _GO_PROTO[row.broker]
    outcome: dict[str, list[str]] = {}
    if row.broker == PUBSUB:
        await asyncio.to_thread(_pubsub_subscription, brokers, channel)
    elif row.broker == SERVICEBUS:
        brokers.sb.create_topic(channel)
        brokers.sb.create_subscription(channel, "go")
    async with EventBus(url, router=Router({PATTERN: channel})) as bus:
        if row.broker == JETSTREAM:  # the stream must exist before Go binds a consumer to it
            await bus.publish(Event(type="dev.eventbus.interop.warmup", source="/warmup"))
        address_url, address = _go_address(brokers, row, channel, receiving=True)
        for case in CASES:
            _, box = helper.start(
                {
                    "op": "recv",
                    "proto": proto,
                    "mode": row.mode,
                    "url": address_url,
                    "address": address,
                    "timeout": 30,
                }
            )
            ready = await asyncio.to_thread(helper.wait, box)
            assert ready.get("ready"), ready
            await bus.publish(case.event)
            answer = await asyncio.to_thread(helper.wait, box)
            if "error" in answer:
                outcome[case.name] = [f"the SDK could not read it: {answer['error']}"]
            else:
                outcome[case.name] = differences(
                    wire_of(case.event, case.uri_extensions), answer["event"]
                )
    return outcome


async def _go_in(helper: Helper, brokers: Brokers, row: Row) -> dict[str, list[str]]:
    channel = _channel(row)
    url = brokers.bus_url(row)
    proto = _GO_PROTO[row.broker]
    address_url, address = _go_address(brokers, row, channel, receiving=False)
    errors: dict[str, str] = {}

    def send(case: Case) -> None:
        answer = helper.request(
            {
                "op": "send",
                "proto": proto,
                "mode": row.mode,
                "url": address_url,
                "address": address,
                "event": wire_of(case.event, case.uri_extensions),
            }
        )
        if "error" in answer:
            errors[case.name] = answer["error"]

    got = await _receive_all(url, channel, CASES, send)
    return _compare_in(CASES, got, errors)


# -- SDKs through the ce- headers binding (their HTTP bindings) ----------------------------------


def _headers_out(helper: Helper, row: Row) -> dict[str, list[str]]:
    outcome: dict[str, list[str]] = {}
    for case in CASES:
        message = encode(case.event, "ce-headers", ContentMode(row.mode))
        answer = helper.request(
            {
                "op": "decode",
                "proto": "http",
                "headers": {k: str(v) for k, v in message.headers.items()},
                "body_base64": base64.b64encode(message.body).decode(),
            }
        )
        if "error" in answer:
            outcome[case.name] = [f"the SDK could not read it: {answer['error']}"]
        else:
            outcome[case.name] = differences(
                wire_of(case.event, case.uri_extensions), answer["event"]
            )
    return outcome


def _headers_in(helper: Helper, row: Row) -> dict[str, list[str]]:
    outcome: dict[str, list[str]] = {}
    for case in CASES:
        answer = helper.request(
            {
                "op": "encode",
                "proto": "http",
                "mode": row.mode,
                "event": wire_of(case.event, case.uri_extensions),
            }
        )
        if "error" in answer:
            outcome[case.name] = [f"the SDK could not write it: {answer['error']}"]
            continue
        # HTTP carries text: JavaScript hands over numbers and booleans as such
        headers = {
            k: v if isinstance(v, str) else json.dumps(v) for k, v in answer["headers"].items()
        }
        message = Message(headers, base64.b64decode(answer["body_base64"]))
        try:
            event = decode(message, "ce-headers")
        except Exception as exc:  # recorded as the case's result
            outcome[case.name] = [f"eventbus could not read it: {exc}"]
            continue
        outcome[case.name] = differences(wire_of(case.event), wire_of(event))
    return outcome


# -- AMQP through the Service Bus test broker, as encoded AMQP messages ---------------------------


def _raw_received(broker: ServiceBusTestBroker, entity: str) -> list[bytes]:
    with broker.namespace.lock:
        return [bytes(raw) for name, raw in broker.namespace.received if name == entity]


def _send_raw(broker: ServiceBusTestBroker, entity: str, encoded: bytes) -> None:
    """Send one encoded AMQP message to ``entity`` through the broker (a plain Proton client)."""
    from proton import Message as ProtonMessage
    from proton.utils import BlockingConnection

    message = ProtonMessage()
    message.decode(encoded)
    connection = BlockingConnection(f"{broker.host}:{broker.port}", timeout=30)
    try:
        sender = connection.create_sender(entity)
        sender.send(message)
    finally:
        connection.close()


async def _amqp_out(
    decoder: Callable[[bytes], Wire], brokers: Brokers, row: Row
) -> dict[str, list[str]]:
    channel = _channel(row)
    outcome: dict[str, list[str]] = {}
    async with EventBus(brokers.bus_url(row), router=Router({PATTERN: channel})) as bus:
        for case in CASES:
            await bus.publish(case.event)
    raws = _raw_received(brokers.sb, channel)
    assert len(raws) == len(CASES)
    prefix = (
        row.config.removeprefix("amqp_prefix=") if "amqp_prefix" in row.config else "cloudEvents:"
    )
    for case, raw in zip(CASES, raws, strict=True):
        if row.mode == "binary":  # the switch (or the default) decided the prefix
            assert prefix.encode() + b"id" in raw
        try:
            got = await asyncio.to_thread(decoder, raw)
        except Exception as exc:  # recorded as the case's result
            outcome[case.name] = [f"the SDK could not read it: {exc}"]
            continue
        outcome[case.name] = differences(wire_of(case.event, case.uri_extensions), got)
    return outcome


async def _amqp_in(
    encoder: Callable[[Case, str], bytes], brokers: Brokers, row: Row
) -> dict[str, list[str]]:
    channel = _channel(row)
    errors: dict[str, str] = {}

    def send(case: Case) -> None:
        try:
            encoded = encoder(case, row.mode)
        except Exception as exc:  # recorded as the case's result
            errors[case.name] = str(exc)
            return
        _send_raw(brokers.sb, channel, encoded)

    got = await _receive_all(brokers.bus_url(row), channel, CASES, send)
    return _compare_in(CASES, got, errors)


def _java_amqp_decoder(helper: Helper) -> Callable[[bytes], Wire]:
    def decode_raw(raw: bytes) -> Wire:
        answer = helper.request(
            {"op": "decode", "proto": "amqp", "message_base64": base64.b64encode(raw).decode()}
        )
        if "error" in answer:
            raise RuntimeError(answer["error"])
        return answer["event"]  # type: ignore[no-any-return]

    return decode_raw


def _java_amqp_encoder(helper: Helper) -> Callable[[Case, str], bytes]:
    def encode_raw(case: Case, mode: str) -> bytes:
        answer = helper.request(
            {
                "op": "encode",
                "proto": "amqp",
                "mode": mode,
                "event": wire_of(case.event, case.uri_extensions),
            }
        )
        if "error" in answer:
            raise RuntimeError(answer["error"])
        return base64.b64decode(answer["message_base64"])

    return encode_raw


# -- the rows ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def brokers(
    interop_nats: NatsServer, interop_pstest: PstestServer, interop_sb: ServiceBusTestBroker
) -> Brokers:
    return Brokers(interop_nats, interop_pstest, interop_sb)


@pytest.mark.parametrize(
    "row", [r for r in ROWS if r.language == "Go" and r.broker != KAFKA], ids=lambda r: r.key
)
async def test_go(row: Row, go_helper: Helper, brokers: Brokers) -> None:
    run = _go_out if row.direction == "out" else _go_in
    _record(row, await run(go_helper, brokers, row))


@pytest.mark.parametrize(
    "row",
    [r for r in ROWS if r.language == "JavaScript" and r.broker != KAFKA],
    ids=lambda r: r.key,
)
def test_javascript(row: Row, js_helper: Helper) -> None:
    assert row.broker == HEADERS
    _record(row, (_headers_out if row.direction == "out" else _headers_in)(js_helper, row))


@pytest.mark.parametrize(
    "row", [r for r in ROWS if r.language == "Java" and r.broker != KAFKA], ids=lambda r: r.key
)
async def test_java(row: Row, java_helper: Helper, brokers: Brokers) -> None:
    if row.broker == HEADERS:
        _record(row, (_headers_out if row.direction == "out" else _headers_in)(java_helper, row))
    elif row.direction == "out":
        _record(row, await _amqp_out(_java_amqp_decoder(java_helper), brokers, row))
    else:
        _record(row, await _amqp_in(_java_amqp_encoder(java_helper), brokers, row))


# -- Python: the official cloudevents package, in process -----------------------------------------


def _sdk_event(case: Case) -> Any:
    from cloudevents.core.v1.event import CloudEvent

    attributes: dict[str, Any] = {}
    for name, value in case.event.attributes().items():
        attributes[name] = value
    return CloudEvent(attributes=attributes, data=case.event.data)


def _wire_of_sdk(event: Any) -> Wire:
    out: Wire = {"attributes": {}}
    for name, value in event.get_attributes().items():
        if value is None:
            continue
        if hasattr(value, "isoformat"):
            from eventbus._wire._types import format_time

            out["attributes"][name] = {"type": "timestamp", "value": format_time(value)}
        elif isinstance(value, bool):
            out["attributes"][name] = {"type": "boolean", "value": "true" if value else "false"}
        elif isinstance(value, int):
            out["attributes"][name] = {"type": "integer", "value": str(value)}
        elif isinstance(value, bytes):
            out["attributes"][name] = {"type": "binary", "value": base64.b64encode(value).decode()}
        else:
            out["attributes"][name] = {"type": "string", "value": str(value)}
    data = event.get_data()
    if isinstance(data, str):
        out["data_base64"] = base64.b64encode(data.encode()).decode()
    elif isinstance(data, bytes):
        out["data_base64"] = base64.b64encode(data).decode()
    elif data is not None:  # JSON data, held as Python values
        out["data_base64"] = base64.b64encode(json.dumps(data).encode()).decode()
    return out


def _python_headers_out(row: Row) -> dict[str, list[str]]:
    from cloudevents.core.bindings import http as sdk_http
    from cloudevents.core.formats.json import JSONFormat

    outcome: dict[str, list[str]] = {}
    for case in CASES:
        message = encode(case.event, "ce-headers", ContentMode(row.mode))
        headers = {k: str(v) for k, v in message.headers.items()}
        try:
            got = sdk_http.from_http(sdk_http.HTTPMessage(headers, message.body), JSONFormat())
        except Exception as exc:  # recorded as the case's result
            outcome[case.name] = [f"the SDK could not read it: {exc}"]
            continue
        outcome[case.name] = differences(wire_of(case.event), _wire_of_sdk(got))
    return outcome


def _python_headers_in(row: Row) -> dict[str, list[str]]:
    from cloudevents.core.bindings import http as sdk_http
    from cloudevents.core.formats.json import JSONFormat

    outcome: dict[str, list[str]] = {}
    for case in CASES:
        write = sdk_http.to_structured if row.mode == "structured" else sdk_http.to_binary
        try:
            sdk_message = write(_sdk_event(case), JSONFormat())
        except Exception as exc:  # recorded as the case's result
            outcome[case.name] = [f"the SDK could not write it: {exc}"]
            continue
        try:
            event = decode(Message(dict(sdk_message.headers), sdk_message.body), "ce-headers")
        except Exception as exc:  # recorded as the case's result
            outcome[case.name] = [f"eventbus could not read it: {exc}"]
            continue
        outcome[case.name] = differences(wire_of(case.event), wire_of(event))
    return outcome


def _python_amqp_decode(raw: bytes) -> Wire:
    import cproton
    from cloudevents.core.bindings import amqp as sdk_amqp
    from cloudevents.core.formats.json import JSONFormat
    from proton import Message as ProtonMessage

    message = ProtonMessage()
    message.decode(raw)
    properties: dict[str, Any] = {}
    # proton's Message.content_type reads an absent content type as the symbol "None"
    content_type = cproton.pn_message_get_content_type(message._msg)
    if content_type is not None:
        properties["content-type"] = content_type
    body = message.body
    data = bytes(body) if isinstance(body, bytes | memoryview | bytearray) else b""
    amqp = sdk_amqp.AMQPMessage(properties, dict(message.properties or {}), data)
    return _wire_of_sdk(sdk_amqp.from_amqp(amqp, JSONFormat()))


def _python_amqp_encode(case: Case, mode: str) -> bytes:
    from cloudevents.core.bindings import amqp as sdk_amqp
    from cloudevents.core.formats.json import JSONFormat
    from proton import Message as ProtonMessage

    write = sdk_amqp.to_structured if mode == "structured" else sdk_amqp.to_binary
    amqp = write(_sdk_event(case), JSONFormat())
    message = ProtonMessage(
        body=amqp.application_data,
        properties=dict(amqp.application_properties),
        content_type=amqp.properties.get("content-type"),
    )
    return bytes(message.encode())


@pytest.mark.parametrize("row", [r for r in ROWS if r.language == "Python"], ids=lambda r: r.key)
async def test_python(row: Row, brokers: Brokers) -> None:
    if row.broker == HEADERS:
        _record(row, (_python_headers_out if row.direction == "out" else _python_headers_in)(row))
    elif row.direction == "out":
        _record(row, await _amqp_out(_python_amqp_decode, brokers, row))
    else:
        _record(row, await _amqp_in(_python_amqp_encode, brokers, row))
