"""Fixtures of the interop suite: the helper processes (built once per session from their
registries, see builds.py) and the real brokers the adapters' own tests use."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
for folder in (
    "adapters/nats/tests",
    "adapters/pubsub/tests",
    "adapters/servicebus/tests",
    "adapters/kafka/tests",
):
    if str(ROOT / folder) not in sys.path:
        sys.path.append(str(ROOT / folder))

import builds  # noqa: E402
from interop_lib import Helper  # noqa: E402
from kafka_launcher import KafkaServer, KafkaUnavailable, shared_server  # noqa: E402
from nats_launcher import NatsServer  # noqa: E402
from pstest_launcher import PstestServer  # noqa: E402
from sb_broker import ServiceBusTestBroker  # noqa: E402

from eventbus.testing import unavailable  # noqa: E402


@pytest.fixture(scope="session")
def go_helper() -> Iterator[Helper]:
    helper = Helper("go", [str(builds.go_helper())])
    yield helper
    helper.close()


@pytest.fixture(scope="session")
def js_helper() -> Iterator[Helper]:
    folder = builds.js_helper()
    helper = Helper("js", ["node", str(folder / "helper.js")], cwd=str(folder))
    yield helper
    helper.close()


@pytest.fixture(scope="session")
def java_helper() -> Iterator[Helper]:
    folder = builds.java_helper()
    classpath = f"{folder / 'target' / 'classes'}:{folder / 'target' / 'lib' / '*'}"
    args = ["java", "-XX:TieredStopAtLevel=1", "-cp", classpath, "interop.Helper"]
    helper = Helper("java", args)
    yield helper
    helper.close()


@pytest.fixture(scope="session")
def interop_nats(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NatsServer]:
    server = NatsServer(tmp_path_factory.mktemp("interop-nats")).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def interop_pstest() -> Iterator[PstestServer]:
    server = PstestServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def interop_sb() -> Iterator[ServiceBusTestBroker]:
    broker = ServiceBusTestBroker(lock_duration=30.0).start()
    yield broker
    broker.stop()


@pytest.fixture(scope="session")
def interop_kafka(tmp_path_factory: pytest.TempPathFactory) -> KafkaServer:
    """The Kafka adapter tests' broker (Kafka 4.x, KRaft): one per test process, whichever suite
    asks first starts it (kafka_launcher.shared_server)."""
    try:
        return shared_server(lambda: tmp_path_factory.mktemp("kafka"))
    except KafkaUnavailable as exc:
        unavailable(str(exc))  # fails under CI, skips elsewhere
        raise
