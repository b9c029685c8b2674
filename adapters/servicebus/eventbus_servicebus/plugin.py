"""The pluggy plugin that registers ``servicebus://`` (entry point ``eventbus.adapters: servicebus``)."""

from __future__ import annotations

from eventbus.adapter import AdapterInfo, hookimpl
from eventbus_servicebus._adapter import ServiceBusAdapter
from eventbus_servicebus._capabilities import CAPABILITIES

__all__ = ["eventbus_adapters"]


@hookimpl
def eventbus_adapters() -> list[AdapterInfo]:
    """The Azure Service Bus adapter."""
    return [
        AdapterInfo(
            scheme="servicebus",
            distribution="eventbus-servicebus",
            description=(
                "Azure Service Bus topics and subscriptions, peek-lock (azure-servicebus): "
                "servicebus://NAMESPACE, servicebus://KEYNAME:KEY@HOST[?emulator=true] or "
                "servicebus://?connection_string_env=VAR"
            ),
            factory=ServiceBusAdapter.from_url,
            capabilities=CAPABILITIES,
        )
    ]
