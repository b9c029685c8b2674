"""The one error root of eventbus and its subclasses.

Every error raised by eventbus (and by adapter plugins, which translate their broker SDK's
exceptions at their boundary) derives from :class:`EventBusError`. Where a stdlib error fits,
the subclass inherits it too, so ``except ValueError`` keeps working::

    EventBusError
    ├── InvalidEventError (ValueError)          an Event violates CloudEvents 1.0; lists every problem
    ├── DecodeError (ValueError)                a Message is not a valid CloudEvent on the wire
    │   └── DataDecodeError                     data does not match the handler's declared type
    ├── EncodeError (ValueError)                data cannot be encoded for its datacontenttype
    ├── LimitExceededError (ValueError)         an encoded message breaks an adapter limit
    ├── ChannelNameError (ValueError)           a channel name breaks an adapter's name rules
    ├── ConfigurationError (ValueError)         bad URL, options or handler signature
    │   ├── UnknownSchemeError (LookupError)    no installed adapter serves a URL scheme
    │   └── UnsupportedSemanticError            a subscription needs what the adapter lacks
    ├── AdapterError                            a broker failed (translated by the adapter)
    │   ├── BrokerConnectionError (ConnectionError)
    │   └── PublishError                        outcome: "not-stored" or "unknown"
    ├── RejectedEventError                      raised by a handler or middleware: dead-letter now
    ├── RetryLaterError                         raised by a handler: retry no sooner than ``delay``
    ├── BusClosedError (RuntimeError)           the bus is closed or not yet open
    ├── StoreError                              an idempotency store or outbox database failed
    │   └── ClaimLostError                      the handler no longer holds its idempotency claim
    ├── WebhookError                            webhooks: endpoints, delivery, signatures
    │   ├── WebhookSignatureError (ValueError)  a Standard Webhooks signature does not verify
    │   └── IngressError                        the HTTP ingress refuses a request (HTTP status)
    └── ContractError                           contracts: registry, schemas, compatibility
        ├── SchemaValidationError (ValueError)  data breaks its schema; lists every Violation
        ├── UnknownSchemaError (LookupError)    a type, version or dataschema not in the registry
        └── RegistryError (ValueError)          a registry file is unreadable or malformed

Messages never contain secrets: URLs are shown through :func:`redact_url`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

from eventbus._redact import redact_url

__all__ = [
    "AdapterError",
    "BrokerConnectionError",
    "BusClosedError",
    "ChannelNameError",
    "ClaimLostError",
    "ConfigurationError",
    "ContractError",
    "DataDecodeError",
    "DecodeError",
    "EncodeError",
    "EventBusError",
    "IngressError",
    "InvalidEventError",
    "InvalidSchemaError",
    "LimitExceededError",
    "Problem",
    "PublishError",
    "PublishOutcome",
    "RegistryError",
    "RejectedEventError",
    "RetryLaterError",
    "SchemaValidationError",
    "StoreError",
    "UnknownSchemaError",
    "UnknownSchemeError",
    "UnsupportedSemanticError",
    "Violation",
    "WebhookError",
    "WebhookSignatureError",
    "redact_url",
]


class EventBusError(Exception):
    """Root of every error eventbus raises."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with an event: the attribute (or JSON pointer) and what is wrong."""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


class InvalidEventError(EventBusError, ValueError):
    """An event violates CloudEvents 1.0. ``problems`` lists every violation, not just the first."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        lines = "; ".join(str(p) for p in self.problems)
        super().__init__(f"invalid CloudEvent ({len(self.problems)} problem(s)): {lines}")


class DecodeError(EventBusError, ValueError):
    """A message could not be read as a CloudEvent. ``where`` names the header, member or attribute."""

    def __init__(self, message: str, *, where: str | None = None) -> None:
        if where is not None and not where.isprintable():
            # A received name may hold anything (a lone surrogate, a control character): show
            # it escaped, so the error text can be logged, printed and encoded anywhere.
            where = where.encode("ascii", "backslashreplace").decode("ascii")
        self.where = where
        super().__init__(f"{where}: {message}" if where else message)


class DataDecodeError(DecodeError):
    """The event's data does not match the type the handler declared (``where`` is a JSON path)."""


class EncodeError(EventBusError, ValueError):
    """The event's data cannot be encoded for its ``datacontenttype``."""


class LimitExceededError(EventBusError, ValueError):
    """An encoded message exceeds a limit of the adapter (size, header count, header size...)."""

    def __init__(self, limit: str, maximum: int, actual: int, *, adapter: str) -> None:
        self.limit = limit
        self.maximum = maximum
        self.actual = actual
        self.adapter = adapter
        super().__init__(f"{limit} is {actual}, above the {adapter} adapter's limit of {maximum}")


class ChannelNameError(EventBusError, ValueError):
    """A channel name breaks an adapter's naming rules."""

    def __init__(self, channel: str, rule: str, *, adapter: str) -> None:
        self.channel = channel
        self.rule = rule
        self.adapter = adapter
        super().__init__(f"channel name {channel!r} is not valid for {adapter}: {rule}")


