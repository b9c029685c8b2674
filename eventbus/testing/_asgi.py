"""``serve_asgi``: run an ASGI app (an :class:`~eventbus.IngressApp`, a Starlette site) under a
real uvicorn server on a free port, in the calling event loop, for the length of a block."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Literal

from eventbus._errors import ConfigurationError

__all__ = ["serve_asgi"]


def _free_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        port: int = s.getsockname()[1]
        return port


@asynccontextmanager
async def serve_asgi(
    app: Any,
    *,
    host: str = "127.0.0.1",
    lifespan: Literal["on", "off", "auto"] = "off",
    timeout: float = 15.0,
) -> AsyncIterator[str]:
    """Serve ``app`` with uvicorn until the block ends; yields its base URL
    (``http://127.0.0.1:PORT``). ``lifespan="on"`` runs the app's startup and shutdown."""
    try:
        import uvicorn
    except ImportError as exc:
        raise ConfigurationError("serve_asgi needs uvicorn: pip install uvicorn") from exc
    port = _free_port(host)
    config = uvicorn.Config(
        app, host=host, port=port, lifespan=lifespan, log_level="warning", access_log=False
    )
    server = uvicorn.Server(config)
    task = asyncio.ensure_future(server.serve())
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not server.started:
            if task.done():
                task.result()  # raises what stopped it
                raise ConfigurationError(f"uvicorn stopped before serving on {host}:{port}")
            if loop.time() > deadline:
                raise TimeoutError(f"uvicorn did not start within {timeout:g} s")
            await asyncio.sleep(0.01)
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout)
