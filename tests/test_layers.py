"""The folders of ``eventbus/`` are the layers of docs/architecture.md, and imports point down.

Every ``import`` of an eventbus module, at the top of a module or inside a function, is read
from the source (nothing is imported) and must name a module of the importer's own layer or of
a layer below it. The exceptions are the two that docs/architecture.md names: a feature's
command module (``cli`` / ``_cli`` in its feature's folder) belongs to the tools layer, and the
plugin manager loads the built-in memory plugin; any module may read ``eventbus.__version__``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "eventbus"

# Lowest first; a module may import from its own layer and the ones before it.
LAYERS: list[tuple[str, set[str]]] = [
    ("foundation", {"_errors", "_redact"}),
    ("wire", {"_wire"}),
    ("adapter contract", {"_adapter"}),
    ("adapters", {"_memory"}),
    ("store", {"_store"}),
    ("bus", {"_bus", "_rpc"}),
    ("policies", {"_idempotency", "_outbox", "_reliability", "_observe", "_contracts"}),
    ("patterns", {"_webhooks", "_jobs", "_dlq"}),
    ("tools", {"_cli", "_runtime"}),
    ("facades", {"__init__", "__main__", "adapter", "webhooks", "testing"}),
]
RANK = {part: rank for rank, (_, parts) in enumerate(LAYERS) for part in parts}
TOOLS = RANK["_cli"]
ALLOWED = {("eventbus._adapter._plugins", "eventbus._memory")}  # the built-in plugin


def _module(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _rank(module: str) -> int:
    parts = module.split(".")
    if len(parts) == 1:
        return RANK["__init__"]
    if parts[-1] in ("cli", "_cli") and len(parts) == 3:
        return TOOLS  # a feature's command module
    return RANK[parts[1]]


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "eventbus":
                # the facade; its ``__version__`` may be read (lazily) from anywhere
                if any(alias.name != "__version__" for alias in node.names):
                    found.add(node.module)
            elif node.module.startswith("eventbus."):
                # ``from eventbus._x import _y`` may name a submodule: count the package.
                found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "eventbus")
    return found


MODULES = sorted(PACKAGE.rglob("*.py"))


def test_every_folder_and_flat_module_belongs_to_a_layer() -> None:
    tops = {p.relative_to(PACKAGE).parts[0].removesuffix(".py") for p in MODULES}
    assert tops <= set(RANK), sorted(tops - set(RANK))
    flat = {p.stem for p in PACKAGE.glob("*.py")}
    assert flat == {"__init__", "__main__", "_errors", "_redact", "adapter", "webhooks"}


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_point_down(path: Path) -> None:
    importer = _module(path)
    upward = [
        target
        for target in sorted(_imports(path))
        if _rank(target) > _rank(importer) and (importer, target) not in ALLOWED
    ]
    assert not upward, f"{importer} imports from a higher layer: {upward}"


ADAPTER_SOURCES = sorted((PACKAGE.parent / "adapters").glob("*/eventbus_*/**/*.py"))


def test_adapters_import_only_the_toolkit_from_eventbus() -> None:
    assert len({p.parts[-3] for p in ADAPTER_SOURCES}) >= 5, ADAPTER_SOURCES[:3]
    wrong = {
        f"{path.relative_to(PACKAGE.parent)}: {target}"
        for path in ADAPTER_SOURCES
        for target in _imports(path)
        if target != "eventbus.adapter"
    }
    assert not wrong, sorted(wrong)
