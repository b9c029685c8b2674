"""Dead-letter tooling and group commands, checked through the CLI against any adapter.

The memory, NATS, Pub/Sub and Service Bus tests run the same scenarios on their broker (each
adds its own checks of broker state): listing is a read that leaves no trace, replay is a move
that refuses a target which would drop what it is sent, read-only commands create nothing,
``groups`` lists and deletes consumer groups, and a structured-mode dead letter that is not a
valid CloudEvent keeps its reason where the tooling reads it.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from eventbus._adapter._contract import BrowsingAdapter, GroupAdminAdapter, GroupInfo
from eventbus._adapter._plugins import create_adapter
from eventbus._bus._eventbus import EventBus
from eventbus._bus._retry import RetryPolicy
from eventbus._bus._router import Router
from eventbus._cli._main import main
from eventbus._wire._event import Event
from eventbus._wire._message import Message
from eventbus.testing._conformance import run, wait_until

__all__ = ["Cli", "DeadLetterToolingChecks"]

_SELECTED = re.compile(r"(\d+) dead letter\(s\) selected, (\d+) scanned")


@dataclass
class Cli:
    """One ``eventbus`` command run in this process: exit code, stdout, stderr."""

    code: int
    out: str
    err: str

    @property
    def selected(self) -> int:
        match = _SELECTED.search(self.err)
        assert match is not None, self.err
        return int(match[1])


def cli(*args: str) -> Cli:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return Cli(code, out.getvalue(), err.getvalue())


@dataclass
class DeadLetterToolingChecks:
    """Scenarios on fresh channels of ``url`` (``dead_letters`` made by :meth:`fill`)."""

    url: str
    dead_letters: int = 300
    timeout: float = 120.0
    tag: str = field(default_factory=lambda: uuid.uuid4().hex[:8])

    @property
    def root(self) -> str:
        return f"dlqt{self.tag}"

    @property
    def channel(self) -> str:
        return f"{self.root}.orders"

    @property
    def target(self) -> str:
        """A channel with the durable group ``audit`` (made by :meth:`fill`)."""
        return f"{self.root}.audit"

    @property
    def nowhere(self) -> str:
        """A channel nobody subscribes to."""
        return f"{self.root}.nowhere"

    @property
    def typo(self) -> str:
        """A channel never used (under another first token)."""
        return f"typo{self.tag}.orders"

    def _router(self) -> Router:
        return Router(
            {f"{self.root}.order.>": self.channel, f"{self.root}.garbage.>": self.garbage}
        )

    @property
    def garbage(self) -> str:
        return f"{self.root}.garbage"

    # -- broker state ---------------------------------------------------------------------------

    def adapter_call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        async def call() -> Any:
            adapter = create_adapter(self.url)
            await adapter.connect()
            try:
                return await getattr(adapter, method)(*args, **kwargs)
            finally:
                await adapter.close()

        return run(call(), self.timeout)

    def browse_count(self, channel: str, group: str) -> int:
        found = self.adapter_call("browse", channel, group, limit=100_000)
        return len(found)

    def groups(self, channel: str | None = None) -> list[GroupInfo]:
        return list(self.adapter_call("list_groups", channel))

    # -- scenarios ------------------------------------------------------------------------------

    def fill(self) -> None:
        """``dead_letters`` dead letters on the channel (the group ``worker`` fails them all),
        and the durable group ``audit`` on the target channel."""
        count = self.dead_letters

        async def scenario() -> None:
            async def fail(event: Event[Any]) -> None:
                raise ValueError(f"cannot process {event.id}")

            async def keep(event: Event[Any]) -> None:
                raise AssertionError("the audit group is only there to keep events")

            async with EventBus(self.url, router=self._router(), retry=RetryPolicy.never()) as bus:
                sub = await bus.subscribe(f"{self.root}.order.>", fail, group="worker")
                await bus.subscribe(
                    f"{self.root}.audited", keep, group="audit", channel=self.target
                )
                events: list[Event[Any]] = [
                    Event(type=f"{self.root}.order.placed", source="/dlq-checks", id=f"e{i:05d}")
                    for i in range(count)
                ]
                await bus.publish_many(events)
                await wait_until(
                    lambda: sub.stats.dead_lettered >= count,
                    timeout=self.timeout,
                    what=f"{count} dead letters",
                )

        run(scenario(), self.timeout * 2)

    def list_count(self, channel: str | None = None) -> int:
        result = cli("dlq", "list", self.url, channel or self.channel, "--idle", "0.5")
        assert result.code == 0, result.err
        return result.selected

    def check_list_is_a_read(self, times: int = 3) -> list[int]:
        """Consecutive lists: the counts (each the same)."""
        return [self.list_count() for _ in range(times)]

    def replay(self, *args: str) -> Cli:
        return cli("dlq", "replay", self.url, self.channel, "--idle", "0.5", *args)

    def structured_garbage(self) -> Cli:
        """Publish a structured-mode JSON body that is not a CloudEvent to a consumed channel;
        return ``dlq list --reason decode-error`` of that channel."""

        async def scenario() -> None:
            async def never(event: Event[Any]) -> None:
                raise AssertionError("not a valid event: must not reach the handler")

            async with EventBus(self.url, router=self._router(), retry=RetryPolicy.never()) as bus:
                sub = await bus.subscribe(f"{self.root}.garbage.>", never, group="worker")
                garbage = Message(
                    {"content-type": "application/cloudevents+json"},
                    json.dumps({"specversion": "1.0", "id": "junk-1", "note": "no type"}).encode(),
                )
                await bus.adapter.publish(self.garbage, [garbage])
                await wait_until(
                    lambda: sub.stats.dead_lettered >= 1, timeout=self.timeout, what="dead letter"
                )

        run(scenario(), self.timeout)
        return cli("dlq", "list", self.url, self.garbage, "--reason", "decode-error")

    def tail_with_group(self, group: str) -> Cli:
        return cli("tail", self.url, f"{self.root}.tailed", "--group", group, "--timeout", "0.5")

    def supports_protocols(self) -> bool:
        adapter = create_adapter(self.url)
        return isinstance(adapter, BrowsingAdapter) and isinstance(adapter, GroupAdminAdapter)
