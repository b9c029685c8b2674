"""The ``eventbus.webhooks`` facade: its ``__all__`` is exactly its public names, its errors
derive from the one root, and importing it loads no HTTP or SMTP client."""

from __future__ import annotations

import subprocess
import sys

import eventbus
import eventbus.webhooks as webhooks


def test_all_lists_exactly_the_public_names() -> None:
    names = {n for n in dir(webhooks) if not n.startswith(("_", "@"))}
    assert set(webhooks.__all__) == names


def test_every_error_derives_from_the_webhook_root() -> None:
    for name in webhooks.__all__:
        obj = getattr(webhooks, name)
        if isinstance(obj, type) and issubclass(obj, Exception):
            assert issubclass(obj, eventbus.WebhookError), name
            assert issubclass(obj, eventbus.EventBusError), name


def test_import_loads_no_client() -> None:
    code = (
        "import sys, eventbus.webhooks; print('httpx' in sys.modules, 'aiosmtplib' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
