"""The app's background writer: searches and feedback leave the page at once and reach the database in batches.

A search must not wait for the database: another process may hold SQLite's write lock, PostgreSQL may be a
network hop away. The page hands each row to a bounded queue; one thread per store writes them, many rows per
transaction. Nothing is dropped: a full queue makes the page wait (back-pressure), a failed write is retried,
and pending rows are written when the store closes, including at interpreter exit. The same thread purges
rows past the retention period once a day.
"""

from __future__ import annotations

import atexit
import logging
import queue
import threading
import time
import weakref

log = logging.getLogger(__name__)

BATCH = 500               # rows per transaction at most
PURGE_EVERY_S = 24 * 3600
_STOP = object()
_WRITERS: "weakref.WeakSet[BackgroundWriter]" = weakref.WeakSet()


class BackgroundWriter:
    """Writes (table, row) pairs handed to `put` into `store` from one daemon thread."""

    def __init__(self, store, size: int = 10_000, purge_every: float = PURGE_EVERY_S):
        self._store = store
        self._queue: queue.Queue = queue.Queue(maxsize=max(1, size))
        self._pending = 0
        self._done = threading.Condition()
        self._closed = False
        self._purge_every = purge_every
        self.written = 0
        self.failures = 0
        self._thread = threading.Thread(target=self._run, name="assistant-store-writer", daemon=True)
        self._thread.start()
        _WRITERS.add(self)

    def put(self, table: str, row: tuple) -> None:
        """Queue one row; waits while the queue is full. After close, the row is written directly."""
        with self._done:
            closed = self._closed
            if not closed:
                self._pending += 1
        if closed:
            self._store.write_rows([(table, row)])
        else:
            self._queue.put((table, row))

    def pending(self) -> int:
        with self._done:
            return self._pending

    def flush(self, timeout: float | None = 30.0) -> bool:
        """Wait until every queued row is written; False if some are still pending after `timeout` seconds."""
        if threading.current_thread() is self._thread:
            return self._pending == 0
        with self._done:
            return self._done.wait_for(lambda: self._pending == 0, timeout)

    def close(self, timeout: float = 30.0) -> None:
        """Write what is pending (retrying for up to `timeout` seconds), then stop the thread."""
        with self._done:
            if self._closed:
                return
            self._closed = True
        _WRITERS.discard(self)
        deadline = time.monotonic() + timeout
        self._queue.put(_STOP)
        self._thread.join(timeout)
        # Rows queued by a page while the thread was stopping: written here, by the closing thread.
        while self.pending() and time.monotonic() < deadline:
            try:
                item = self._queue.get(timeout=0.05)
            except queue.Empty:
                continue
            if item is not _STOP:
                self._write([item], stopping=True)
        if self.pending():
            log.error("%d ligne(s) du journal n'ont pas pu être écrites dans la base", self.pending())

    def _run(self) -> None:
        next_purge = time.monotonic() + self._purge_every
        stopping = False
        while not stopping:
            try:
                first = self._queue.get(timeout=1.0)
            except queue.Empty:
                first = None
            if time.monotonic() >= next_purge:
                next_purge = time.monotonic() + self._purge_every
                self._purge()
            if first is None:
                continue
            batch = []
            item = first
            while True:
                if item is _STOP:
                    stopping = True
                else:
                    batch.append(item)
                if len(batch) >= BATCH:
                    break
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
            if batch:
                self._write(batch, stopping)

    def _write(self, batch: list[tuple[str, tuple]], stopping: bool) -> None:
        delay, deadline = 0.05, time.monotonic() + 30.0
        while True:
            try:
                self._store.write_rows(batch)
                break
            except Exception as exc:  # the database is away: keep the rows and try again
                self.failures += 1
                log.warning("écriture du journal différée (%d lignes) : %s", len(batch), exc)
                if stopping and time.monotonic() > deadline:
                    return  # closing and still failing: close() reports what is left
                time.sleep(delay)
                delay = min(delay * 2, 2.0)
        self.written += len(batch)
        with self._done:
            self._pending -= len(batch)
            self._done.notify_all()

    def _purge(self) -> None:
        try:
            deleted = self._store.purge()
            if any(deleted.values()):
                log.info("rétention : %s lignes supprimées", deleted)
        except Exception as exc:
            log.warning("purge du journal impossible : %s", exc)


def flush_process(timeout: float = 5.0) -> None:
    """Wait for every background writer of this process: a read then sees every write made before it."""
    for writer in list(_WRITERS):
        writer.flush(timeout)


@atexit.register
def _close_all() -> None:
    for writer in list(_WRITERS):
        writer.close()
