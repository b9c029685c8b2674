"""Real Redis and PostgreSQL servers for tests: free ports, temporary data directories.

Both come from Debian packages (``redis-server``, ``postgresql``; scripts/test.sh installs them).
PostgreSQL refuses to run as root, so as root its commands run as the ``postgres`` system user
(created by the package) or, failing that, ``nobody`` (the server is our direct child either
way, so stopping it never leaves it behind). The superuser has a password, so tests
see real credentials in URLs (and check they never reach a log or an error).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

__all__ = ["PostgresServer", "RedisServer", "free_port"]

PG_PASSWORD = "s3cret-pg-pw"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_port(port: int, process: subprocess.Popen[bytes], log: Path, what: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited ({process.returncode}): {log.read_text()[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{what} did not listen on port {port}: {log.read_text()[-2000:]}")


def _stop(process: subprocess.Popen[bytes] | None, sig: int = signal.SIGTERM) -> None:
    if process is None or process.poll() is not None:
        return
    process.send_signal(sig)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


class RedisServer:
    def __init__(self, workdir: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed (apt-get install redis-server)")
        self.binary = binary
        self.workdir = workdir
        self.port = free_port()
        self.log = workdir / "redis.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        args = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1"]
        args += ["--dir", str(self.workdir), "--save", "", "--appendonly", "no"]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        _wait_port(self.port, self.process, self.log, "redis-server")
        return self

    def stop(self) -> None:
        _stop(self.process)
        self.process = None


def _pg_bindir() -> Path:
    for name in ("initdb", "postgres"):
        found = shutil.which(name)
        if found:
            return Path(os.path.realpath(found)).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not candidates:
        raise RuntimeError("PostgreSQL is not installed (apt-get install postgresql)")
    return Path(candidates[-1]).parent


class PostgresServer:
    """``workdir`` None: a fresh directory under the system temp dir (pytest's own temp dirs
    are private to root, and the server runs as another user), removed by :meth:`stop`."""

    def __init__(self, workdir: Path | None = None) -> None:
        self.bindir = _pg_bindir()
        self._own_dir = workdir is None
        self.workdir = workdir or Path(tempfile.mkdtemp(prefix="eventbus-pg-"))
        self.data = self.workdir / "pgdata"
        self.sockets = self.workdir / "sock"
        self.port = free_port()
        self.log = self.workdir / "postgres.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.user: str | None = None
        if os.geteuid() == 0:
            for candidate in ("postgres", "nobody"):
                try:
                    pwd.getpwnam(candidate)
                except KeyError:
                    continue
                self.user = candidate
                break

    def url(self, database: str = "postgres", password: str = PG_PASSWORD) -> str:
        return f"postgresql://eventbus:{password}@127.0.0.1:{self.port}/{database}"

    def _user_options(self) -> dict[str, Any]:
        """Run as ``self.user`` directly (no runuser wrapper, so signals reach the server)."""
        if not self.user:
            return {}
        entry = pwd.getpwnam(self.user)
        return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}

    def _give(self, path: Path) -> None:
        if self.user:
            entry = pwd.getpwnam(self.user)
            os.chown(path, entry.pw_uid, entry.pw_gid)

    def start(self) -> PostgresServer:
        self.workdir.chmod(0o755)
        for path in (self.data, self.sockets):
            path.mkdir(exist_ok=True)
            self._give(path)
        self.data.chmod(0o700)
        pwfile = self.workdir / "pw"
        pwfile.write_text(PG_PASSWORD + "\n")
        self._give(pwfile)
        result = subprocess.run(
            [
                str(self.bindir / "initdb"),
                *("-D", str(self.data), "-U", "eventbus", "--pwfile", str(pwfile)),
                *("--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--no-sync"),
            ],
            check=False,
            cwd=self.workdir,
            **self._user_options(),
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            raise RuntimeError(f"initdb failed ({result.returncode}): {result.stderr[-2000:]}")
        pwfile.unlink()
        args = [str(self.bindir / "postgres"), "-D", str(self.data), "-p", str(self.port)]
        args += ["-k", str(self.sockets), "-c", "listen_addresses=127.0.0.1"]
        args += ["-c", "fsync=off", "-c", "max_connections=200", "-c", "full_page_writes=off"]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                args, stdout=log, stderr=subprocess.STDOUT, cwd=self.workdir, **self._user_options()
            )
        _wait_port(self.port, self.process, self.log, "postgres")
        self._wait_accepting()
        return self

    def _wait_accepting(self) -> None:
        deadline = time.monotonic() + 30
        args = [str(self.bindir / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port)]
        while time.monotonic() < deadline:
            if subprocess.run(args, capture_output=True, check=False).returncode == 0:
                return
            time.sleep(0.1)
        raise RuntimeError(f"postgres is not accepting connections: {self.log.read_text()[-2000:]}")

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        _stop(self.process, signal.SIGINT)  # "fast" shutdown: do not wait for clients
        self.process = None
        if self._own_dir:
            shutil.rmtree(self.workdir, ignore_errors=True)
