"""Starts a real Apache Kafka 4.x broker (KRaft mode, one node) for the tests and benchmarks.

``fetch_kafka()`` puts the broker's jars (Maven Central ``org.apache.kafka:kafka_2.13`` and its
dependencies, see ``kafka-server/pom.xml``) into ``kafka-server/build/lib`` with ``mvn`` the
first time (about a minute; later runs reuse them). ``KafkaServer`` formats a temporary log
directory with a fresh cluster id (``kafka.tools.StorageTool format``, what ``kafka-storage.sh``
runs), then starts ``kafka.Kafka`` as broker and controller on free ports with the machine's
Java 17. ``sasl_users`` adds a SASL_PLAINTEXT listener with PLAIN and SCRAM-SHA-256 users.
"""

from __future__ import annotations

import atexit
import base64
import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

__all__ = [
    "KAFKA_DIR",
    "KafkaServer",
    "KafkaUnavailable",
    "fetch_kafka",
    "free_port",
    "shared_server",
]

KAFKA_DIR = Path(__file__).resolve().parent / "kafka-server"
LIB = KAFKA_DIR / "build" / "lib"
_READY = KAFKA_DIR / "build" / "lib.ready"
#: Not Kafka's default (1048588), so the tests see the adapter read the broker's own limit.
MESSAGE_MAX_BYTES = 600_000
_JVM = ["-Xms128m", "-Xmx768m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xshare:auto"]


