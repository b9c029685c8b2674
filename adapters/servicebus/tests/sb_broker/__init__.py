"""A Service Bus-compatible AMQP 1.0 broker for tests. TEST INFRASTRUCTURE, not a product.

Built on Apache Qpid Proton (``python-qpid-proton``) so that the real ``azure-servicebus`` SDK
can be driven end to end on a machine without Docker (Microsoft's emulator needs it) and
without a cloud namespace. It implements what the SDK and the eventbus adapter use: CBS
put-token with SAS signature checks, peek-lock and receive-and-delete, settlement echoes,
the management operations (update-disposition, renew-lock, peek, schedule and cancel, session
lock and state), queues, topics with subscriptions, dead-letter sub-queues, MaxDeliveryCount
auto-dead-lettering, lock expiry and redelivery, scheduled enqueue time, TTL, a duplicate-
detection window on MessageId, and sessions (group-id). It does not implement the HTTP
administration API, rules and filters, transactions, deferral, auto-forwarding, partitioning,
quotas or TLS; passing here is not proof of behaviour on a real namespace (see
docs/adapters/servicebus.md).

    broker = ServiceBusTestBroker(lock_duration=2.0).start()
    broker.connection_string   # Endpoint=sb://127.0.0.1:PORT;...;UseDevelopmentEmulator=true
    broker.stop()
"""

from sb_broker._entities import EntityConfig, MessageQueue, Stored
from sb_broker._namespace import Namespace
from sb_broker._server import ServiceBusTestBroker
from sb_broker._topic import Topic

__all__ = [
    "EntityConfig",
    "MessageQueue",
    "Namespace",
    "ServiceBusTestBroker",
    "Stored",
    "Topic",
]
