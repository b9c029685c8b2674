"""docs/interop.md is generated from the interop suite's results: this test, the suite's last,
renders it and fails when the committed page differs (``EVENTBUS_WRITE_INTEROP=1`` rewrites it)."""

from __future__ import annotations

import os
from pathlib import Path

from matrix import RESULTS, ROWS, RPC_RESULTS, RPC_ROWS, render

PAGE = Path(__file__).resolve().parents[2] / "docs" / "interop.md"


def test_every_row_ran() -> None:
    missing = [row.key for row in ROWS if row.key not in RESULTS]
    missing += [row.key for row in RPC_ROWS if row.key not in RPC_RESULTS]
    assert not missing, (
        f"run the whole interop suite (tests/interop) to render the matrix: {missing}"
    )


def test_the_committed_matrix_is_current() -> None:
    page = render()
    if os.environ.get("EVENTBUS_WRITE_INTEROP") == "1":
        PAGE.write_text(page, encoding="utf-8")
    assert PAGE.read_text(encoding="utf-8") == page, (
        "docs/interop.md is stale: run EVENTBUS_WRITE_INTEROP=1 pytest tests/interop"
    )
