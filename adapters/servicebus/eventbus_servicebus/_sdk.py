"""Small adjustments to how the adapter uses azure-servicebus."""

from __future__ import annotations

from typing import Any

from azure.servicebus.aio import ServiceBusReceiver

from eventbus.adapter import ConfigurationError

__all__ = ["FURTHER_PULL", "default_credential", "shorten_further_pull"]

#: Seconds a receive call keeps collecting once a first message came (the SDK's default, 0.2 s,
#: also holds back settlements on that receiver meanwhile).
FURTHER_PULL = 0.02


def shorten_further_pull(receiver: ServiceBusReceiver) -> None:
    if hasattr(receiver, "_further_pull_receive_timeout"):  # private to azure-servicebus 7.x
        receiver._further_pull_receive_timeout = FURTHER_PULL


def default_credential() -> Any:
    try:
        from azure.identity.aio import DefaultAzureCredential
    except ImportError:
        raise ConfigurationError(
            "servicebus://NAMESPACE signs in with azure-identity, which is not installed: "
            "pip install 'eventbus-servicebus[identity]'"
        ) from None
    return DefaultAzureCredential()
