"""A throw-away PostgreSQL server from Debian's packages, for the tests and the load tool.

    with TempPostgres() as pg:
        url = pg.create_database("essai")      # postgresql://postgres@127.0.0.1:PORT/essai

Runs initdb and postgres in a fresh folder under /tmp, listening on 127.0.0.1 only, on a free port, with
password-less local access (trust) for the one user `postgres`; everything is deleted on exit. PostgreSQL refuses
to run as root, so as root the server runs as Debian's `postgres` user (runuser). Durability is switched off
(fsync): this server holds test data only.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

INSTALL_HINT = "PostgreSQL absent : apt-get install -y postgresql (Debian) ou définir PG_BINDIR"


def bin_dir() -> Path:
    """The folder of initdb and postgres: PG_BINDIR, else the newest /usr/lib/postgresql/*/bin, else the PATH."""
    if os.environ.get("PG_BINDIR"):
        return Path(os.environ["PG_BINDIR"])
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: [int(n) for n in re.findall(r"\d+", p)])
    if found:
        return Path(found[-1]).parent
    if shutil.which("initdb"):
        return Path(shutil.which("initdb")).parent
    raise FileNotFoundError(INSTALL_HINT)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class TempPostgres:
    """A PostgreSQL server of its own; `url` is the superuser's URL of its `postgres` database."""

    def __init__(self, start_timeout: float = 60.0):
        self.bin = bin_dir()
        self.start_timeout = start_timeout
        self.as_user = "postgres" if os.geteuid() == 0 else None
        self.root: Path | None = None
        self.port = 0
        self.process: subprocess.Popen | None = None

    def _command(self, *args: str) -> list[str]:
        return ["runuser", "-u", self.as_user, "--", *args] if self.as_user else list(args)

    def start(self) -> "TempPostgres":
        self.root = Path(tempfile.mkdtemp(prefix="assistant-pg-"))
        if self.as_user:
            entry = pwd.getpwnam(self.as_user)
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
        data = self.root / "data"
        subprocess.run(self._command(str(self.bin / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
                                     "--no-sync", "-E", "UTF8", "--locale=C.UTF-8"),
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=self.root)
        for _ in range(3):  # a free port can be taken between the check and the bind: try another
            self.port = free_port()
            if self._launch():
                return self
        raise RuntimeError(f"PostgreSQL ne démarre pas :\n{self.log()}")

    def _launch(self) -> bool:
        log = open(self.root / "server.log", "ab")
        self.process = subprocess.Popen(
            self._command(str(self.bin / "postgres"), "-D", str(self.root / "data"), "-p", str(self.port),
                          "-k", str(self.root), "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off",
                          "-c", "full_page_writes=off", "-c", "synchronous_commit=off", "-c", "max_connections=200"),
            stdout=log, stderr=subprocess.STDOUT, cwd=self.root, start_new_session=True)
        log.close()
        return self._wait_ready()

    def pause(self) -> None:
        """Stop the server, keeping its data (a restart, a failover)."""
        self._shutdown()

    def resume(self) -> None:
        """Start the paused server again, on the same port."""
        if not self._launch():
            raise RuntimeError(f"PostgreSQL ne redémarre pas :\n{self.log()}")

    def _wait_ready(self) -> bool:
        import psycopg

        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                psycopg.connect(self.url, connect_timeout=2).close()
                return True
            except psycopg.OperationalError:
                time.sleep(0.1)
        self.stop()
        raise TimeoutError(f"PostgreSQL ne répond pas :\n{self.log()}")

    def log(self) -> str:
        path = self.root / "server.log" if self.root else None
        return path.read_text(errors="replace") if path and path.exists() else ""

    def url_of(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    @property
    def url(self) -> str:
        return self.url_of("postgres")

    def create_database(self, name: str) -> str:
        """A new empty database; returns its URL."""
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.url, autocommit=True) as db:
            db.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url_of(name)

    def _shutdown(self) -> None:
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGINT)  # fast shutdown
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)

    def stop(self) -> None:
        self._shutdown()
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None

    def __enter__(self) -> "TempPostgres":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
