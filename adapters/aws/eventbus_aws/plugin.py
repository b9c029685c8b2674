"""The pluggy plugin that registers ``sqs://`` (entry point ``eventbus.adapters: sqs``)."""

from __future__ import annotations

from eventbus.adapter import AdapterInfo, hookimpl
from eventbus_aws._adapter import SqsAdapter
from eventbus_aws._capabilities import CAPABILITIES

__all__ = ["eventbus_adapters"]


@hookimpl
def eventbus_adapters() -> list[AdapterInfo]:
    """The AWS SNS/SQS adapter, served for ``sqs://REGION`` URLs."""
    return [
        AdapterInfo(
            scheme="sqs",
            distribution="eventbus-aws",
            description=(
                "AWS SNS + SQS (at-least-once, groups as queues, redrive policy, FIFO order per "
                "key): sqs://REGION[?endpoint=http://HOST:PORT&...]"
            ),
            factory=SqsAdapter.from_url,
            capabilities=CAPABILITIES,
        )
    ]
