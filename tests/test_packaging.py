"""Every distribution builds a wheel and an sdist that ``twine check`` accepts, and the core
and every adapter install from a checkout into one fresh venv
(``pip install . ./adapters/nats ...``)."""

from __future__ import annotations

import json
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


# scheme -> (distribution, import name, a URL EventBus opens without connecting)
ADAPTERS = {
    "nats": ("eventbus-nats", "eventbus_nats", "nats://127.0.0.1:4222"),
    "pubsub": ("eventbus-pubsub", "eventbus_pubsub", "pubsub://local-project"),
    "servicebus": ("eventbus-servicebus", "eventbus_servicebus", "servicebus://ns"),
    "sqs": ("eventbus-aws", "eventbus_aws", "sqs://eu-west-1"),
    "kafka": ("eventbus-kafka", "eventbus_kafka", "kafka://127.0.0.1:9092"),
}


@pytest.mark.slow
def test_core_and_every_adapter_install_from_a_checkout_into_one_fresh_venv(
    tmp_path: Path,
) -> None:
    """``pip install . ./adapters/*`` (pip's cache keeps it fast): every adapter imports, and
    ``eventbus adapters --json`` resolves its URL scheme to its distribution."""
    checked_out = sorted(p.parent.name for p in (ROOT / "adapters").glob("*/pyproject.toml"))
    assert sorted(d.split("-", 1)[1] for d, _, _ in ADAPTERS.values()) == checked_out
    venv.create(tmp_path / "venv", with_pip=True)
    python = tmp_path / "venv" / "bin" / "python"
    adapters = [f"./adapters/{name}" for name in checked_out]
    run(python, "-m", "pip", "install", "-q", "--disable-pip-version-check", ".", *adapters)
    listing = json.loads(run(python, "-m", "eventbus", "adapters", "--json", cwd=tmp_path))
    schemes = listing["adapters"]
    assert {s: schemes[s]["distribution"] for s in ADAPTERS} == {
        s: d for s, (d, _, _) in ADAPTERS.items()
    }
    assert schemes["memory"]["distribution"] == "eventbus"
    opened = "; ".join(
        f"import {module}; print(EventBus({url!r}).adapter.name)"
        for module, url in ((m, u) for _, m, u in ADAPTERS.values())
    )
    out = run(python, "-c", f"from eventbus import EventBus; {opened}", cwd=tmp_path)
    assert out.split() == list(ADAPTERS)  # each adapter names itself after its scheme
