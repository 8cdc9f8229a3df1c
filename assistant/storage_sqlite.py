"""The default store: one SQLite file, embedded, in WAL mode.

One connection per store, kept open and shared by Streamlit's session threads under a lock: reopening it for
each search would make SQLite checkpoint and fsync the WAL at every close (tens of ms on a busy disk). WAL mode
lets other processes (a second server, a script) write while an editor reads; writers of several processes
wait for each other (busy timeout) rather than fail.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from assistant.storage import Run, StorageError, Store

BUSY_TIMEOUT_S = 30.0


class SQLiteStore(Store):
    """Searches and feedback in the SQLite file at `target` (its folder is created)."""

    dialect = "sqlite"
    types = {"id": "INTEGER PRIMARY KEY", "real": "REAL"}

    def _open(self) -> None:
        target = str(self.target)
        self.path = Path(target.removeprefix("sqlite:///") if target.startswith("sqlite:///") else target)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # Autocommit mode: transactions are opened explicitly below, so a migration can take the write lock.
            self._db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, check_same_thread=False,
                                       isolation_level=None)
            self._db.row_factory = sqlite3.Row
            _set_wal(self._db)
            # With WAL, NORMAL never corrupts the file; a power cut may lose the last lines, fine for usage logs.
            self._db.execute("PRAGMA synchronous=NORMAL")
        except (OSError, sqlite3.Error) as exc:
            raise StorageError(f"base de données « {self.path} » inutilisable : {exc}") from exc
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def _begin(self, mode: str) -> Iterator[Run]:
        def run(sql: str, params: tuple = ()) -> list[dict]:
            return [dict(r) for r in self._db.execute(sql, params).fetchall()]

        with self._lock:  # one statement group at a time; commits, or rolls back on error
            self._db.execute(f"BEGIN {mode}")
            try:
                yield run
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _transaction(self) -> contextlib.AbstractContextManager[Run]:
        # IMMEDIATE takes the write lock at once: two processes never deadlock upgrading a read to a write.
        return self._begin("IMMEDIATE")

    def _migrating(self) -> contextlib.AbstractContextManager[Run]:
        return self._begin("EXCLUSIVE")

    def _select(self, sql: str, params: tuple = ()) -> list[dict]:
        self._wait_for_writes()
        with self._begin("DEFERRED") as run:  # readers never wait for writers in WAL mode
            return run(sql, params)

    def _close(self) -> None:
        with self._lock:
            self._db.close()


def _set_wal(db: sqlite3.Connection) -> None:
    """WAL mode, a property of the file. Switching a new file to it needs the file to itself, and SQLite answers
    "database is locked" at once instead of waiting (no busy handler for it): processes opening the same new file
    together retry, within the busy timeout."""
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    while True:
        try:
            db.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)
