"""mkdocs hook: complete the API reference from the packages' ``__all__``.

A page holding ``<!-- reference: eventbus -->`` (or ``eventbus.adapter``, ``eventbus.testing``)
gets a ``::: module.NAME`` block for every public name the page does not document yet, grouped
by the private module it comes from; a name ``eventbus.adapter`` shares with ``eventbus`` is
linked to its entry there. A new public name therefore appears in the reference by itself (and
``tests/test_docs_build.py`` checks that each has a docstring).
"""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path
from typing import Any

_MARKER = re.compile(r"^<!-- reference: ([\w.]+) -->$", re.M)
_SECTIONS = [
    ("Bus and events", ("eventbus._bus", "eventbus._wire._event")),
    ("Wire formats and bindings", ("eventbus._wire",)),
    ("Middleware and observability", ("eventbus._observe",)),
    ("Reliability", ("eventbus._reliability", "eventbus._idempotency")),
    ("Transactional outbox", ("eventbus._outbox",)),
    ("Dead letters", ("eventbus._dlq",)),
    ("Request-reply", ("eventbus._rpc",)),
    ("Contracts", ("eventbus._contracts",)),
    ("Webhooks", ("eventbus._webhooks",)),
    (
        "Adapter contract and plugins",
        (
            "eventbus._adapter._contract",
            "eventbus._adapter._plugins",
            "eventbus._adapter._hookspecs",
        ),
    ),
    (
        "Adapter toolkit",
        ("eventbus._adapter._toolkit", "eventbus._adapter._keygate", "eventbus._redact"),
    ),
    ("Errors", ("eventbus._errors",)),
    ("Testing", ("eventbus.testing",)),
]


def _origins(module: str) -> dict[str, str]:
    """Each imported name of ``module``'s ``__init__``: the module it is imported from."""
    spec = importlib.util.find_spec(module)
    assert spec is not None and spec.origin is not None
    tree = ast.parse(Path(spec.origin).read_text())
    return {
        alias.asname or alias.name: node.module or ""
        for node in tree.body
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }


def _section(origin: str) -> str:
    for title, prefixes in _SECTIONS:
        if origin.startswith(prefixes):
            return title
    return "More"


def generate(module: str, documented: set[str]) -> str:
    """The Markdown for ``module``'s public names missing from ``documented``."""
    package = importlib.import_module(module)
    core = set(importlib.import_module("eventbus").__all__) if module != "eventbus" else set()
    origins = _origins(module)
    groups: dict[str, list[str]] = {}
    shared = []
    for name in package.__all__:
        if name in documented:
            continue
        if name in core:
            shared.append(name)
            continue
        groups.setdefault(_section(origins.get(name, "")), []).append(name)
    out = []
    order = [title for title, _ in _SECTIONS] + ["More"]
    for title in sorted(groups, key=order.index):
        out.append(f"## {title}\n")
        out.extend(f"::: {module}.{name}\n" for name in groups[title])
    if shared:
        out.append("## Also exported by `eventbus`\n")
        out.append(", ".join(f"[`{n}`][eventbus.{n}]" for n in shared) + "\n")
    return "\n".join(out)


def on_page_markdown(markdown: str, **kwargs: Any) -> str:
    def expand(match: re.Match[str]) -> str:
        module = match[1]
        documented = set(re.findall(rf"^::: {re.escape(module)}\.(\w+)", markdown, re.M))
        return generate(module, documented)

    return _MARKER.sub(expand, markdown)
