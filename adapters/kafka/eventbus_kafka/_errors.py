"""confluent-kafka errors become eventbus errors here, at the adapter boundary, without secrets.

``translate(error, action, scrub)`` turns a ``KafkaError`` (or the ``KafkaException`` carrying
one) into ``BrokerConnectionError`` (brokers unreachable, authentication or TLS failed),
``ChannelNameError`` (the broker refused a topic name), ``PublishError`` (a record was not
stored) or ``AdapterError``. Texts go through ``scrub``, which blanks out the configured
secrets wherever they appear.
"""

from __future__ import annotations

from confluent_kafka import KafkaError, KafkaException

from eventbus.adapter import (
    AdapterError,
    BrokerConnectionError,
    ChannelNameError,
    PublishError,
    Scrubber,
)

__all__ = ["describe", "kafka_error", "translate"]

_CONNECTION_CODES = frozenset(
    {
        KafkaError._TRANSPORT,
        KafkaError._ALL_BROKERS_DOWN,
        KafkaError._AUTHENTICATION,
        KafkaError._SSL,
        KafkaError._RESOLVE,
        KafkaError._TIMED_OUT,
        KafkaError.SASL_AUTHENTICATION_FAILED,
        KafkaError.ILLEGAL_SASL_STATE,
        KafkaError.UNSUPPORTED_SASL_MECHANISM,
        KafkaError.NETWORK_EXCEPTION,
        KafkaError.BROKER_NOT_AVAILABLE,
    }
)


def kafka_error(exc: BaseException) -> KafkaError | None:
    """The ``KafkaError`` inside ``exc`` (a KafkaException, or a KafkaError itself)."""
    if isinstance(exc, KafkaException) and exc.args and isinstance(exc.args[0], KafkaError):
        return exc.args[0]
    if isinstance(exc, KafkaError):
        return exc
    return None


def describe(error: KafkaError) -> str:
    text = error.str() or error.name()
    return f"{text} ({error.name()})"


def translate(
    error: KafkaError | BaseException,
    action: str,
    scrub: Scrubber,
    *,
    publishing: bool = False,
    topic: str | None = None,
) -> AdapterError | ChannelNameError:
    """The eventbus error for ``error`` met while doing ``action`` (raise it ``from`` the cause)."""
    kerror = error if isinstance(error, KafkaError) else kafka_error(error)
    if kerror is None:
        return AdapterError(scrub(f"{action}: {error!r}"))
    message = scrub(f"{action}: {describe(kerror)}")
    code = kerror.code()
    if code in _CONNECTION_CODES:
        return BrokerConnectionError(message)
    if code == KafkaError.TOPIC_EXCEPTION and topic is not None:
        return ChannelNameError(topic, scrub(kerror.str() or "invalid topic"), adapter="kafka")
    if publishing:
        return PublishError(message)
    return AdapterError(message)
