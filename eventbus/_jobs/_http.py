"""``JobsApp``: the HTTP front of durable jobs as a plain ASGI 3 application (no framework).

- ``POST /jobs/{type}`` (JSON body = the event's data; ``Idempotency-Key`` header; optional
  ``deadline`` (seconds) and ``callback`` query parameters) -> ``202 Accepted``,
  ``Location: /jobs/{id}``, ``Retry-After``, the status as JSON;
- ``GET /jobs/{id}`` -> the status (``200``, with ``Retry-After`` while not final), or
  ``303 See Other`` to ``/jobs/{id}/result`` once ``succeeded``;
- ``GET /jobs/{id}/result`` -> the result (``409`` while the job has none);
- ``DELETE /jobs/{id}`` -> cancel (``200`` cancelled, ``409`` already final);
- ``GET /jobs?state=&type=&limit=`` -> the newest jobs.
Errors are JSON objects ``{"error": ...}`` with 400, 404, 405, 409, 413 or 503.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any
from urllib.parse import parse_qs, unquote

import msgspec

from eventbus._errors import ConfigurationError, EventBusError, InvalidEventError
from eventbus._jobs._errors import JobConflictError, JobNotFoundError
from eventbus._jobs._jobs import Jobs, cancel_step
from eventbus._jobs._model import JobState, JobStatus, public
from eventbus._wire._event import Event

__all__ = ["JobsApp"]

log = logging.getLogger("eventbus.jobs")
Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


class _HttpError(Exception):
    def __init__(self, status: int, message: str, headers: Iterable[tuple[str, str]] = ()) -> None:
        super().__init__(message)
        self.status = status
        self.headers = list(headers)


class JobsApp:
    """Serve ``jobs`` over HTTP (mount it with any ASGI server: ``uvicorn.run(JobsApp(jobs))``).

    ``types``: the job types clients may submit (None: any valid event type);
    ``retry_after``: seconds a client should wait before polling again; ``source``: the
    CloudEvents source of submitted events; ``max_body``: the largest request body in bytes.
    """

    def __init__(
        self,
        jobs: Jobs,
        *,
        types: Iterable[str] | None = None,
        retry_after: int = 1,
        source: str = "urn:eventbus:jobs:http",
        max_body: int = 1 << 20,
    ) -> None:
        if not isinstance(jobs, Jobs):
            raise ConfigurationError(f"JobsApp needs a Jobs, got {type(jobs).__name__}")
        if isinstance(retry_after, bool) or not isinstance(retry_after, int) or retry_after < 0:
            raise ConfigurationError(f"retry_after must be an int >= 0, got {retry_after!r}")
        self._jobs = jobs
        self._types = None if types is None else frozenset(types)
        self._retry_after = str(retry_after)
        self._source = source
        self._max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        base = scope.get("root_path", "")
        try:
            status, body, headers = await self._route(scope, receive, base)
        except _HttpError as exc:
            status, body, headers = exc.status, {"error": str(exc)}, exc.headers
        except JobNotFoundError as exc:
            status, body, headers = 404, {"error": str(exc)}, []
        except EventBusError as exc:
            log.warning("eventbus jobs http: %s", exc)
            status, body, headers = 503, {"error": f"{type(exc).__name__}: {exc}"}, []
        payload = json.dumps(body).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(payload)).encode()),
                    *((k.encode("latin-1"), v.encode("latin-1")) for k, v in headers),
                ],
            }
        )
        await send({"type": "http.response.body", "body": payload})

    async def _route(
        self, scope: Scope, receive: Receive, base: str
    ) -> tuple[int, Any, list[tuple[str, str]]]:
        method: str = scope["method"]
        parts = [unquote(p) for p in scope["path"].strip("/").split("/")]
        query = {k: v[-1] for k, v in parse_qs(scope.get("query_string", b"").decode()).items()}
        if parts[0] != "jobs" or len(parts) > 3:
            raise _HttpError(404, f"no such resource: {scope['path']}")
        if len(parts) == 1:
            _allow(method, "GET")
            return 200, await self._list(query), []
        if len(parts) == 3:
            if parts[2] != "result":
                raise _HttpError(404, f"no such resource: {scope['path']}")
            _allow(method, "GET")
            return await self._result(parts[1])
        if method == "POST":
            return await self._submit(parts[1], scope, receive, query, base)
        if method == "DELETE":
            status, changed = await self._jobs._change(parts[1], cancel_step)
            return (200 if changed else 409), public(status), []
        _allow(method, "GET", "POST", "DELETE")
        status = await self._status(parts[1])
        if status.state is JobState.SUCCEEDED:
            return 303, public(status), [("location", f"{base}/jobs/{status.id}/result")]
        return 200, public(status), self._again(status)

    def _again(self, status: JobStatus) -> list[tuple[str, str]]:
        return [] if status.final else [("retry-after", self._retry_after)]

    async def _status(self, job_id: str) -> JobStatus:
        try:
            return await self._jobs.status(job_id)
        except JobNotFoundError:
            raise _HttpError(404, f"no job {job_id!r}") from None

    async def _result(self, job_id: str) -> tuple[int, Any, list[tuple[str, str]]]:
        status = await self._status(job_id)
        if status.state is not JobState.SUCCEEDED:
            raise _HttpError(
                409, f"job {job_id} is {status.state.value}: it has no result", self._again(status)
            )
        return 200, status.result, []

    async def _list(self, query: dict[str, str]) -> list[dict[str, Any]]:
        try:
            limit = int(query.get("limit", "100"))
            found = await self._jobs.list(
                state=query.get("state"), type=query.get("type"), limit=limit
            )
        except (ValueError, ConfigurationError) as exc:
            raise _HttpError(400, str(exc)) from None
        return [public(s) for s in found]

    async def _submit(
        self, kind: str, scope: Scope, receive: Receive, query: dict[str, str], base: str
    ) -> tuple[int, Any, list[tuple[str, str]]]:
        if self._types is not None and kind not in self._types:
            raise _HttpError(404, f"no job type {kind!r} here")
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        body = await self._body(receive, headers)
        try:
            data = msgspec.json.decode(body) if body else None
        except msgspec.DecodeError as exc:
            raise _HttpError(400, f"the body is not JSON: {exc}") from None
        try:
            deadline = float(query["deadline"]) if "deadline" in query else None
            event: Event[Any] = Event(type=kind, source=self._source, data=data)
            status = await self._jobs.submit(
                event,
                key=headers.get("idempotency-key"),
                deadline=deadline,
                callback=query.get("callback"),
            )
        except JobConflictError as exc:
            raise _HttpError(409, str(exc)) from None
        except (ValueError, ConfigurationError, InvalidEventError) as exc:
            raise _HttpError(400, str(exc)) from None
        location = f"{base}/jobs/{status.id}"
        return 202, public(status), [("location", location), ("retry-after", self._retry_after)]

    async def _body(self, receive: Receive, headers: dict[str, str]) -> bytes:
        ctype = headers.get("content-type", "application/json").split(";")[0].strip().lower()
        if ctype != "application/json" and not ctype.endswith("+json"):
            raise _HttpError(400, f"the body must be application/json, not {ctype!r}")
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise _HttpError(400, "the client went away")
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self._max_body:
                raise _HttpError(413, f"the body is larger than {self._max_body} bytes")
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)


def _allow(method: str, *allowed: str) -> None:
    if method not in allowed:
        raise _HttpError(405, f"{method} is not allowed here", [("allow", ", ".join(allowed))])


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
