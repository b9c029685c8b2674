"""The google-cloud-pubsub clients the adapter drives: the asyncio (grpc.aio) GAPIC clients.

The GAPIC ``PublisherAsyncClient`` / ``SubscriberAsyncClient`` run their RPCs on the event loop
(no threads, no callbacks to bridge). For an emulator the adapter gives them one plaintext
channel of its own (with the message-size limits lifted, as the clients do for the real
service); otherwise they make their own TLS channels with the resolved credentials.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import grpc
from google.api_core import retry as retries
from google.api_core.client_options import ClientOptions
from google.auth import credentials as ga_credentials
from google.auth import exceptions as auth_exc
from google.pubsub_v1.services.publisher import PublisherAsyncClient
from google.pubsub_v1.services.publisher.transports import PublisherGrpcAsyncIOTransport
from google.pubsub_v1.services.subscriber import SubscriberAsyncClient
from google.pubsub_v1.services.subscriber.transports import SubscriberGrpcAsyncIOTransport

from eventbus.adapter import ConfigurationError
from eventbus_pubsub._config import EMULATOR_ENV, PubSubConfig

__all__ = ["DEFAULT_ENDPOINT", "Clients", "describe_endpoint", "open_clients", "retry_policy"]

DEFAULT_ENDPOINT = "pubsub.googleapis.com"
_SCOPES = ("https://www.googleapis.com/auth/pubsub",)
_CHANNEL_OPTIONS = (
    ("grpc.max_send_message_length", -1),
    ("grpc.max_receive_message_length", -1),
)


@dataclass(eq=False)
class Clients:
    publisher: PublisherAsyncClient
    subscriber: SubscriberAsyncClient
    channel: grpc.aio.Channel | None = None  # the emulator channel (shared), if any
    closed: bool = field(default=False)

    async def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        if self.channel is not None:
            await self.channel.close()
            return
        await asyncio.gather(
            self.publisher.transport.close(),  # type: ignore[no-untyped-call]
            self.subscriber.transport.close(),  # type: ignore[no-untyped-call]
            return_exceptions=True,
        )


def describe_endpoint(config: PubSubConfig) -> str:
    """Where the adapter talks to, for messages (never credentials)."""
    host = config.resolved_emulator_host()
    if host:
        via = "emulator_host" if config.emulator_host else EMULATOR_ENV
        return f"the Pub/Sub emulator at {host} ({via}), project {config.project!r}"
    return f"{config.endpoint or DEFAULT_ENDPOINT}, project {config.project!r}"


def retry_policy(timeout: float) -> retries.AsyncRetry:
    """Retry transient failures (unavailable, internal, ...) for up to ``timeout`` seconds."""
    return retries.AsyncRetry(
        predicate=retries.if_transient_error,
        initial=0.05,
        maximum=min(2.0, max(0.05, timeout / 4)),
        multiplier=2.0,
        timeout=timeout,
    )


def _load_credentials(config: PubSubConfig) -> ga_credentials.Credentials | None:
    """Explicit credentials, else the key file, else None (the clients use ADC)."""
    if config.credentials is not None:
        return config.credentials
    if config.credentials_file is None:
        return None
    from google.oauth2 import service_account

    try:
        return service_account.Credentials.from_service_account_file(  # type: ignore[no-untyped-call,no-any-return]
            config.credentials_file, scopes=_SCOPES
        )
    except (OSError, ValueError, KeyError, auth_exc.GoogleAuthError) as exc:
        raise ConfigurationError(
            f"cannot load the Pub/Sub service-account key file {config.credentials_file!r}: "
            f"{type(exc).__name__}"
        ) from None


def _default_credentials() -> ga_credentials.Credentials:
    import google.auth

    try:
        credentials, _ = google.auth.default(scopes=_SCOPES)
    except auth_exc.DefaultCredentialsError:
        raise ConfigurationError(
            "no Google credentials found for Pub/Sub: set GOOGLE_APPLICATION_CREDENTIALS, pass "
            "credentials_file=... (or credentials=...), or use an emulator (emulator_host=... "
            f"or ${EMULATOR_ENV})"
        ) from None
    return credentials


async def open_clients(config: PubSubConfig) -> Clients:
    """Build the clients (inside the running loop: grpc.aio channels belong to it)."""
    host = config.resolved_emulator_host()
    if host:
        channel = grpc.aio.insecure_channel(host, options=_CHANNEL_OPTIONS)
        return Clients(
            PublisherAsyncClient(transport=PublisherGrpcAsyncIOTransport(channel=channel)),
            SubscriberAsyncClient(transport=SubscriberGrpcAsyncIOTransport(channel=channel)),
            channel,
        )
    credentials = _load_credentials(config)
    if credentials is None:  # ADC may probe the metadata server: not on the loop
        credentials = await asyncio.to_thread(_default_credentials)
    options = ClientOptions(api_endpoint=config.endpoint) if config.endpoint else None
    return Clients(
        PublisherAsyncClient(credentials=credentials, client_options=options),
        SubscriberAsyncClient(credentials=credentials, client_options=options),
    )
