"""The ``eventbus`` command (tools layer): the parser and dispatcher (``_main``), shared argument
readers (``_args``), ``publish`` (``_publish``), ``groups`` (``_groups``), ``demo`` (``_demo``)
and the terminal progress display (``_progress``).

Feature commands live with their feature (``_dlq/_cli``, ``_jobs/_cli``, ``_webhooks/_cli``,
``_outbox/cli``, ``_contracts/cli``, ``_runtime``) and are registered in ``_main``.
``main`` is the console script (``eventbus = "eventbus._cli:main"``) and ``python -m eventbus``.
"""

from eventbus._cli._main import main

__all__ = ["main"]
