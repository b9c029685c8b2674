"""The HTTP ingress: an ASGI app that turns incoming CloudEvents into bus events.

A request is answered 2xx only once the broker has stored its events (``publish`` returned),
otherwise 5xx, so the sender retries; a retry of what was stored is recognised and answered
2xx again without publishing twice (by ``webhook-id`` and by the events' ``source`` + ``id``,
in an :class:`IdempotencyStore`). See docs/ingress.md.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from eventbus._adapter._toolkit import broker_dedupe_id
from eventbus._bus._eventbus import EventBus
from eventbus._errors import (
    AdapterError,
    BusClosedError,
    ChannelNameError,
    ConfigurationError,
    DecodeError,
    EncodeError,
    IngressError,
    LimitExceededError,
    PublishError,
    StoreError,
)
from eventbus._idempotency._store import ClaimStatus, IdempotencyStore, MemoryIdempotencyStore
from eventbus._webhooks._ingress_auth import IngressAuth
from eventbus._webhooks._ingress_http import read_body, request_headers, send_response
from eventbus._webhooks._ingress_sources import read_request
from eventbus._wire._event import Event

__all__ = ["IngressApp", "IngressResult"]

log = logging.getLogger("eventbus.ingress")

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

DEFAULT_MAX_BODY: Final = 1024 * 1024
_ALLOW: Final = "POST, OPTIONS"


@dataclass(frozen=True, slots=True)
class IngressResult:
    """An accepted request: how many events were stored now and how many were already stored
    (duplicates of an earlier delivery), and the shape they came in (``binary``, ``structured``,
    ``batch``, ``pubsub-push``, ``pubsub-unwrapped``, ``eventarc``, or ``duplicate`` for a
    ``webhook-id`` already accepted)."""

    accepted: int
    duplicates: int
    shape: str


class IngressApp:
    """An ASGI app accepting CloudEvents over HTTP and publishing them to ``bus``.

    ``auth``: :class:`StandardWebhooks`, :class:`SharedSecret`, or None to accept requests
    from anyone (given explicitly, so an open ingress is a decision). ``dedupe``: where
    accepted deliveries are remembered (default: in this process only; give a
    :class:`SqliteIdempotencyStore` or a shared store to survive restarts and serve from
    several processes). ``allowed_origins``: the ``WebHook-Request-Origin`` values the
    abuse-protection handshake consents to (``"*"``: any); ``allowed_rate``: the
    ``WebHook-Allowed-Rate`` granted (requests per minute; None: ``*``). ``max_body``: larger
    requests get 413. ``publish_timeout``: seconds to wait for the broker before answering
    503. ``pubsub``: also accept Google Pub/Sub push deliveries and unwrap Eventarc Pub/Sub
    events. ``retry_after``: seconds put in ``Retry-After`` of 503 and 409 answers.

    Serves any path it is mounted at: ``POST`` delivers, ``OPTIONS`` is the handshake. As the
    top-level app of an ASGI server it opens the bus at startup (if not open) and closes what it
    opened at shutdown.
    """

    def __init__(
        self,
        bus: EventBus,
        *,
        auth: IngressAuth | None,
        dedupe: IdempotencyStore | None = None,
        allowed_origins: Sequence[str] = ("*",),
        allowed_rate: int | None = None,
        max_body: int = DEFAULT_MAX_BODY,
        publish_timeout: float = 10.0,
        pubsub: bool = True,
        retry_after: int = 5,
        namespace: str = "ingress",
    ) -> None:
        if isinstance(allowed_origins, str):
            raise ConfigurationError("allowed_origins must be a sequence of origins, not a str")
        if allowed_rate is not None and not (isinstance(allowed_rate, int) and allowed_rate > 0):
            raise ConfigurationError(
                f"allowed_rate must be an int > 0 or None, got {allowed_rate!r}"
            )
        if not max_body > 0:
            raise ConfigurationError(f"max_body must be > 0 bytes, got {max_body!r}")
        if not publish_timeout > 0:
            raise ConfigurationError(f"publish_timeout must be > 0 s, got {publish_timeout!r}")
        self.bus = bus
        self.auth = auth
        self._own_store = dedupe is None
        self.dedupe: IdempotencyStore = dedupe if dedupe is not None else MemoryIdempotencyStore()
        self.allowed_origins = tuple(allowed_origins)
        self.allowed_rate = allowed_rate
        self.max_body = int(max_body)
        self.publish_timeout = float(publish_timeout)
        self.pubsub = pubsub
        self.retry_after = int(retry_after)
        self._prefix = f"{namespace}:"
        self._lease = self.publish_timeout + 30.0
        self._opened_bus = False

    def __repr__(self) -> str:
        return (
            f"IngressApp(bus={self.bus!r}, auth={self.auth!r}, dedupe={self.dedupe!r}, "
            f"allowed_origins={list(self.allowed_origins)!r})"
        )

    # -- the handshake -----------------------------------------------------------------------

    def handshake(self, headers: Mapping[str, bytes]) -> dict[str, str]:
        """The response headers of the abuse-protection ``OPTIONS`` request: consent
        (``WebHook-Allowed-Origin``, ``WebHook-Allowed-Rate``) only for an allowed origin."""
        out = {"allow": _ALLOW}
        origin = headers.get("webhook-request-origin", b"").decode("latin-1").strip()
        if not origin:
            return out
        if "*" in self.allowed_origins:
            out["webhook-allowed-origin"] = "*"
        elif origin in self.allowed_origins:
            out["webhook-allowed-origin"] = origin
        else:
            log.info("ingress: handshake from origin %r refused (not allowed)", origin[:200])
            return out
        out["webhook-allowed-rate"] = "*" if self.allowed_rate is None else str(self.allowed_rate)
        return out

    # -- a delivery --------------------------------------------------------------------------

    async def receive(
        self, headers: Mapping[str, bytes], body: bytes, query: str = ""
    ) -> IngressResult:
        """Authenticate, read, deduplicate and publish one delivery (``headers``: lower-case
        names, raw values). Returns once the broker stored the events; raises
        :class:`IngressError` carrying the HTTP status to answer otherwise."""
        if len(body) > self.max_body:
            raise _too_large(len(body), self.max_body)
        if self.auth is not None:
            self.auth.check(headers, query, body)
        owner = uuid.uuid4().hex
        claimed: list[str] = []
        try:
            webhook_id = headers.get("webhook-id")
            if webhook_id:
                key = self._prefix + "webhook-id:" + webhook_id.decode("latin-1")
                if await self._claim(key, owner, claimed) is ClaimStatus.DUPLICATE:
                    return IngressResult(0, 1, "duplicate")
            incoming = _read(headers, body, self.pubsub)
            fresh: list[Event[Any]] = []
            duplicates = 0
            seen: set[str] = set()
            for event in incoming.events:
                key = self._prefix + "event:" + broker_dedupe_id(event.source, event.id)
                if key in seen or await self._claim(key, owner, claimed) is ClaimStatus.DUPLICATE:
                    duplicates += 1
                    continue
                seen.add(key)
                fresh.append(event)
            if fresh:
                await self._publish(fresh)
            for key in claimed:
                await self.dedupe.commit(key, owner)
            claimed.clear()
            return IngressResult(len(fresh), duplicates, incoming.shape)
        except StoreError as exc:
            raise self._unavailable("dedupe-store", f"the dedupe store failed: {exc}") from exc
        finally:
            if claimed:
                await asyncio.shield(self._release(claimed, owner))

    async def _claim(self, key: str, owner: str, claimed: list[str]) -> ClaimStatus:
        status = await self.dedupe.claim(key, owner, self._lease)
        if status is ClaimStatus.CLAIMED:
            claimed.append(key)
        elif status is ClaimStatus.IN_PROGRESS:
            raise IngressError(
                "the same delivery is being handled by another request; send it again later",
                status=409,
                code="in-progress",
                where="webhook-id" if key.startswith(self._prefix + "webhook-id:") else "id",
            )
        return status

    async def _release(self, keys: list[str], owner: str) -> None:
        for key in keys:
            try:
                await self.dedupe.release(key, owner)
            except StoreError:
                log.warning("ingress: could not release a dedupe claim; it expires with its lease")

    async def _publish(self, events: list[Event[Any]]) -> None:
        try:
            await asyncio.wait_for(self.bus.publish_many(events), self.publish_timeout)
        except TimeoutError:
            raise self._unavailable(
                "publish-timeout", f"the broker did not confirm within {self.publish_timeout:g} s"
            ) from None
        except BusClosedError as exc:
            raise self._unavailable("bus-closed", str(exc)) from exc
        except LimitExceededError as exc:
            raise IngressError(str(exc), status=413, code="broker-limit", where=exc.limit) from exc
        except ChannelNameError as exc:
            raise IngressError(str(exc), status=400, code="invalid-channel", where="type") from exc
        except EncodeError as exc:
            raise IngressError(str(exc), status=400, code="invalid-data", where="data") from exc
        except PublishError as exc:
            code = "not-stored" if exc.outcome == PublishError.NOT_STORED else "publish-unknown"
            raise self._unavailable(code, str(exc)) from exc
        except AdapterError as exc:
            raise self._unavailable("broker-unavailable", str(exc)) from exc

    def _unavailable(self, code: str, message: str) -> IngressError:
        return IngressError(message, status=503, code=code)

    # -- ASGI --------------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "lifespan":
            await self._lifespan(receive, send)
            return
        if kind != "http":
            raise ConfigurationError(f"IngressApp serves HTTP, not {kind!r}")
        try:
            headers = request_headers(scope["headers"])
            method = scope["method"]
            if method == "OPTIONS":
                await send_response(send, 200, None, self.handshake(headers))
                return
            if method != "POST":
                raise IngressError(
                    f"{method} is not supported: POST delivers events, OPTIONS is the handshake",
                    status=405,
                    code="method-not-allowed",
                )
            body = await read_body(receive, headers, self.max_body, _too_large)
            query = scope.get("query_string", b"").decode("latin-1")
            result = await self.receive(headers, body, query)
        except IngressError as exc:
            await self._refuse(send, exc)
            return
        except Exception:
            log.exception("ingress: unexpected error; answered 500")
            await send_response(
                send, 500, {"status": 500, "error": "internal", "detail": "internal error"}, {}
            )
            return
        payload = {
            "status": 200,
            "accepted": result.accepted,
            "duplicates": result.duplicates,
            "shape": result.shape,
        }
        await send_response(send, 200, payload, {})

    async def _refuse(self, send: Send, exc: IngressError) -> None:
        extra: dict[str, str] = {}
        if exc.status in (409, 503):
            extra["retry-after"] = str(self.retry_after)
        if exc.status == 405:
            extra["allow"] = _ALLOW
        if exc.status >= 500:
            log.warning("ingress: answered %d %s: %s", exc.status, exc.code, exc.detail)
        else:
            log.info("ingress: answered %d %s (%s)", exc.status, exc.code, exc.where or "-")
        payload = {
            "status": exc.status,
            "error": exc.code,
            "where": exc.where,
            "detail": exc.detail,
        }
        await send_response(send, exc.status, payload, extra)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    if not self.bus.is_open:
                        await self.bus.open()
                        self._opened_bus = True
                except Exception as exc:
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self._opened_bus:
                    await self.bus.close()
                    self._opened_bus = False
                if self._own_store:
                    await self.dedupe.close()
                await send({"type": "lifespan.shutdown.complete"})
                return


def _read(headers: Mapping[str, bytes], body: bytes, pubsub: bool) -> Any:
    try:
        return read_request(headers, body, pubsub=pubsub)
    except DecodeError as exc:
        detail = str(exc).removeprefix(f"{exc.where}: ") if exc.where else str(exc)
        if exc.where == "content-type":
            raise IngressError(
                detail, status=415, code="unsupported-media-type", where="content-type"
            ) from None
        raise IngressError(detail, status=400, code="invalid-event", where=exc.where) from None


def _too_large(size: int, limit: int) -> IngressError:
    return IngressError(
        f"the body is {size} bytes or more, above the {limit} bytes allowed",
        status=413,
        code="too-large",
    )