class ConfigurationError(EventBusError, ValueError):
    """A URL, option or handler signature is not usable."""


class UnknownSchemeError(ConfigurationError, LookupError):
    """No installed adapter serves the URL's scheme."""

    def __init__(
        self,
        scheme: str,
        installed: Iterable[str],
        hint: str | None,
        suggestion: str | None = None,
    ) -> None:
        self.scheme = scheme
        self.installed = tuple(sorted(installed))
        self.suggestion = suggestion
        msg = f"no adapter is installed for the URL scheme {scheme!r}"
        if suggestion:
            msg += f"; did you mean {suggestion}://?"
        msg += f" (installed schemes: {', '.join(self.installed) or 'none'})"
        if hint and not suggestion:
            msg += f"; install it with: pip install {hint}"
        super().__init__(msg)


class UnsupportedSemanticError(ConfigurationError):
    """A subscription needs a semantic the adapter does not provide and the bus cannot emulate."""

    def __init__(self, semantic: str, adapter: str, reason: str) -> None:
        self.semantic = semantic
        self.adapter = adapter
        super().__init__(f"the {adapter} adapter cannot provide {semantic}: {reason}")


class AdapterError(EventBusError):
    """A broker operation failed. Adapters raise this (or a subclass) ``from`` the SDK's error."""


class BrokerConnectionError(AdapterError, ConnectionError):
    """The broker could not be reached or the connection was lost."""


PublishOutcome = Literal["not-stored", "unknown"]


class PublishError(AdapterError):
    """The broker refused or failed to store published messages.

    ``outcome`` says what is known about the messages the error is about (the text says it too):

    - ``"not-stored"``: the broker refused them, or they never left this process; publishing
      them again cannot make a duplicate.
    - ``"unknown"``: no answer came (a timeout, a lost connection). The broker may have stored
      them, or may still: a client that buffers while it reconnects (nats-py) sends them once
      the connection is back. Publishing the same events again may then store them twice;
      the broker's publisher dedupe drops the copy within its window (the same event has the
      same dedupe id) and consumer idempotency absorbs it after that.
    """

    NOT_STORED: Final = "not-stored"
    UNKNOWN: Final = "unknown"

    def __init__(self, message: str, *, outcome: PublishOutcome = "unknown") -> None:
        if outcome not in (self.NOT_STORED, self.UNKNOWN):
            raise ValueError(f"outcome must be 'not-stored' or 'unknown', got {outcome!r}")
        self.outcome: PublishOutcome = outcome
        self.detail = message
        super().__init__(f"{message} [{_OUTCOME_NOTES[outcome]}]")

    def __reduce__(self) -> tuple[Any, ...]:
        return (_publish_error, (type(self), self.detail, self.outcome))


_OUTCOME_NOTES: Final = {
    "not-stored": "not stored",
    "unknown": (
        "outcome unknown: the broker may have stored it or may still store it, so publishing "
        "it again may duplicate it (dedupe by event drops the copy within the broker's window)"
    ),
}


def _publish_error(cls: type[PublishError], message: str, outcome: PublishOutcome) -> PublishError:
    return cls(message, outcome=outcome)


class RejectedEventError(EventBusError):
    """Raise from a handler or consume middleware to dead-letter the event at once, no retry.

    ``reason`` becomes the ``deadletterreason`` attribute (e.g. ``validation-error``); the
    message becomes ``deadlettererror``.
    """

    def __init__(self, message: str, *, reason: str = "rejected") -> None:
        self.reason = reason
        super().__init__(message)


class RetryLaterError(EventBusError):
    """Raise from a handler to have the event retried no sooner than ``delay`` seconds (a
    ``Retry-After`` the handler was given); the attempt counts as a failed one, and the retry
    policy's own delay applies when it is longer."""

    def __init__(self, message: str, *, delay: float = 0.0) -> None:
        self.delay = max(0.0, float(delay))
        super().__init__(message)


class BusClosedError(EventBusError, RuntimeError):
    """The bus is closed (or was never opened with ``async with`` / ``open()``)."""


class EventLoopError(EventBusError, RuntimeError):
    """A blocking call made where it would wait for itself: from the event loop it needs (for
    example ``SyncEventBus.publish`` inside an ``async def`` handler)."""


class StoreError(EventBusError):
    """An idempotency store or an outbox database failed (unreachable, locked, bad schema).

    ``store`` names the store (its URL redacted, never a password). Raised ``from`` the driver's
    own exception.
    """

    def __init__(self, message: str, *, store: str) -> None:
        self.store = store
        super().__init__(f"{store}: {message}")


class ClaimLostError(StoreError):
    """The handler's idempotency claim expired and was taken (or finished) by another worker.

    Raised by ``commit_with`` before the handler's side effect is written; the bus retries the
    event, and the retry sees the other worker's outcome.
    """


# -- webhooks ----------------------------------------------------------------------------------


