"""Which offset of a partition may be committed: the lowest one not yet settled.

Records are handed to the bus in offset order but settle in any order (``max_in_flight``
handlers run at once). A commit names the next record to read, so it may only move past a
record once that record *and every earlier one* settled: ``PartitionOffsets`` keeps the
unsettled offsets in order and answers the commit point.
"""

from __future__ import annotations

from collections import deque

__all__ = ["PartitionOffsets"]


class PartitionOffsets:
    """Offsets of one assigned partition handed to the bus and not yet committed past."""

    __slots__ = ("_done", "_last", "_next", "_open", "committed")

    def __init__(self) -> None:
        self._open: deque[int] = deque()  # handed over, ascending
        self._done: set[int] = set()  # settled, but an earlier one is still open
        self._next: int | None = None  # the commit point once everything open settled
        self._last = -1  # the last offset handed over
        self.committed: int | None = None  # the last commit point sent to the broker

    def __len__(self) -> int:
        """Records handed over and not settled."""
        return len(self._open) - len(self._done)

    def add(self, offset: int) -> None:
        if offset <= self._last:
            raise ValueError(f"offset {offset} handed over after {self._last}")
        self._last = offset
        self._open.append(offset)

    def settle(self, offset: int) -> None:
        """``offset`` is done (acked, moved to a retry or dead-letter topic)."""
        open_ = self._open
        if open_ and open_[0] == offset:
            open_.popleft()
            self._next = offset + 1
            done = self._done
            while open_ and open_[0] in done:
                first = open_.popleft()
                done.discard(first)
                self._next = first + 1
        elif offset in open_:
            self._done.add(offset)

    def commit_point(self) -> int | None:
        """The offset to commit now (the lowest unsettled one, or past the last settled), or
        None when nothing new can be committed."""
        point = self._open[0] if self._open else self._next
        if point is None or (self.committed is not None and point <= self.committed):
            return None
        if self._open and self._next is None:
            return None  # nothing settled yet: the group's committed offset still holds
        return point
