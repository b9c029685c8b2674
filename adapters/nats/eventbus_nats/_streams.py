"""Which JetStream stream holds a subject: found on the server, provisioned, or reported missing.

Lookup order for a channel: a stream that already captures it (whoever created it); else, with
``provision=True``, the template stream of its first token (``EVENTBUS_<root>`` capturing
``<root>`` and ``<root>.>``); else ConfigurationError naming the stream that is expected.
"""

from __future__ import annotations

import json
import logging

import nats.js.errors
from nats.aio.client import Client
from nats.js import api

from eventbus.adapter import BrokerConnectionError, ConfigurationError, Scrubber
from eventbus_nats._config import NatsConfig, StreamConfig
from eventbus_nats._errors import translated
from eventbus_nats._names import root_of, stream_name

__all__ = ["Streams"]

log = logging.getLogger("eventbus.nats")
_NAME_IN_USE = 10058
_SUBJECTS_OVERLAP = 10065
_API_TIMEOUT = 5.0


def _stream_config(settings: StreamConfig, name: str, subjects: list[str]) -> api.StreamConfig:
    return api.StreamConfig(
        name=name,
        subjects=subjects,
        retention=api.RetentionPolicy(settings.retention),
        storage=api.StorageType(settings.storage),
        max_age=settings.max_age or 0,
        max_bytes=settings.max_bytes or -1,
        max_msgs=settings.max_msgs or -1,
        duplicate_window=settings.duplicate_window,
        num_replicas=settings.replicas,
    )


class Streams:
    """Resolves (and caches) the stream of each subject or subscription pattern."""

    def __init__(self, nc: Client, config: NatsConfig, scrub: Scrubber) -> None:
        self._nc = nc
        self._js = nc.jetstream(timeout=_API_TIMEOUT)
        self._config = config
        self._scrub = scrub
        self._cache: dict[str, str] = {}

    async def prepare(self) -> None:
        """Check that JetStream is on; provision or verify the configured fixed streams."""
        try:
            with translated("asking the server for JetStream", self._scrub):
                await self._js.account_info()
        except BrokerConnectionError:
            raise
        except Exception as exc:
            raise ConfigurationError(
                "JetStream is not enabled on the NATS server (run nats-server with -js), "
                "or connect with mode=core"
            ) from exc
        for stream in self._config.fixed_streams:
            await self._ensure(stream, stream.name, list(stream.subjects))

    async def stream_for(self, subject: str) -> str:
        """The stream capturing ``subject`` (a channel or a subscription pattern)."""
        name = self._cache.get(subject)
        if name is None:
            name = await self._resolve(subject)
            self._cache[subject] = name
        return name

    async def existing(self, subject: str) -> str | None:
        """The stream capturing ``subject`` if there is one; nothing is provisioned."""
        name = self._cache.get(subject)
        if name is not None:
            return name
        names = await self._names(subject)
        if len(names) > 1:
            raise ConfigurationError(
                f"{subject!r} spans the JetStream streams {', '.join(sorted(names))}"
            )
        return names[0] if names else None

    def forget(self, subject: str) -> None:
        self._cache.pop(subject, None)

    async def _names(self, subject: str) -> list[str]:
        request = json.dumps({"subject": subject}).encode()
        with translated(f"looking up the stream of {subject!r}", self._scrub):
            reply = await self._nc.request("$JS.API.STREAM.NAMES", request, timeout=_API_TIMEOUT)
        body = json.loads(reply.data)
        if "error" in body:
            error = body["error"]
            raise BrokerConnectionError(
                f"looking up the stream of {subject!r}: {error.get('description')}"
            )
        return list(body.get("streams") or [])

    async def _resolve(self, subject: str) -> str:
        names = await self._names(subject)
        if len(names) == 1:
            return names[0]
        if len(names) > 1:
            raise ConfigurationError(
                f"{subject!r} spans the JetStream streams {', '.join(sorted(names))}; "
                "a subscription reads one stream: use a narrower pattern"
            )
        template, root = self._config.template, root_of(subject)
        if template is None or root is None:
            why = "no stream template is configured" if root else "its first token is a wildcard"
            raise ConfigurationError(
                f"no JetStream stream captures {subject!r} and none can be provisioned "
                f"({why}); add it to a stream in NatsConfig.streams"
            )
        name = stream_name(template.name, root)
        await self._ensure(template, name, [root, f"{root}.>"])
        return name

    async def _ensure(self, settings: StreamConfig, name: str, subjects: list[str]) -> None:
        """Create the stream ``name`` (provision) or check that it exists (no provision)."""
        try:
            with translated(f"reading JetStream stream {name!r}", self._scrub):
                info = await self._js.stream_info(name)
        except BrokerConnectionError:
            raise
        except Exception as exc:
            if not isinstance(exc.__cause__, nats.js.errors.NotFoundError):
                raise
        else:
            missing = set(subjects) - set(info.config.subjects or ())
            if missing and settings.is_template:
                raise ConfigurationError(
                    f"JetStream stream {name!r} exists but does not capture {sorted(missing)}"
                )
            if missing:
                log.warning("nats: stream %r does not capture %s", name, sorted(missing))
            return
        if not self._config.provision:
            raise ConfigurationError(
                f"JetStream stream {name!r} (subjects {subjects}) does not exist; create it, "
                "or let the adapter provision it (provision=True)"
            )
        try:
            with translated(f"creating JetStream stream {name!r}", self._scrub):
                await self._js.add_stream(_stream_config(settings, name, subjects))
        except BrokerConnectionError:
            raise
        except Exception as exc:
            cause = exc.__cause__
            code = cause.err_code if isinstance(cause, nats.js.errors.APIError) else None
            if code == _SUBJECTS_OVERLAP:
                raise ConfigurationError(
                    f"cannot create JetStream stream {name!r} for {subjects}: the subjects "
                    "overlap another stream; capture them in NatsConfig.streams instead"
                ) from exc
            if code != _NAME_IN_USE:  # someone else created it meanwhile: use theirs
                raise
        log.info("nats: created JetStream stream %r for %s", name, subjects)
