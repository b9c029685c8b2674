"""The bindings' names and the fixed header values they share (see ``_bindings``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from eventbus._errors import ConfigurationError

BINDINGS: Final = ("ce-headers", "pubsub", "sqs", "amqp", "kafka")

STRUCTURED_CT: Final = "application/cloudevents+json; charset=utf-8"
PUBSUB_STRUCTURED_CT: Final = "application/cloudevents+json; charset=UTF-8"
STRUCTURED_HEADERS: Final[Mapping[str, Mapping[str, str]]] = {
    "ce-headers": {"Content-Type": STRUCTURED_CT},
    "pubsub": {"Content-Type": PUBSUB_STRUCTURED_CT, "content-type": PUBSUB_STRUCTURED_CT},
    "sqs": {"content-type": STRUCTURED_CT},
    "amqp": {"content-type": STRUCTURED_CT},
    "kafka": {"content-type": STRUCTURED_CT},
}
CE_FIELD_KEYS: Final = (
    "ce-specversion",
    "ce-id",
    "ce-source",
    "ce-type",
    "ce-subject",
    "ce-dataschema",
    "ce-datacontenttype",
    "ce-time",
)
CE_KNOWN: Final = frozenset({*CE_FIELD_KEYS, "content-type"})


def unknown_binding(binding: str) -> ConfigurationError:
    return ConfigurationError(
        f"unknown binding {binding!r}; expected one of: {', '.join(BINDINGS)}"
    )
