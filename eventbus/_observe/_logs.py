"""Structured logs that carry event ids: a logging middleware and a JSON formatter (stdlib only).

``LoggingMiddleware`` logs every publish and every handler run on the ``eventbus.events`` logger
with the event's identity in ``extra=`` (``event_id``, ``event_type``, ``event_source``,
``channel``, ``group``, ``attempt``, ``duration_ms``, ``outcome``). ``JsonFormatter`` renders
any record, these fields included, as one JSON object per line::

    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    logging.getLogger("eventbus").addHandler(handler)
"""

from __future__ import annotations

import json
import logging
import time
from datetime import UTC, datetime
from typing import Any

from eventbus._bus._middleware import ConsumeContext, ConsumeNext, Middleware, PublishNext
from eventbus._wire._event import Event

__all__ = ["JsonFormatter", "LoggingMiddleware"]

# Attributes every LogRecord has: anything else on a record came from ``extra=``.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    """One JSON object per record: ``time``, ``level``, ``logger``, ``message``, every
    ``extra=`` field, and ``exception`` when there is one. Values JSON cannot hold are
    rendered with ``str``."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def event_fields(event: Event[Any]) -> dict[str, Any]:
    return {"event_id": event.id, "event_type": event.type, "event_source": event.source}


class LoggingMiddleware(Middleware):
    """Log each publish (``published``) and handler run (``handled`` / ``handler failed``).

    ``level``: of the success lines (failures are WARNING). ``logger``: default
    ``eventbus.events``.
    """

    def __init__(self, *, level: int = logging.INFO, logger: logging.Logger | None = None) -> None:
        self.level = level
        self.log = logger or logging.getLogger("eventbus.events")

    async def on_publish(self, event: Event[Any], call_next: PublishNext) -> None:
        await call_next(event)
        if self.log.isEnabledFor(self.level):
            self.log.log(self.level, "published %s", event.id, extra=event_fields(event))

    async def on_consume(
        self, event: Event[Any], context: ConsumeContext, call_next: ConsumeNext
    ) -> None:
        start = time.perf_counter()
        try:
            await call_next(event, context)
        except Exception as exc:
            fields = self._fields(event, context, start, "error")
            fields["error"] = f"{type(exc).__name__}: {exc}"
            self.log.warning("handler failed on %s: %s", event.id, fields["error"], extra=fields)
            raise
        if self.log.isEnabledFor(self.level):
            fields = self._fields(event, context, start, "success")
            self.log.log(self.level, "handled %s", event.id, extra=fields)

    @staticmethod
    def _fields(
        event: Event[Any], context: ConsumeContext, start: float, outcome: str
    ) -> dict[str, Any]:
        fields = event_fields(event)
        fields.update(
            channel=context.channel,
            group=context.group,
            attempt=context.attempt,
            duration_ms=round((time.perf_counter() - start) * 1000, 3),
            outcome=outcome,
        )
        return fields
