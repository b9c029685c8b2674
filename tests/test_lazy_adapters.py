"""``EventBus(url)`` imports only the adapter its URL names; ``eventbus adapters`` lists all."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("eventbus_nats", "nats", "eventbus_pubsub", "grpc", "eventbus_servicebus", "azure")
PROBE = """
import sys
from eventbus import EventBus
EventBus({url!r})
print(",".join(m for m in {heavy!r} if m in sys.modules))
"""


def imported_by(url: str) -> set[str]:
    code = PROBE.format(url=url, heavy=HEAVY)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(filter(None, out.stdout.strip().split(",")))


def test_a_memory_bus_imports_no_adapter_sdk() -> None:
    assert imported_by("memory://") == set()


def test_a_nats_bus_imports_only_the_nats_adapter() -> None:
    assert imported_by("nats://127.0.0.1:4222") == {"eventbus_nats", "nats"}


def test_the_adapters_command_still_lists_every_installed_adapter() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "eventbus", "adapters"], capture_output=True, text=True, check=True
    )
    for scheme in ("memory://", "nats://", "pubsub://", "servicebus://"):
        assert scheme in out.stdout
