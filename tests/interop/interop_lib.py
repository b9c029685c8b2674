"""What the interop tests share: the helper processes, the cases' wire form, the comparison.

A helper is one long-lived process per language reading requests as JSON lines on stdin and
answering with JSON lines on stdout (``{"id": n, ...}``); a reader thread hands each answer to
whoever waits for that id, so "recv" requests (answered twice: ready, then the event) can run
while others are sent.

Events travel between Python and the helpers in a neutral form: ``{"attributes": {name: {"type":
T, "value": canonical string}}, "data_base64": ...}`` (no ``data_base64``: no data). Two events
are the same when every attribute's canonical string is equal (timestamps as instants, to the
microsecond) and the data bytes are equal (JSON data as JSON values).
"""

from __future__ import annotations

import base64
import json
import queue
import subprocess
import threading
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from eventbus import Event
from eventbus._wire._data import encode_data
from eventbus._wire._types import format_time, parse_time, to_canonical

Wire = dict[str, Any]


class Helper:
    """One helper process: ``request()`` sends a request and returns its (first) answer."""

    def __init__(self, name: str, args: list[str], cwd: str | None = None) -> None:
        self.name = name
        self.process = subprocess.Popen(
            args,
            cwd=cwd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            bufsize=1,
        )
        self._answers: dict[int, queue.Queue[Wire]] = {}
        self._lock = threading.Lock()
        self._next = 1
        self._ready: queue.Queue[Wire] = queue.Queue()
        self._answers[0] = self._ready
        self.stderr: list[str] = []
        threading.Thread(target=self._read, name=f"interop-{name}", daemon=True).start()
        threading.Thread(target=self._drain, name=f"interop-{name}-err", daemon=True).start()
        first = self._get(self._ready, 120.0)
        if not first.get("ready"):
            raise RuntimeError(f"{name} helper did not start: {first}")

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            try:
                answer = json.loads(line)
            except ValueError:
                continue
            with self._lock:
                box = self._answers.get(answer.get("id"))
            if box is not None:
                box.put(answer)
        with self._lock:
            boxes = list(self._answers.values())
        for box in boxes:
            box.put({"error": f"{self.name} helper exited"})

    def _drain(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.stderr.append(line)
            del self.stderr[:-200]

    def _get(self, box: queue.Queue[Wire], timeout: float) -> Wire:
        try:
            return box.get(timeout=timeout)
        except queue.Empty:
            raise TimeoutError(
                f"{self.name} helper did not answer in {timeout}s: {''.join(self.stderr)[-3000:]}"
            ) from None

    def start(self, request: Wire) -> tuple[int, queue.Queue[Wire]]:
        with self._lock:
            rid = self._next
            self._next += 1
            box: queue.Queue[Wire] = queue.Queue()
            self._answers[rid] = box
        assert self.process.stdin is not None
        try:
            self.process.stdin.write(json.dumps({**request, "id": rid}) + "\n")
            self.process.stdin.flush()
        except BrokenPipeError:
            raise RuntimeError(
                f"{self.name} helper exited: {''.join(self.stderr)[-3000:]}"
            ) from None
        return rid, box

    def wait(self, box: queue.Queue[Wire], timeout: float = 60.0) -> Wire:
        return self._get(box, timeout)

    def request(self, request: Wire, timeout: float = 60.0) -> Wire:
        _, box = self.start(request)
        return self._get(box, timeout)

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()


# -- the neutral wire form -----------------------------------------------------------------------


def _typed(value: Any) -> dict[str, str]:
    if isinstance(value, bool):
        return {"type": "boolean", "value": to_canonical(value)}
    if isinstance(value, int):
        return {"type": "integer", "value": to_canonical(value)}
    if isinstance(value, bytes):
        return {"type": "binary", "value": to_canonical(value)}
    if isinstance(value, datetime):
        return {"type": "timestamp", "value": format_time(value)}
    return {"type": "string", "value": str(value)}


def wire_of(event: Event[Any], uri_extensions: Mapping[str, str] = {}) -> Wire:
    """``event`` in the neutral form (``uri_extensions``: extension name -> uri/urireference)."""
    attributes = {name: _typed(value) for name, value in event.attributes().items()}
    for name, kind in uri_extensions.items():
        if name in attributes:
            attributes[name]["type"] = kind
    out: Wire = {"attributes": attributes}
    if event.data is not None:
        raw = encode_data(event.data, event.datacontenttype)
        out["data_base64"] = base64.b64encode(raw).decode("ascii")
    return out


def _is_json(ctype: str | None) -> bool:
    media = (ctype or "application/json").split(";", 1)[0].strip().lower()
    return media.endswith("/json") or media.endswith("+json")


def _canonical(entry: Mapping[str, str], timestamp: bool) -> Any:
    value = entry["value"]
    if timestamp:
        try:
            return parse_time(value)
        except ValueError:
            return value
    return value


def differences(expected: Wire, got: Wire) -> list[str]:
    """What differs between two events in the neutral form (empty: the same event)."""
    problems: list[str] = []
    want, have = expected["attributes"], got["attributes"]
    for name in sorted(want.keys() | have.keys()):
        if name not in have:
            problems.append(f"{name}: missing (expected {want[name]['value']!r})")
        elif name not in want:
            problems.append(f"{name}: unexpected {have[name]['value']!r}")
        elif _canonical(want[name], stamp := want[name]["type"] == "timestamp") != _canonical(
            have[name], stamp
        ):
            problems.append(f"{name}: {have[name]['value']!r} != {want[name]['value']!r}")
    wdata, hdata = expected.get("data_base64"), got.get("data_base64")
    if (wdata is None) != (hdata is None):
        problems.append(f"data: {'present' if hdata is not None else 'missing'}")
    elif wdata is not None and hdata is not None:
        a, b = base64.b64decode(wdata), base64.b64decode(hdata)
        ctype = want.get("datacontenttype", {}).get("value")
        if _is_json(ctype):
            try:
                same = json.loads(a) == json.loads(b)
            except ValueError:
                same = a == b
        else:
            same = a == b
        if not same:
            problems.append(f"data: {b[:60]!r} != {a[:60]!r}")
    return problems
