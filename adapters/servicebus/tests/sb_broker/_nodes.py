"""The request/response nodes: ``$cbs`` (claims-based security) and ``<entity>/$management``.

``put-token`` checks the SharedAccessSignature against the namespace's key (HMAC-SHA256 over
``quote_plus(resource) + "\\n" + expiry``) and answers 200 or 401. The management node answers
the operations the azure-servicebus SDK uses: update-disposition, renew-lock, peek-message,
schedule-message, cancel-scheduled-message, renew-session-lock, get/set-session-state.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, quote_plus

from proton import Array, Message

from sb_broker._codec import Envelope, ts
from sb_broker._entities import MessageQueue
from sb_broker._namespace import Address, EntityNotFound, Namespace
from sb_broker._topic import Topic

__all__ = ["cbs_reply", "management_reply"]


def _valid_token(token: str, namespace: Namespace) -> bool:
    if not token.startswith("SharedAccessSignature "):
        return False
    fields = {k: v[0] for k, v in parse_qs(token[len("SharedAccessSignature ") :]).items()}
    try:
        expiry = int(fields["se"])
        signed = f"{quote_plus(fields['sr'])}\n{expiry}".encode()
        expected = base64.b64encode(
            hmac.new(namespace.key.encode(), signed, hashlib.sha256).digest()
        )
    except (KeyError, ValueError):
        return False
    return (
        fields.get("skn") == namespace.key_name
        and expiry > time.time()
        and hmac.compare_digest(expected.decode(), fields.get("sig", ""))
    )


def cbs_reply(request: Message, namespace: Namespace) -> Message:
    props: dict[str, Any] = dict(request.properties or {})
    ok = props.get("operation") == "put-token" and _valid_token(str(request.body), namespace)
    status, text = (200, "OK") if ok else (401, "InvalidSignature: the token is not valid")
    return Message(
        correlation_id=request.id,
        properties={"status-code": status, "status-description": text},
    )


def _items(value: Any) -> list[Any]:
    if isinstance(value, Array):
        return list(value.elements)
    return list(value or [])


def _reply(request: Message, status: int, body: Any = None, error: str | None = None) -> Message:
    props: dict[str, Any] = {"statusCode": status, "statusDescription": error or "OK"}
    if error is not None:
        props["errorCondition"] = (
            "com.microsoft:message-lock-lost" if status == 410 else "amqp:internal-error"
        )
    return Message(
        correlation_id=request.id, properties=props, body=body if body is not None else {}
    )


def management_reply(request: Message, namespace: Namespace, entity: str) -> Message:
    properties: dict[str, Any] = dict(request.properties or {})
    operation = str(properties.get("operation", ""))
    handler = _OPERATIONS.get(operation.removeprefix("com.microsoft:"))
    if handler is None:
        return _reply(request, 501, error=f"operation {operation!r} is not implemented")
    address = Address.parse(entity)
    try:
        if address.kind == "subscription" or address.dead_letter:
            target: MessageQueue | Topic = namespace.source(address)
        else:
            key = address.entity.lower()
            found = namespace.queues.get(key) or namespace.topics.get(key)
            if found is None:
                raise EntityNotFound(entity)
            target = found
    except EntityNotFound:
        return _reply(request, 404, error=f"entity {entity!r} not found")
    body = request.body if isinstance(request.body, dict) else {}
    return handler(request, body, target, time.time())


def _queue_of(target: MessageQueue | Topic) -> MessageQueue:
    if not isinstance(target, MessageQueue):
        raise TypeError("a topic has no messages of its own")
    return target


def _update_disposition(req: Message, body: dict[str, Any], target: Any, now: float) -> Message:
    queue = _queue_of(target)
    status = str(body.get("disposition-status"))
    missing = False
    for token in _items(body.get("lock-tokens")):
        token = token if isinstance(token, uuid.UUID) else uuid.UUID(str(token))
        if status == "completed":
            done = queue.complete(token)
        elif status == "abandoned":
            done = queue.abandon(token, now)
        elif status == "suspended":
            done = queue.dead_letter(
                token, body.get("deadletter-reason"), body.get("deadletter-description"), now
            )
        else:
            done = False
        missing |= not done
    if missing:
        return _reply(req, 410, error="The lock supplied is invalid or has expired")
    return _reply(req, 200)


def _renew_lock(req: Message, body: dict[str, Any], target: Any, now: float) -> Message:
    queue = _queue_of(target)
    expirations = []
    for token in _items(body.get("lock-tokens")):
        until = queue.renew(token, now)
        if until is None:
            return _reply(req, 410, error="The lock supplied is invalid or has expired")
        expirations.append(ts(until))
    return _reply(req, 200, {"expirations": expirations})


def _peek(req: Message, body: dict[str, Any], target: Any, now: float) -> Message:
    queue = _queue_of(target)
    found = queue.peek(int(body.get("from-sequence-number", 0)), int(body.get("message-count", 1)))
    if not found:
        return _reply(req, 204)
    messages = [{"message": s.env.encode(s.delivery_count, s.broker_annotations())} for s in found]
    return _reply(req, 200, {"messages": messages})


def _schedule(req: Message, body: dict[str, Any], target: Any, now: float) -> Message:
    seqs = []
    for item in _items(body.get("messages")):
        env = Envelope.parse(bytes(item["message"]))
        seq = target.send(env, now)
        seqs.append(seq if seq is not None else 0)
    return _reply(req, 200, {"sequence-numbers": seqs})


def _cancel(req: Message, body: dict[str, Any], target: Any, now: float) -> Message:
    target.cancel_scheduled({int(s) for s in _items(body.get("sequence-numbers"))})
    return _reply(req, 200)


def _renew_session(req: Message, body: dict[str, Any], target: Any, now: float) -> Message:
    until = _queue_of(target).renew_session(str(body.get("session-id")), now)
    if until is None:
        return _reply(req, 410, error="the session lock was lost")
    return _reply(req, 200, {"expiration": ts(until)})


def _get_state(req: Message, body: dict[str, Any], target: Any, now: float) -> Message:
    state = _queue_of(target).session_state.get(str(body.get("session-id")))
    return _reply(req, 200, {"session-state": state})


def _set_state(req: Message, body: dict[str, Any], target: Any, now: float) -> Message:
    raw = body.get("session-state")
    state = bytes(raw) if isinstance(raw, memoryview | bytearray | bytes) else b""
    _queue_of(target).session_state[str(body.get("session-id"))] = state
    return _reply(req, 200)


_OPERATIONS: dict[str, Callable[[Message, dict[str, Any], Any, float], Message]] = {
    "update-disposition": _update_disposition,
    "renew-lock": _renew_lock,
    "peek-message": _peek,
    "schedule-message": _schedule,
    "cancel-scheduled-message": _cancel,
    "renew-session-lock": _renew_session,
    "get-session-state": _get_state,
    "set-session-state": _set_state,
}
