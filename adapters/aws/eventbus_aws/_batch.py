"""Receipt-handle batches: the deletes (acks) and give-backs of one loop iteration share calls.

``submit(handle)`` queues a receipt handle and returns a future; the batch is sent on the next
loop iteration in calls of at most 10 entries (``DeleteMessageBatch`` or
``ChangeMessageVisibilityBatch``), run concurrently. Each future resolves when its entry is done,
or fails with the entry's error, translated.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from eventbus.adapter import AdapterError
from eventbus_aws._errors import translated
from eventbus_aws._names import MAX_BATCH

__all__ = ["ReceiptBatcher"]

Send = Callable[[Sequence[dict[str, Any]]], Awaitable[Any]]


class ReceiptBatcher:
    def __init__(self, send: Send, action: str, where: str, extra: dict[str, Any]) -> None:
        self._send = send
        self._action = action
        self._where = where
        self._extra = extra
        self._pending: list[tuple[str, asyncio.Future[None]]] = []
        self._tasks: set[asyncio.Task[None]] = set()

    def submit(self, receipt: str) -> asyncio.Future[None]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        if not self._pending:
            loop.call_soon(self._flush)
        self._pending.append((receipt, future))
        return future

    def _flush(self) -> None:
        pending, self._pending = self._pending, []
        for start in range(0, len(pending), MAX_BATCH):
            task = asyncio.ensure_future(self._run(pending[start : start + MAX_BATCH]))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _run(self, chunk: list[tuple[str, asyncio.Future[None]]]) -> None:
        entries = [
            {"Id": str(i), "ReceiptHandle": r, **self._extra} for i, (r, _) in enumerate(chunk)
        ]
        try:
            with translated(f"{self._action} {len(chunk)} message(s)", self._where):
                response = await self._send(entries)
        except (AdapterError, asyncio.CancelledError) as exc:
            for _, future in chunk:
                if not future.done():
                    future.set_exception(exc)
            if isinstance(exc, asyncio.CancelledError):
                raise
            return
        failed = {f["Id"]: f for f in response.get("Failed") or []}
        for i, (_, future) in enumerate(chunk):
            if future.done():
                continue
            failure = failed.get(str(i))
            if failure is None:
                future.set_result(None)
            else:
                future.set_exception(
                    AdapterError(
                        f"{self._action} a message on {self._where}: "
                        f"{failure.get('Code', 'error')}: {failure.get('Message', '')}"
                    )
                )

    async def drain(self) -> None:
        """Send what is queued and wait for every call in flight."""
        if self._pending:
            self._flush()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
