"""Every distribution builds a wheel and an sdist that ``twine check`` accepts, and the core
plus an adapter install from a checkout into a fresh venv (``pip install . ./adapters/nats``)."""

from __future__ import annotations

import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DISTRIBUTIONS = [ROOT, *sorted(p.parent for p in (ROOT / "adapters").glob("*/pyproject.toml"))]


def run(*args: str | Path, cwd: Path = ROOT) -> str:
    result = subprocess.run(
        [str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=900
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return result.stdout


@pytest.mark.slow
def test_every_distribution_builds_a_wheel_and_an_sdist_twine_accepts(tmp_path: Path) -> None:
    assert len(DISTRIBUTIONS) >= 6  # the core and every adapter in adapters/
    for source in DISTRIBUTIONS:
        out = tmp_path / source.name
        run(sys.executable, "-m", "build", "--wheel", "--sdist", "--outdir", out, source)
        built = sorted(out.iterdir())
        assert sorted(p.suffix for p in built) == [".gz", ".whl"], built
        assert "PASSED" in run(sys.executable, "-m", "twine", "check", "--strict", *built)


@pytest.mark.slow
def test_core_and_nats_install_from_a_checkout_into_a_fresh_venv(tmp_path: Path) -> None:
    venv.create(tmp_path / "venv", with_pip=True)
    python = tmp_path / "venv" / "bin" / "python"
    run(python, "-m", "pip", "install", "-q", ".", "./adapters/nats")
    out = run(
        python,
        "-c",
        "from eventbus import EventBus; print(EventBus('nats://127.0.0.1:4222').adapter.name)",
        cwd=tmp_path,
    )
    assert out.strip() == "nats"
