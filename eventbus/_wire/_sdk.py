"""Conversion to and from the official CloudEvents SDK's core event (``cloudevents.core.v1``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import msgspec

from eventbus._errors import InvalidEventError, Problem
from eventbus._wire._data import is_json_type
from eventbus._wire._event import Event
from eventbus._wire._types import CONTEXT_ATTRIBUTES
from eventbus._wire._values import coerce_data

if TYPE_CHECKING:
    from cloudevents.core.base import BaseCloudEvent
    from cloudevents.core.v1.event import CloudEvent

__all__ = ["from_sdk", "to_sdk"]

_BYTES_LIKE = (bytes, bytearray, memoryview)


def to_sdk(event: Event[Any]) -> CloudEvent:
    """``event`` as a ``cloudevents.core.v1.event.CloudEvent``.

    Structs, dataclasses and other JSON-typed data become plain dicts/lists (the SDK's model).
    """
    from cloudevents.core.v1.event import CloudEvent

    attributes: dict[str, Any] = {
        "specversion": event.specversion,
        "id": event.id,
        "source": event.source,
        "type": event.type,
    }
    if event.time is not None:
        attributes["time"] = event.time
    for name in ("datacontenttype", "dataschema", "subject"):
        value = getattr(event, name)
        if value is not None:
            attributes[name] = value
    attributes.update(event.extensions)
    data = event.data
    if isinstance(data, _BYTES_LIKE):
        data = bytes(data)
    elif data is not None and not isinstance(data, str) and is_json_type(event.datacontenttype):
        data = msgspec.to_builtins(data)
    return CloudEvent(attributes, data)


def from_sdk(sdk_event: BaseCloudEvent, data_type: Any = None) -> Event[Any]:
    """An :class:`Event` from an SDK event; ``data`` is converted to ``data_type`` if given.

    Raises :class:`InvalidEventError` when the SDK event is not a valid CloudEvents 1.0 event
    (for example a 0.3 event, or an extension of a type outside the CloudEvents type system).
    """
    attributes = dict(sdk_event.get_attributes())
    fields = {name: attributes.pop(name, None) for name in CONTEXT_ATTRIBUTES}
    if fields["specversion"] != "1.0":
        problem = Problem("specversion", f"must be '1.0', not {fields['specversion']!r}")
        raise InvalidEventError([problem])
    data = coerce_data(sdk_event.get_data(), fields["datacontenttype"], data_type)
    extensions = {name: value for name, value in attributes.items() if value is not None}
    return Event(data=data, extensions=extensions, **fields)