class KafkaUnavailable(RuntimeError):
    """Java or Maven is missing, or fetching the broker's jars failed."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise KafkaUnavailable(f"{name} is not installed (Debian: openjdk-17-jre-headless, maven)")
    return found


def fetch_kafka() -> Path:
    """The folder of the broker's jars, fetched with Maven when missing or older than the pom."""
    pom = KAFKA_DIR / "pom.xml"
    if _READY.exists() and _READY.stat().st_mtime >= pom.stat().st_mtime:
        return LIB
    mvn = _tool("mvn")
    partial = KAFKA_DIR / "build" / f"lib.{os.getpid()}.tmp"
    shutil.rmtree(partial, ignore_errors=True)
    result = subprocess.run(
        [mvn, "-B", "-q", "dependency:copy-dependencies", f"-DoutputDirectory={partial}",
         "-DincludeScope=runtime"],
        cwd=KAFKA_DIR, capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    if result.returncode != 0:
        shutil.rmtree(partial, ignore_errors=True)
        raise KafkaUnavailable(
            f"mvn could not fetch Kafka:\n{(result.stdout + result.stderr)[-4000:]}"
        )
    shutil.rmtree(LIB, ignore_errors=True)
    partial.replace(LIB)
    _READY.touch()
    return LIB


def _cluster_id() -> str:
    return base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")


class KafkaServer:
    """One single-node KRaft broker on 127.0.0.1. ``restart()`` keeps the ports and the data."""

    def __init__(self, workdir: Path, *, sasl_users: dict[str, str] | None = None) -> None:
        self.java = _tool("java")
        self.lib = fetch_kafka()
        self.workdir = workdir
        self.port = free_port()
        self.controller_port = free_port()
        self.sasl_port = free_port() if sasl_users else None
        self.sasl_users = dict(sasl_users or {})
        self.message_max_bytes = MESSAGE_MAX_BYTES
        self.data = workdir / "data"
        self.properties = workdir / "server.properties"
        self.log_file = workdir / "server.log"
        self.process: subprocess.Popen[bytes] | None = None
        self._write_properties()
        self._format()

    @classmethod
    def running(cls, bootstrap: str) -> KafkaServer:
        """A broker someone else started (``host:port``): nothing to start or stop."""
        server = cls.__new__(cls)
        port = bootstrap.rpartition(":")[2]
        server.port, server.process, server.sasl_port = int(port), None, None
        server.message_max_bytes = MESSAGE_MAX_BYTES
        return server

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def url(self, query: str = "") -> str:
        return f"kafka://{self.bootstrap}" + (f"?{query}" if query else "")

    def sasl_url(self, user: str, password: str, mechanism: str = "PLAIN", query: str = "") -> str:
        """A URL for the SASL_PLAINTEXT listener (started with ``sasl_users``)."""
        extra = f"&{query}" if query else ""
        return (
            f"kafka://{quote(user)}:{quote(password)}@127.0.0.1:{self.sasl_port}"
            f"?sasl_mechanism={mechanism}{extra}"
        )

    def _write_properties(self) -> None:
        listeners = [f"PLAINTEXT://127.0.0.1:{self.port}"]
        protocols = ["PLAINTEXT:PLAINTEXT", "CONTROLLER:PLAINTEXT"]
        extra: list[str] = []
        if self.sasl_port is not None:
            listeners.append(f"SASL_PLAINTEXT://127.0.0.1:{self.sasl_port}")
            protocols.append("SASL_PLAINTEXT:SASL_PLAINTEXT")
            users = " ".join(f'user_{u}="{p}"' for u, p in self.sasl_users.items())
            plain = f"org.apache.kafka.common.security.plain.PlainLoginModule required {users};"
            scram = "org.apache.kafka.common.security.scram.ScramLoginModule required;"
            extra += [
                "sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256",
                f"listener.name.sasl_plaintext.plain.sasl.jaas.config={plain}",
                f"listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config={scram}",
            ]
        self.properties.write_text(
            "\n".join(
                [
                    "process.roles=broker,controller",
                    "node.id=1",
                    f"controller.quorum.voters=1@127.0.0.1:{self.controller_port}",
                    f"listeners={','.join(listeners)},CONTROLLER://127.0.0.1:{self.controller_port}",
                    f"advertised.listeners={','.join(listeners)}",
                    "controller.listener.names=CONTROLLER",
                    f"listener.security.protocol.map={','.join(protocols)}",
                    "inter.broker.listener.name=PLAINTEXT",
                    f"log.dirs={self.data}",
                    "num.partitions=1",
                    f"message.max.bytes={self.message_max_bytes}",
                    "offsets.topic.replication.factor=1",
                    "offsets.topic.num.partitions=4",
                    "transaction.state.log.replication.factor=1",
                    "transaction.state.log.min.isr=1",
                    "transaction.state.log.num.partitions=2",
                    "share.coordinator.state.topic.replication.factor=1",
                    "share.coordinator.state.topic.min.isr=1",
                    "group.initial.rebalance.delay.ms=0",
                    # One broker serves a whole test session on a shared, often overloaded
                    # machine: a starved JVM that misses its own controller's heartbeat window
                    # (9 s by default) is fenced, and every partition loses its leader.
                    "broker.session.timeout.ms=60000",
                    "broker.heartbeat.interval.ms=3000",
                    "auto.create.topics.enable=false",
                    *extra,
                    "",
                ]
            )
        )

    def _format(self) -> None:
        args = [self.java, *_JVM, "-cp", f"{self.lib}/*", "kafka.tools.StorageTool", "format",
                f"--cluster-id={_cluster_id()}", "-c", str(self.properties)]  # fmt: skip
        for user, password in self.sasl_users.items():  # SCRAM credentials live in the metadata
            args += ["--add-scram", f"SCRAM-SHA-256=[name={user},password={password}]"]
        result = subprocess.run(args, capture_output=True, text=True, timeout=300, check=False)
        if result.returncode != 0:
            raise KafkaUnavailable(f"kafka-storage format failed:\n{result.stderr[-3000:]}")

    def start(self, timeout: float = 180.0) -> KafkaServer:
        log = self.log_file.open("ab")
        self.process = subprocess.Popen(
            [self.java, *_JVM, f"-Dkafka.logs.dir={self.workdir}", "-cp", f"{self.lib}/*",
             "kafka.Kafka", str(self.properties)],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )  # fmt: skip
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise KafkaUnavailable(f"the Kafka broker exited:\n{self._tail()}")
            if b"Kafka Server started" in self.log_file.read_bytes()[-200_000:]:
                return self
            time.sleep(0.2)
        self.stop(kill=True)
        raise KafkaUnavailable(
            f"the Kafka broker did not start in {timeout:.0f} s:\n{self._tail()}"
        )

    def _tail(self) -> str:
        return self.log_file.read_text(errors="replace")[-3000:]

    def stop(self, kill: bool = False) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        if kill:
            process.kill()
        else:
            process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


_SHARED: list[KafkaServer] = []


def shared_server(workdir: Callable[[], Path]) -> KafkaServer:
    """The test process's one plain broker, shared by the Kafka adapter tests and the interop
    suite: started on first use in ``workdir()``, stopped when the process exits (or, with
    ``EVENTBUS_KAFKA_BOOTSTRAP=host:port`` set while developing, a broker already running)."""
    if not _SHARED:
        running = os.environ.get("EVENTBUS_KAFKA_BOOTSTRAP")
        if running:
            _SHARED.append(KafkaServer.running(running))
        else:
            server = KafkaServer(workdir()).start()
            atexit.register(server.stop)
            _SHARED.append(server)
    return _SHARED[0]
