"""The base registry for ``check --against``: a directory, or the registry at a git ref."""

from __future__ import annotations

import io
import subprocess
import tarfile
import tempfile
from pathlib import Path

from eventbus._errors import RegistryError

__all__ = ["materialize"]


def _git(args: list[str], cwd: Path) -> bytes:
    try:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, check=False, timeout=60)
    except FileNotFoundError:
        raise RegistryError("git is not installed; pass a directory to --against") from None
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise RegistryError(f"git {' '.join(args)}: {message[-1] if message else 'failed'}")
    return done.stdout


def materialize(against: str, registry_root: Path, into: Path) -> Path | None:
    """A directory holding the base registry. ``against`` is a directory, or a git ref at which
    the registry's path is read (with ``git archive``) into ``into``. None when the ref has no
    registry there yet (everything is new). Raises :class:`RegistryError` for a bad ref."""
    candidate = Path(against)
    if candidate.is_dir():
        return candidate
    root = registry_root.resolve()
    try:
        top = Path(_git(["rev-parse", "--show-toplevel"], root).decode().strip())
    except RegistryError as exc:
        raise RegistryError(
            f"--against {against!r} is not a directory, and the registry at {registry_root} is "
            f"not in a git repository to read a ref from ({exc})"
        ) from None
    relative = root.relative_to(top).as_posix()
    try:
        _git(["rev-parse", "--verify", "--quiet", f"{against}^{{commit}}"], top)
    except RegistryError:
        raise RegistryError(
            f"--against {against!r} is neither a directory nor a commit of the repository at "
            f"{top}: expected a branch, tag or commit (e.g. origin/main; fetch it first, with "
            "the history: fetch-depth 0 in CI)"
        ) from None
    listed = _git(["ls-tree", "-d", "--name-only", against, "--", relative], top)
    if not listed.strip():
        return None
    archive = _git(["archive", "--format=tar", against, "--", relative], top)
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into / relative


def temporary_directory() -> tempfile.TemporaryDirectory[str]:
    return tempfile.TemporaryDirectory(prefix="eventbus-base-")
