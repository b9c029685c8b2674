"""``SmtpSink``: the second sink. ``mailto:`` endpoints get each event as a mail.

The mail's body is the event in the JSON event format (structured mode, UTF-8; an
``application/json`` part in base64, so it decodes to exactly the signed bytes), its subject
``[eventbus] <type>``; it carries the Standard Webhooks headers (``webhook-id``,
``webhook-timestamp``, ``webhook-signature`` over the body) so a mail robot can verify it as an
HTTP receiver would. An SMTP error (refused recipient, unreachable server, timeout) is a failed
attempt (:class:`DeliveryFailedError` with the SMTP code as ``status``), retried on the
endpoint's schedule like an HTTP failure. Sent with ``aiosmtplib``.
"""

from __future__ import annotations

import time
from email.message import EmailMessage
from typing import Any
from urllib.parse import unquote, urlsplit

from eventbus._errors import ConfigurationError
from eventbus._store._dbutil import require
from eventbus._webhooks._model import Endpoint
from eventbus._webhooks._signature import signature_headers
from eventbus._webhooks._sinks import DeliveryFailedError, webhook_id
from eventbus._wire._event import Event
from eventbus._wire._format import to_json

__all__ = ["SmtpSink"]


class SmtpSink:
    """Sends ``mailto:`` endpoints' events through the SMTP server at ``host:port``.

    ``sender`` is the From address; ``username``/``password`` log in when given (never shown
    in ``repr`` or errors); ``start_tls`` upgrades the connection (None: when offered).
    """

    def __init__(
        self,
        host: str,
        port: int = 25,
        *,
        sender: str = "eventbus@localhost",
        username: str | None = None,
        password: str | None = None,
        start_tls: bool | None = None,
        timeout: float = 30.0,
    ) -> None:
        if not host or not 0 < port < 65536:
            raise ConfigurationError(f"SMTP server must be a host and a port, got {host}:{port}")
        self._smtp: Any = require("aiosmtplib", "webhooks")
        self.host = host
        self.port = port
        self.sender = sender
        self._username = username
        self._password = password
        self._start_tls = start_tls
        self._timeout = timeout

    def __repr__(self) -> str:
        login = ", login=<hidden>" if self._username else ""
        return f"SmtpSink({self.host!r}, {self.port}{login})"

    def accepts(self, endpoint: Endpoint) -> bool:
        return endpoint.url.startswith("mailto:")

    def render(self, endpoint: Endpoint, event: Event[Any]) -> EmailMessage:
        """The mail for ``event`` (signed now)."""
        recipient = unquote(urlsplit(endpoint.url).path)
        body = to_json(event)
        mail = EmailMessage()
        mail["From"] = self.sender
        mail["To"] = recipient
        mail["Subject"] = f"[eventbus] {event.type}"
        signed = signature_headers(webhook_id(event), int(time.time()), body, endpoint.secrets)
        for name, value in signed.items():
            mail[name] = value
        # As bytes (base64 on the wire): the decoded part is exactly the signed body.
        mail.set_content(body, maintype="application", subtype="json")
        return mail

    async def send(self, endpoint: Endpoint, event: Event[Any]) -> None:
        mail = self.render(endpoint, event)
        smtp = self._smtp
        try:
            await smtp.send(
                mail,
                hostname=self.host,
                port=self.port,
                username=self._username,
                password=self._password,
                start_tls=self._start_tls,
                timeout=min(self._timeout, endpoint.timeout),
            )
        except smtp.SMTPRecipientsRefused as exc:
            refused = exc.recipients[0] if exc.recipients else None
            raise DeliveryFailedError(
                f"SMTP server {self.host}:{self.port} refused the recipient",
                status=getattr(refused, "code", None),
                snippet=" ".join(str(getattr(refused, "message", "")).split())[:200],
                protocol="SMTP",
            ) from None
        except smtp.SMTPResponseException as exc:
            raise DeliveryFailedError(
                f"SMTP server {self.host}:{self.port} refused the mail",
                status=exc.code,
                snippet=" ".join(str(exc.message).split())[:200],
                protocol="SMTP",
            ) from None
        except (smtp.SMTPException, OSError) as exc:
            raise DeliveryFailedError(
                f"SMTP server {self.host}:{self.port} failed: {type(exc).__name__}"
            ) from None

    async def close(self) -> None:
        return None
