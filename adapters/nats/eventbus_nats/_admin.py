"""JetStream browse and group administration (the optional adapter protocols).

Nothing here creates a stream or a consumer. Browsing reads the stream directly
(``STREAM.MSG.GET`` with ``next_by_subj``) from above the group's ack floor: no consumer, no
delivery, no ack state is touched, so any number of browses return the same messages.
Removing deletes the messages from the stream by sequence (a replayed dead letter must not
stay behind, whatever the stream's retention). A consumer group is a durable consumer named
by :func:`consumer_name`; its channel is the consumer's filter subject.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from typing import Any

from nats.aio.client import Client

from eventbus.adapter import (
    AdapterError,
    Browsed,
    ConfigurationError,
    GroupInfo,
    Message,
    Scrubber,
)
from eventbus_nats._errors import translated
from eventbus_nats._names import consumer_name
from eventbus_nats._streams import Streams

__all__ = ["JetStreamAdmin", "parse_headers", "subject_matches"]

_API_TIMEOUT = 5.0
_NO_MESSAGE = 10037  # JetStream "no message found"
_CONSUMER_NOT_FOUND = 10014
_PAGE = 256


def subject_matches(pattern: str, subject: str) -> bool:
    """True when the literal ``subject`` matches ``pattern`` (``*`` one token, ``>`` the rest)."""
    tokens, wanted = subject.split("."), pattern.split(".")
    for i, token in enumerate(wanted):
        if token == ">":
            return len(tokens) > i
        if i >= len(tokens) or token not in ("*", tokens[i]):
            return False
    return len(wanted) == len(tokens)


def parse_headers(raw: bytes) -> dict[str, str]:
    """The headers of a stored message (``NATS/1.0\\r\\nName: value\\r\\n...``)."""
    headers: dict[str, str] = {}
    for line in raw.decode("utf-8", "replace").split("\r\n")[1:]:
        name, sep, value = line.partition(":")
        if sep and name:
            headers.setdefault(name, value.strip())
    return headers


class JetStreamAdmin:
    """Reads streams and manages durable consumers through the JetStream API."""

    def __init__(self, nc: Client, streams: Streams, scrub: Scrubber) -> None:
        self._nc = nc
        self._streams = streams
        self._scrub = scrub

    async def _api(self, subject: str, request: dict[str, Any] | None, action: str) -> Any:
        payload = b"" if request is None else json.dumps(request).encode()
        with translated(action, self._scrub):
            reply = await self._nc.request(f"$JS.API.{subject}", payload, timeout=_API_TIMEOUT)
        return json.loads(reply.data)

    @staticmethod
    def _raise(body: Any, action: str) -> None:
        error = body.get("error") if isinstance(body, dict) else None
        if error:
            raise AdapterError(
                f"{action}: {error.get('description')} (JetStream error {error.get('err_code')})"
            )

    async def _stream(self, channel: str) -> str:
        stream = await self._streams.existing(channel)
        if stream is None:
            raise ConfigurationError(
                f"no JetStream stream captures {channel!r}: nothing was ever kept there "
                "(check the channel name); nothing was created"
            )
        return stream

    async def _consumer(self, stream: str, name: str) -> dict[str, Any] | None:
        body = await self._api(
            f"CONSUMER.INFO.{stream}.{name}", None, f"reading consumer {name!r} of {stream!r}"
        )
        error = body.get("error")
        if error and error.get("err_code") == _CONSUMER_NOT_FOUND:
            return None
        self._raise(body, f"reading consumer {name!r} of {stream!r}")
        return dict(body)

    async def _group(self, channel: str, group: str) -> tuple[str, str, dict[str, Any]]:
        stream = await self._stream(channel)
        name = consumer_name(group, channel)
        info = await self._consumer(stream, name)
        if info is None:  # a name shown by list_groups that consumer_name does not give back
            for found in await self._consumers(stream):
                if _channel_of(found) == channel and _group_of(found) == group:
                    name, info = found["name"], found
                    break
        if info is None:
            raise ConfigurationError(
                f"there is no consumer group {group!r} on {channel!r} (JetStream consumer "
                f"{name!r} of stream {stream!r}); nothing was created"
            )
        return stream, name, info

    async def browse(self, channel: str, group: str, limit: int) -> list[Browsed]:
        stream, _, info = await self._group(channel, group)
        sequence = int((info.get("ack_floor") or {}).get("stream_seq", 0)) + 1
        found: list[Browsed] = []
        action = f"reading stream {stream!r}"
        while len(found) < limit:
            body = await self._api(
                f"STREAM.MSG.GET.{stream}", {"seq": sequence, "next_by_subj": channel}, action
            )
            error = body.get("error")
            if error and error.get("err_code") == _NO_MESSAGE:
                break
            self._raise(body, action)
            stored = body["message"]
            raw = base64.b64decode(stored.get("hdrs") or "")
            data = base64.b64decode(stored.get("data") or "")
            headers = parse_headers(raw) if raw else {}
            found.append(Browsed(Message(headers, data), int(stored["seq"])))
            sequence = int(stored["seq"]) + 1
        return found

    async def remove(self, channel: str, refs: Sequence[Any]) -> None:
        stream = await self._stream(channel)
        action = f"deleting a replayed dead letter from stream {stream!r}"
        for ref in refs:
            body = await self._api(f"STREAM.MSG.DELETE.{stream}", {"seq": int(ref)}, action)
            error = body.get("error")
            if error and error.get("err_code") != _NO_MESSAGE:
                self._raise(body, action)

    async def _stream_names(self) -> list[str]:
        names: list[str] = []
        while True:
            body = await self._api("STREAM.NAMES", {"offset": len(names)}, "listing streams")
            self._raise(body, "listing streams")
            page = body.get("streams") or []
            names.extend(page)
            if not page or len(names) >= int(body.get("total", 0)):
                return names

    async def _consumers(self, stream: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        action = f"listing the consumers of {stream!r}"
        while True:
            body = await self._api(f"CONSUMER.LIST.{stream}", {"offset": len(found)}, action)
            self._raise(body, action)
            page = body.get("consumers") or []
            found.extend(page)
            if not page or len(found) >= int(body.get("total", 0)):
                return found

    async def list_groups(self, channel: str | None) -> list[GroupInfo]:
        if channel is not None:
            stream = await self._streams.existing(channel)
            streams = [] if stream is None else [stream]
        else:
            streams = await self._stream_names()
        groups: list[GroupInfo] = []
        for stream in streams:
            for info in await self._consumers(stream):
                subject = _channel_of(info)
                durable = (info.get("config") or {}).get("durable_name")
                if not durable or subject is None or channel not in (None, subject):
                    continue
                pending = int(info.get("num_pending", 0)) + int(info.get("num_ack_pending", 0))
                groups.append(
                    GroupInfo(subject, _group_of(info), pending, f"{stream}/{info['name']}")
                )
        return groups

    async def delete_group(self, channel: str, group: str) -> None:
        stream, name, _ = await self._group(channel, group)
        action = f"deleting consumer {name!r} of {stream!r}"
        self._raise(await self._api(f"CONSUMER.DELETE.{stream}.{name}", None, action), action)

    async def retention_problem(self, channel: str) -> str | None:
        stream = await self._streams.existing(channel)
        if stream is None:
            return (
                f"no JetStream stream captures {channel!r} (one created by publishing would "
                "have no consumer, and interest retention keeps nothing without one)"
            )
        action = f"reading stream {stream!r}"
        body = await self._api(f"STREAM.INFO.{stream}", None, action)
        self._raise(body, action)
        retention = (body.get("config") or {}).get("retention", "limits")
        if retention != "interest":
            return None  # limits and work-queue streams keep messages without a consumer
        for info in await self._consumers(stream):
            config = info.get("config") or {}
            filters = config.get("filter_subjects") or [config.get("filter_subject") or ">"]
            if config.get("durable_name") and any(subject_matches(f, channel) for f in filters):
                return None
        return (
            f"JetStream stream {stream!r} has interest retention and no durable consumer "
            f"(consumer group) reads {channel!r}, so what is published there is dropped at once"
        )


def _channel_of(info: dict[str, Any]) -> str | None:
    config = info.get("config") or {}
    subject = config.get("filter_subject")
    if not subject and config.get("filter_subjects"):
        subject = ",".join(config["filter_subjects"])
    return str(subject) if subject else None


def _group_of(info: dict[str, Any]) -> str:
    """The group a durable consumer serves: the first part of an eventbus consumer name."""
    name = str(info.get("name", ""))
    group, sep, _ = name.partition("__")
    return group if sep else name
