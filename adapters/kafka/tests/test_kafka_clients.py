"""Clients are destroyed on the adapter's reaper thread, never on one of librdkafka's own threads.

confluent-kafka completes admin futures on the client's background thread, so Python code (and
with it the cyclic garbage collector) runs there. A client collected there used to be destroyed
there, which aborts the interpreter. Each scenario runs in a child process so that the failure
it guards against (an abort) is a red test, not a dead test run.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

from kafka_launcher import KafkaServer

_PRELUDE = """
import asyncio, gc, sys, threading, time, weakref
from confluent_kafka.admin import AdminClient
from eventbus import EventBus, BrokerConnectionError
from eventbus_kafka import KafkaAdapter
from eventbus_kafka._admin import Admin

BOOTSTRAP = sys.argv[1]
ended: list[str] = []

def watch(client):
    return weakref.ref(client, lambda _ref: ended.append(threading.current_thread().name))

def wait_ended():
    deadline = time.monotonic() + 30
    while not ended and time.monotonic() < deadline:
        time.sleep(0.05)
"""

# The garbage collector runs on the client's own background thread (a done callback of one of
# its futures) and finds the helper that owned the client, dropped in a cycle meanwhile.
_COLLECTED_ON_ITS_OWN_THREAD = """
adapter = KafkaAdapter.from_url(f"kafka://{BOOTSTRAP}")
admin = Admin(adapter.config, str)
client = admin.client
ref = watch(client)
future = client.list_consumer_groups()
admin.me = admin  # a cycle: only the collector frees it
gc.disable()
del admin, client
future.add_done_callback(lambda _f: gc.collect())
future.result(timeout=30)
wait_ended()
print("ended on", ended)
"""

# A connection that fails hands its client to the reaper, which destroys it as soon as whoever
# holds the traceback (here: the kept error) lets go, even when only the collector frees that.
_FAILED_CONNECT = """
import os

def librdkafka_threads():
    names = []
    for task in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{task}/comm") as comm:
                names.append(comm.read().strip())
        except FileNotFoundError:
            pass
    return [n for n in names if n.startswith("rdk:")]

async def scenario() -> BaseException:
    try:
        async with EventBus("kafka://127.0.0.1:1?connect_timeout=1"):
            pass
    except BrokerConnectionError as exc:
        return exc
    raise AssertionError("connected to nothing")

gc.disable()
error = asyncio.run(scenario())  # kept, with its traceback's frames holding the client
(client,) = [o for o in gc.get_objects() if type(o) is AdminClient]
ref = watch(client)
del client
assert librdkafka_threads(), "the client is still held by the traceback"
del error
gc.collect()  # on the main thread: the traceback's cycles go, the client's last holder is the reaper
wait_ended()
deadline = time.monotonic() + 30
while librdkafka_threads() and time.monotonic() < deadline:
    time.sleep(0.05)
print("ended on", ended, "left", librdkafka_threads())
"""


def _run(kafka_server: KafkaServer, body: str) -> str:
    code = textwrap.dedent(_PRELUDE) + textwrap.dedent(body)
    done = subprocess.run(
        [sys.executable, "-c", code, kafka_server.bootstrap],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, f"exit {done.returncode}:\n{done.stdout}\n{done.stderr[-3000:]}"
    return done.stdout


def test_a_client_collected_on_its_own_librdkafka_thread_is_destroyed_on_the_reaper(
    kafka_server: KafkaServer,
) -> None:
    out = _run(kafka_server, _COLLECTED_ON_ITS_OWN_THREAD)
    assert "ended on ['eventbus-kafka-reaper']" in out


def test_a_failed_connect_hands_its_client_to_the_reaper(kafka_server: KafkaServer) -> None:
    out = _run(kafka_server, _FAILED_CONNECT)
    assert "ended on ['eventbus-kafka-reaper'] left []" in out
