"""``ValidationMiddleware``: contract validation in the bus, on publish and on consume.

On publish an event whose data breaks its schema raises :class:`SchemaValidationError` (every
failing JSON pointer listed) and nothing is sent. On consume it is dead-lettered at once with
``deadletterreason=validation-error`` and the pointers in ``deadlettererror`` (an unknown
``dataschema``: ``unknown-schema``; a schema the registry could not compile: ``schema-error``);
the subscription goes on. The schema version is the one the event's ``dataschema`` names, else
the latest.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable
from typing import Any

import msgspec

from eventbus._bus._middleware import ConsumeContext, ConsumeNext, Middleware, PublishNext
from eventbus._bus._router import type_matcher
from eventbus._contracts.model import Deprecation
from eventbus._contracts.registry import Registry, SchemaVersion
from eventbus._errors import (
    DecodeError,
    InvalidSchemaError,
    RejectedEventError,
    SchemaValidationError,
    UnknownSchemaError,
    Violation,
)
from eventbus._wire._bindings import decode
from eventbus._wire._data import is_json_type
from eventbus._wire._event import Event
from eventbus._wire._types import ExtensionValue

__all__ = ["ValidationMiddleware", "deprecation_attributes", "event_data"]

log = logging.getLogger("eventbus.contracts")
_JSON_SCALARS = (str, int, float, bool)
_JSON_VALUES = (str, int, float, bool, dict, list)


def event_data(event: Event[Any]) -> Any:
    """The event's data as the JSON value that goes on the wire (Structs, dataclasses and
    datetimes converted as the JSON encoder would; JSON bytes parsed)."""
    data = event.data
    if not is_json_type(event.datacontenttype):
        raise SchemaValidationError(
            [Violation("", "datacontenttype", f"data is {event.datacontenttype}, not JSON")],
            event_type=event.type,
        )
    if data is None or isinstance(data, _JSON_SCALARS):
        return data
    if isinstance(data, bytes | bytearray | memoryview):
        try:
            return msgspec.json.decode(bytes(data))
        except msgspec.DecodeError as exc:
            raise SchemaValidationError(
                [Violation("", "datacontenttype", f"data is not valid JSON: {exc}")],
                event_type=event.type,
            ) from None
    return msgspec.to_builtins(data, str_keys=True)


class ValidationMiddleware(Middleware):
    """Validate event data against a contract :class:`Registry` (or its path).

    ``publish`` / ``consume``: which directions to check. ``consume`` may also be a predicate on
    the :class:`ConsumeContext` (channel, group, pattern) to switch validation per subscription,
    e.g. ``consume=lambda ctx: ctx.group != "audit"``. ``types``: event type patterns to check
    (``com.example.shop.>``); others pass. Types without a contract pass unless
    ``require_contract``. Published events without ``dataschema`` get the URI of the version
    they were checked against (``stamp_dataschema``), and deprecated types and versions get
    the CloudEvents deprecation extension (with a warning logged once). Events that were
    already dead-lettered (they carry ``deadletterreason``) are not checked again.
    """

    def __init__(
        self,
        registry: Registry | str | os.PathLike[str] = "contracts",
        *,
        publish: bool = True,
        consume: bool | Callable[[ConsumeContext], bool] = True,
        types: str | Iterable[str] | None = None,
        require_contract: bool = False,
        stamp_dataschema: bool = True,
    ) -> None:
        self.registry = registry if isinstance(registry, Registry) else Registry(registry)
        self._publish = publish
        self._consume = consume
        patterns = [types] if isinstance(types, str) else list(types or ())
        matchers = [type_matcher(p) for p in patterns]
        self._wanted: Callable[[str], bool] | None = (
            (lambda t: any(m(t) for m in matchers)) if matchers else None
        )
        self._require = require_contract
        self._stamp = stamp_dataschema
        self._per_subscription: dict[tuple[str, str | None, str], bool] = {}
        self._warned: set[tuple[str, int]] = set()

    def __repr__(self) -> str:
        return f"ValidationMiddleware({self.registry!r})"

    # -- publish ------------------------------------------------------------------------------

    async def on_publish(self, event: Event[Any], call_next: PublishNext) -> None:
        if self._publish and (self._wanted is None or self._wanted(event.type)):
            event = self.check(event)
        await call_next(event)

    def check(self, event: Event[Any]) -> Event[Any]:
        """Validate a to-be-published event; return it as it should be sent (``dataschema``
        stamped, deprecation attributes added). Raises :class:`SchemaValidationError` or
        :class:`UnknownSchemaError`."""
        sv = self._resolve(event)
        if sv is None:
            return event
        data = event_data(event)
        validator = self.registry.validator(sv.type, sv.version)
        try:
            valid = validator.is_valid(data)
        except ValueError:  # not JSON, or too deep to compare: validate() says which
            valid = False
        if not valid:
            raise SchemaValidationError(
                validator.validate(data),
                event_type=sv.type,
                version=sv.version,
                dataschema=sv.uri,
            )
        if event.dataschema is None and self._stamp:
            event = event.replace(dataschema=sv.uri)
        deprecation = self.registry.contract(sv.type).deprecation(sv.version)
        if deprecation is not None:
            event = self._deprecated(event, sv, deprecation)
        return event

    def _deprecated(self, event: Event[Any], sv: SchemaVersion, deprecation: Any) -> Event[Any]:
        if (sv.type, sv.version) not in self._warned:
            self._warned.add((sv.type, sv.version))
            log.warning("eventbus: publishing %s, which is %s", sv, deprecation.describe())
        return event.with_extensions(**deprecation_attributes(self.registry, deprecation))

    def _resolve(self, event: Event[Any]) -> SchemaVersion | None:
        sv = self.registry.resolve(event.type, event.dataschema)
        if sv is None and self._require:
            raise UnknownSchemaError(
                f"{event.type!r} has no contract in the registry at {self.registry.root} "
                "and this bus requires one (require_contract=True)"
            )
        return sv

    # -- consume ------------------------------------------------------------------------------

    def _consume_enabled(self, context: ConsumeContext) -> bool:
        if isinstance(self._consume, bool):
            return self._consume
        key = (context.pattern, context.group, context.channel)
        enabled = self._per_subscription.get(key)
        if enabled is None:
            enabled = self._per_subscription[key] = bool(self._consume(context))
        return enabled

    async def on_consume(
        self, event: Event[Any], context: ConsumeContext, call_next: ConsumeNext
    ) -> None:
        if (
            self._consume_enabled(context)
            and (self._wanted is None or self._wanted(event.type))
            and "deadletterreason" not in event.extensions
        ):
            self._check_received(event, context)
        await call_next(event, context)

    def _check_received(self, event: Event[Any], context: ConsumeContext) -> None:
        try:
            sv = self._resolve(event)
            if sv is None:
                return
            data = _wire_data(event, context)
            validator = self.registry.validator(sv.type, sv.version)
            try:
                valid = validator.is_valid(data)
            except ValueError:
                valid = False
            if not valid:
                raise SchemaValidationError(
                    validator.validate(data),
                    event_type=sv.type,
                    version=sv.version,
                    dataschema=sv.uri,
                )
        except SchemaValidationError as exc:
            raise RejectedEventError(str(exc), reason="validation-error") from exc
        except UnknownSchemaError as exc:
            raise RejectedEventError(str(exc), reason="unknown-schema") from exc
        except InvalidSchemaError as exc:
            raise RejectedEventError(str(exc), reason="schema-error") from exc


def deprecation_attributes(registry: Registry, deprecation: Deprecation) -> dict[str, Any]:
    """The CloudEvents deprecation extension the bus adds to events of a deprecated type or
    version: ``deprecated``, ``deprecationfrom``, ``deprecationsunset`` and
    ``deprecationmigration`` (the ``migration`` URI, else the replacement's latest
    ``dataschema``)."""
    values: dict[str, ExtensionValue | None] = {"deprecated": True}
    if deprecation.since is not None:
        values["deprecationfrom"] = deprecation.since
    if deprecation.sunset is not None:
        values["deprecationsunset"] = deprecation.sunset
    migration = deprecation.migration
    if migration is None and deprecation.replaced_by in registry.types:
        migration = registry.contract(deprecation.replaced_by).latest.uri
    if migration is not None:
        values["deprecationmigration"] = migration
    return values


def _wire_data(event: Event[Any], context: ConsumeContext) -> Any:
    """The data as it arrived: as is when the handler took generic JSON, else decoded again
    from the received message (a typed view fills defaults and drops unknown members)."""
    data = event.data
    if (data is None or isinstance(data, _JSON_VALUES)) and is_json_type(event.datacontenttype):
        return data
    if context.message is not None and context.binding is not None:
        try:
            raw = decode(context.message, context.binding)
        except DecodeError:
            pass
        else:
            return event_data(raw)
    return event_data(event)
