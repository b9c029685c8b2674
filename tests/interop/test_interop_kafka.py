"""The interop suite's Kafka rows: eventbus's Kafka adapter against each language's official
CloudEvents Kafka binding (sdk-go protocol/kafka_sarama/v2 on IBM/sarama, io.cloudevents
cloudevents-kafka on kafka-clients, the npm cloudevents Kafka binding on kafkajs), through one
real Kafka broker (KRaft, the Kafka adapter tests' launcher) started once per session.

Every row runs every case of ``cases.KAFKA_CASES`` (the shared cases plus ``partitionkey``):

- eventbus -> SDK: eventbus publishes every case to a fresh topic, then the helper reads the
  topic's records from the oldest offset with its binding and answers each record's event and
  key; the key must be the ``partitionkey`` attribute (none without one: the Key Mapper);
- SDK -> eventbus: the helper sends every case with its binding (its Key Mapper on), eventbus
  receives them with the adapter and the events are compared.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from cases import KAFKA_CASES, Case
from interop_lib import Helper, Wire, differences, wire_of
from kafka_launcher import KafkaServer
from matrix import KAFKA, ROWS, Row
from test_interop import PATTERN, _channel, _compare_in, _receive_all, _record, _with_query

from eventbus import EventBus, Router

_HELPERS = {"Go": "go_helper", "Java": "java_helper", "JavaScript": "js_helper"}


def _bus_url(server: KafkaServer, row: Row) -> str:
    return _with_query(server.url(), "" if row.config == "default" else row.config)


def _expected_key(case: Case) -> str | None:
    key = case.event.extensions.get("partitionkey")
    return key if isinstance(key, str) else None


def _compare_out(
    row: Row, records: list[dict[str, Any]], failure: str | None
) -> dict[str, list[str]]:
    """Each case against the record the helper read for it (found by event id): the event, the
    key (the ``partitionkey`` attribute, or none) and the value (none only for an event without
    data in binary mode, binding 3.2.2)."""
    by_id: dict[str, dict[str, Any]] = {}
    errors = [failure] if failure else []
    for record in records:
        if "event" in record:
            by_id[record["event"]["attributes"]["id"]["value"]] = record
        else:
            errors.append(record.get("error", "no event"))
    outcome: dict[str, list[str]] = {}
    for case in KAFKA_CASES:
        record = by_id.get(case.event.id)
        if record is None:
            why = "; ".join(dict.fromkeys(errors)) or "no record carried it"
            outcome[case.name] = [f"the SDK could not read it: {why}"]
            continue
        event: Wire = record["event"]
        problems = differences(wire_of(case.event, case.uri_extensions), event)
        if record.get("key") != _expected_key(case):
            problems.append(f"record key: {record.get('key')!r} != {_expected_key(case)!r}")
        no_value = row.mode == "binary" and case.event.data is None
        if record.get("value_null") != no_value:
            problems.append(f"record value: {'none' if record.get('value_null') else 'present'}")
        outcome[case.name] = problems
    return outcome


async def _kafka_out(helper: Helper, server: KafkaServer, row: Row) -> dict[str, list[str]]:
    channel = _channel(row)
    async with EventBus(_bus_url(server, row), router=Router({PATTERN: channel})) as bus:
        for case in KAFKA_CASES:
            await bus.publish(case.event)
    answer = await asyncio.to_thread(
        helper.request,
        {
            "op": "recv_all",
            "proto": "kafka",
            "url": server.bootstrap,
            "address": channel,
            "count": len(KAFKA_CASES),
            "timeout": 60,
        },
        90.0,
    )
    return _compare_out(row, answer.get("records") or [], answer.get("error"))


async def _kafka_in(helper: Helper, server: KafkaServer, row: Row) -> dict[str, list[str]]:
    channel = _channel(row)
    errors: dict[str, str] = {}

    def send(case: Case) -> None:
        answer = helper.request(
            {
                "op": "send",
                "proto": "kafka",
                "mode": row.mode,
                "url": server.bootstrap,
                "address": channel,
                "event": wire_of(case.event, case.uri_extensions),
            }
        )
        if "error" in answer:
            errors[case.name] = answer["error"]

    got = await _receive_all(_bus_url(server, row), channel, KAFKA_CASES, send)
    return _compare_in(KAFKA_CASES, got, errors)


@pytest.mark.parametrize("row", [r for r in ROWS if r.broker == KAFKA], ids=lambda r: r.key)
async def test_kafka(row: Row, interop_kafka: KafkaServer, request: pytest.FixtureRequest) -> None:
    helper: Helper = request.getfixturevalue(_HELPERS[row.language])
    run = _kafka_out if row.direction == "out" else _kafka_in
    _record(row, await run(helper, interop_kafka, row))
