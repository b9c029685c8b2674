"""Progress on stderr for long CLI operations: the dead-letter scan and the replay.

On a terminal a line is redrawn in place (at most ten times a second, and always at the end);
elsewhere (logs, CI) a few whole lines are written, so logs stay short, and the last line always
says how many and how long.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TextIO

__all__ = ["ProgressBar", "ScanProgress", "duration"]

Clock = Callable[[], float]
_REDRAW = 0.1  # seconds between redraws on a terminal


def duration(seconds: float) -> str:
    """``7s``, ``2m05s``, ``1h02m``: short and exact enough for an ETA."""
    whole = max(0, round(seconds))
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m{whole % 60:02d}s"
    return f"{whole // 3600}h{whole % 3600 // 60:02d}m"


def _rate(count: int, elapsed: float) -> str:
    return f"{count / elapsed:.1f}/s" if elapsed > 0 and count else "-/s"


class _Line:
    def __init__(self, stream: TextIO, clock: Clock) -> None:
        self.stream = stream
        self.clock = clock
        self.tty = stream.isatty()
        self.started = clock()
        self._drawn = float("-inf")

    def redraw(self, text: str, now: float, *, final: bool) -> None:
        """On a terminal: draw ``text`` over the line (throttled unless ``final``)."""
        if not final and now - self._drawn < _REDRAW:
            return
        self._drawn = now
        self.stream.write("\r\x1b[K" + text + ("\n" if final else ""))
        self.stream.flush()

    def write(self, text: str) -> None:
        self.stream.write(text + "\n")
        self.stream.flush()


class ProgressBar:
    """``replayed 37/120 [#########.....] 12.5/s ETA 7s``; when done, ``... 12.5/s in 9.6s``.

    Called as ``bar(done, total)``: once with ``done=0`` before the first item (the clock
    starts then, or when the bar is made), then after each. Off a terminal a line is written
    per tenth of the way, and the last.
    """

    def __init__(self, stream: TextIO, width: int = 30, *, clock: Clock = time.monotonic) -> None:
        self.width = width
        self._line = _Line(stream, clock)
        self._last_tenth = -1

    def text(self, done: int, total: int, elapsed: float) -> str:
        filled = self.width * done // total if total else self.width
        bar = f"replayed {done}/{total} [{'#' * filled}{'.' * (self.width - filled)}]"
        rate = _rate(done, elapsed)
        if done >= total:
            return f"{bar} {rate} in {elapsed:.1f}s"
        eta = duration((total - done) * elapsed / done) if done and elapsed > 0 else "-"
        return f"{bar} {rate} ETA {eta}"

    def __call__(self, done: int, total: int) -> None:
        line = self._line
        now = line.clock()
        if done == 0:
            line.started = now
            if not line.tty:
                return
        final = done >= total
        text = self.text(done, total, now - line.started)
        if line.tty:
            line.redraw(text, now, final=final)
            return
        tenth = 10 * done // total if total else 10
        if tenth == self._last_tenth and not final:
            return
        self._last_tenth = tenth
        line.write(text)


class ScanProgress:
    """``scanning orders.dlq: 1200 read, 850.0/s`` while dead letters are read (redrawn on a
    terminal); ``scanned 1834 dead letter(s) on orders.dlq in 2.2s`` when done, anywhere.

    Called as ``scan(count, finished)``: with the count read so far, and ``finished=True``
    once, at the end.
    """

    def __init__(self, stream: TextIO, channel: str, *, clock: Clock = time.monotonic) -> None:
        self.channel = channel
        self._line = _Line(stream, clock)

    def __call__(self, count: int, finished: bool) -> None:
        line = self._line
        now = line.clock()
        elapsed = now - line.started
        if finished:
            text = f"scanned {count} dead letter(s) on {self.channel} in {elapsed:.1f}s"
            if line.tty:
                line.redraw(text, now, final=True)
            else:
                line.write(text)
        elif line.tty:
            line.redraw(
                f"scanning {self.channel}: {count} read, {_rate(count, elapsed)}", now, final=False
            )
