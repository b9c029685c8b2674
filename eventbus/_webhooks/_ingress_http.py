"""ASGI plumbing of the ingress: headers in, the body within a limit, a JSON answer out."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, MutableMapping
from typing import Any

import msgspec

from eventbus._errors import IngressError

__all__ = ["read_body", "request_headers", "send_response"]

Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
_encode = msgspec.json.Encoder().encode


def request_headers(raw: Iterable[tuple[bytes, bytes]]) -> dict[str, bytes]:
    """The request's headers by lower-case name. A repeated header is joined with ``, `` (as
    HTTP defines), except a ``ce-`` or ``webhook-`` header, which must appear once."""
    out: dict[str, bytes] = {}
    for name_bytes, value in raw:
        name = name_bytes.decode("latin-1").lower()
        if name in out:
            if name.startswith(("ce-", "webhook-")):
                raise IngressError(
                    "appears more than once; it must appear once",
                    status=400,
                    code="repeated-header",
                    where=name,
                )
            out[name] = out[name] + b", " + bytes(value)
        else:
            out[name] = bytes(value)
    return out


async def read_body(
    receive: Receive,
    headers: Mapping[str, bytes],
    limit: int,
    too_large: Callable[[int, int], IngressError],
) -> bytes:
    """The whole body; refused (``too_large``) as soon as the declared or received size passes
    ``limit``, without reading the rest."""
    declared = headers.get("content-length")
    if declared is not None:
        try:
            size = int(declared)
        except ValueError:
            raise IngressError(
                "is not a number", status=400, code="bad-content-length", where="content-length"
            ) from None
        if size > limit:
            raise too_large(size, limit)
    chunks: list[bytes] = []
    total = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise IngressError(
                "the client went away before the body was read",
                status=400,
                code="disconnected",
            )
        chunk = message.get("body", b"")
        total += len(chunk)
        if total > limit:
            raise too_large(total, limit)
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


async def send_response(
    send: Send, status: int, payload: Mapping[str, Any] | None, extra: Mapping[str, str]
) -> None:
    body = b"" if payload is None else _encode(payload)
    headers = [(b"cache-control", b"no-store")]
    if payload is not None:
        headers.append((b"content-type", b"application/json"))
    headers.append((b"content-length", str(len(body)).encode("ascii")))
    headers.extend((k.encode("latin-1"), v.encode("latin-1")) for k, v in extra.items())
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