class WebhookError(EventBusError):
    """Root of the webhook errors: endpoints, delivery, signatures. Never holds a secret."""


WebhookSignatureProblem = Literal[
    "missing-header", "bad-timestamp", "too-old", "too-new", "no-signature", "no-match"
]


class WebhookSignatureError(WebhookError, ValueError):
    """A request's Standard Webhooks headers do not verify against the body and secrets.

    ``problem`` says what is wrong (``missing-header``, ``bad-timestamp``, ``too-old``,
    ``too-new``, ``no-signature``: no ``v1`` signature in the header, ``no-match``: none of the
    signatures matches any secret); ``header`` names the header concerned. The text never
    contains a secret or an expected signature.
    """

    def __init__(self, message: str, *, problem: WebhookSignatureProblem, header: str) -> None:
        self.problem: WebhookSignatureProblem = problem
        self.header = header
        super().__init__(f"{header}: {message}")


class IngressError(WebhookError):
    """The HTTP ingress refuses a request; the answer it sends.

    ``status``: the HTTP status (400 invalid event, 401 not authentic, 405 wrong method, 409 the
    same delivery is being handled, 413 too large, 415 not a CloudEvent, 503 the broker did not
    acknowledge it: send again). ``code``: a stable token (``invalid-event``,
    ``signature-no-match``, ``token-mismatch``, ``too-large``, ``not-stored``,
    ``publish-unknown``... see docs/ingress.md). ``where``: the header, attribute or member
    concerned, when there is one. The text never contains a secret.
    """

    def __init__(self, message: str, *, status: int, code: str, where: str | None = None) -> None:
        self.status = status
        self.code = code
        self.where = where
        self.detail = message
        super().__init__(f"{status} {code}: {message}")


# -- contracts ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Violation:
    """One way data breaks its schema.

    ``pointer``: the JSON pointer (RFC 6901) of the failing value in the data ("" is the root; a
    missing required property or a forbidden additional one is pointed at by its own name).
    ``keyword``: the schema keyword that failed. ``schema_pointer``: where that keyword is.
    """

    pointer: str
    keyword: str
    message: str
    schema_pointer: str = ""

    def __str__(self) -> str:
        return f"{self.pointer or '(root)'}: {self.message} [{self.keyword}]"


class ContractError(EventBusError):
    """Root of the contract errors: registry, schemas, validation, compatibility."""


class SchemaValidationError(ContractError, ValueError):
    """Data does not match its schema. ``violations`` lists every failure, each with its pointer.

    ``event_type``, ``version`` and ``dataschema`` name the schema (None when validating against
    a bare schema). Nothing was sent when this is raised by ``publish``.
    """

    def __init__(
        self,
        violations: Sequence[Violation],
        *,
        event_type: str | None = None,
        version: int | None = None,
        dataschema: str | None = None,
    ) -> None:
        self.violations: tuple[Violation, ...] = tuple(violations)
        self.event_type = event_type
        self.version = version
        self.dataschema = dataschema
        super().__init__(self.summary())

    @property
    def pointers(self) -> tuple[str, ...]:
        """The failing JSON pointers, in order, without duplicates."""
        return tuple(dict.fromkeys(v.pointer for v in self.violations))

    def summary(self) -> str:
        """One line: what, then every failing pointer first (so truncation keeps them), then why."""
        what = "data"
        if self.event_type is not None:
            what = f"data of {self.event_type}" + (
                f" v{self.version}" if self.version is not None else ""
            )
        pointers = ", ".join(p or "(root)" for p in self.pointers)
        details = "; ".join(str(v) for v in self.violations)
        return (
            f"{what} does not match its schema: {len(self.violations)} violation(s) at "
            f"{pointers} -- {details}"
        )


class UnknownSchemaError(ContractError, LookupError):
    """An event type, version or ``dataschema`` URI that the registry does not hold."""


class RegistryError(ContractError, ValueError):
    """A registry file is missing, unreadable or malformed. ``path`` names the file."""

    def __init__(
        self, message: str, *, path: str | None = None, pointer: str | None = None
    ) -> None:
        self.path = path
        self.pointer = pointer
        self.detail = message  # what is wrong, without the place
        where = path or ""
        if pointer:
            where += f"#{pointer}"
        super().__init__(f"{where}: {message}" if where else message)


class InvalidSchemaError(RegistryError):
    """A schema cannot be used: its meta-schema rejects it, a pattern is not an ECMA-262
    regular expression, a ``$ref`` does not resolve, its dialect is unknown, or it nests too
    deeply. ``path`` names the schema file and ``pointer`` the place in it, when known.

    The registry isolates such a schema: other types validate as usual, and events of this
    one are refused (dead-lettered with ``deadletterreason=schema-error`` on consume). ``code``
    says which rule: ``meta-schema``, ``dialect``, ``unresolvable-ref``, ``depth``.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        pointer: str | None = None,
        code: str = "meta-schema",
    ) -> None:
        super().__init__(message, path=path, pointer=pointer)
        self.code = code
