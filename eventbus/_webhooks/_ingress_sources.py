"""What an ingress request holds, as events: pure functions over headers and a body.

Requests come in four shapes:

- **CloudEvents over HTTP** (binary, structured, batched), read by the HTTP binding
  (:mod:`eventbus._wire._http`).
- **Google Pub/Sub push, wrapped**: ``{"message": {"data": <base64>, "attributes": {...},
  "messageId", "publishTime", "orderingKey"}, "subscription": "..."}`` with no ``ce-`` headers
  and a body that is not a CloudEvents format.
- **Google Pub/Sub push, unwrapped** with metadata written: the raw data as the body, the
  attributes as headers (``ce-id: ...`` as Pub/Sub holds them, no percent-encoding) and the
  metadata as ``x-goog-pubsub-*`` headers. The ``ce-`` headers are the attributes read;
  ``Content-Type`` is not (Pub/Sub may set its own), so a structured-mode message is read
  from its JSON body, as the ``"pubsub"`` binding reads a body-only JSON object.
- **Eventarc**: a CloudEvent of type ``google.cloud.pubsub.topic.v1.messagePublished`` whose
  data is ``MessagePublishedData`` (the wrapped push body).

Each Pub/Sub shape becomes the :class:`Message` the Pub/Sub adapter builds from a pulled message
(attributes as headers, data as body, ordering key as key) and is read with the ``"pubsub"``
binding, so the event is the one a pull subscriber of that subscription gets.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from eventbus._errors import DecodeError
from eventbus._wire._bindings import decode
from eventbus._wire._event import Event
from eventbus._wire._http import from_http, from_http_batch, http_mode
from eventbus._wire._message import Message
from eventbus._wire._values import json_decode, looks_structured

__all__ = ["EVENTARC_PUBSUB_TYPE", "Incoming", "read_request"]

EVENTARC_PUBSUB_TYPE: Final = "google.cloud.pubsub.topic.v1.messagePublished"
_PUSH_MESSAGE_ID: Final = "x-goog-pubsub-message-id"
_PUSH_ORDERING_KEY: Final = "x-goog-pubsub-ordering-key"


@dataclass(frozen=True, slots=True)
class Incoming:
    """The events of one request and the shape they came in (``binary``, ``structured``,
    ``batch``, ``pubsub-push``, ``pubsub-unwrapped`` or ``eventarc``)."""

    events: list[Event[Any]]
    shape: str


def read_request(headers: Mapping[str, bytes], body: bytes, *, pubsub: bool) -> Incoming:
    """The events of a request (``headers``: lower-case names, raw values).

    ``pubsub``: also read Pub/Sub push deliveries and unwrap Eventarc Pub/Sub events; without
    it they are refused (wrapped push) or published as they are (Eventarc).
    Raises :class:`DecodeError` naming the header or member that is wrong.
    """
    if pubsub and _PUSH_MESSAGE_ID in headers:
        return Incoming([_unwrapped_push(headers, body)], "pubsub-unwrapped")
    mode = http_mode(headers)
    if mode == "batch":
        return Incoming(from_http_batch(headers, body), "batch")
    if pubsub and mode == "binary" and not any(name[:3] == "ce-" for name in headers):
        envelope = _push_envelope(body)
        if envelope is not None:
            return Incoming([from_pubsub_message(envelope["message"], "message")], "pubsub-push")
    event = from_http(headers, body)
    if pubsub and event.type == EVENTARC_PUBSUB_TYPE:
        data = event.data
        if not isinstance(data, dict) or not isinstance(data.get("message"), dict):
            raise DecodeError(
                "an Eventarc Pub/Sub event must hold MessagePublishedData "
                '({"message": {...}, "subscription": ...})',
                where="data",
            )
        return Incoming([from_pubsub_message(data["message"], "data.message")], "eventarc")
    return Incoming([event], mode)


def _push_envelope(body: bytes) -> dict[str, Any] | None:
    """The wrapped push body, or None when the body is not one."""
    if not looks_structured(body):
        return None
    try:
        value = json_decode(body)
    except Exception:  # not JSON at all: the HTTP binding words the error
        return None
    if (
        isinstance(value, dict)
        and isinstance(value.get("message"), dict)
        and isinstance(value.get("subscription"), str)
    ):
        return value
    return None


def from_pubsub_message(message: Mapping[str, Any], where: str) -> Event[Any]:
    """The event a pull subscriber gets for a Pub/Sub message given as JSON (``PubsubMessage``
    in its JSON form: base64 ``data``, ``attributes``, ``orderingKey``...)."""
    raw = message.get("data")
    if raw is None:
        data = b""
    elif isinstance(raw, str):
        try:
            data = base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError):
            raise DecodeError("is not valid base64", where=f"{where}.data") from None
    else:
        raise DecodeError("must be a base64 string", where=f"{where}.data")
    attributes = message.get("attributes") or {}
    if not isinstance(attributes, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in attributes.items()
    ):
        raise DecodeError("must be an object of strings", where=f"{where}.attributes")
    key = message.get("orderingKey") or None
    if key is not None and not isinstance(key, str):
        raise DecodeError("must be a string", where=f"{where}.orderingKey")
    return _decode_pubsub(Message(dict(attributes), data, key), where)


def _unwrapped_push(headers: Mapping[str, bytes], body: bytes) -> Event[Any]:
    attributes: dict[str, str] = {}
    for name, value in headers.items():
        if name[:3] == "ce-":
            try:
                attributes[name] = value.decode("utf-8")
            except UnicodeDecodeError:
                raise DecodeError("is not valid UTF-8", where=name) from None
    key = headers.get(_PUSH_ORDERING_KEY)
    ordering = key.decode("utf-8", "replace") if key else None
    return _decode_pubsub(Message(attributes, body, ordering), None)


def _decode_pubsub(message: Message, where: str | None) -> Event[Any]:
    """``decode(message, "pubsub")``; errors name the member of the push JSON at ``where``
    (``message.attributes.ce-id``, ``message.data``) when the message came as JSON."""
    try:
        return decode(message, "pubsub")
    except DecodeError as exc:
        if where is None or exc.where is None:
            raise
        detail = str(exc).removeprefix(f"{exc.where}: ")
        if exc.where in ("body", "data"):
            inner = "data"
        elif exc.where.lower().startswith(("ce-", "content-type")):
            inner = f"attributes.{exc.where}"
        else:  # a member of a structured-mode event in the data
            inner = f"data.{exc.where}"
        raise type(exc)(detail, where=f"{where}.{inner}") from None
