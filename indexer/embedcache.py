"""The embedding cache of an index folder (embeddings.sqlite): vectors by (model, text) hash."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from pathlib import Path

import numpy as np


class EmbeddingCache:
    """Vectors by (model, text) hash, in SQLite: a rebuild only embeds chunks it has not seen.

    Only an optimisation: a damaged file (truncated, not SQLite, failing its integrity check) is discarded and
    started afresh, and a stored vector of the wrong size or not finite counts as missing (`discarded` says why).
    """

    def __init__(self, path: Path, dim: int | None = None):
        self.path = path
        self.dim = dim
        self.discarded: list[str] = []
        try:
            self._open()
        except sqlite3.DatabaseError as exc:
            self._reset(exc)

    def _open(self) -> None:
        self._db = sqlite3.connect(self.path)
        try:
            status = self._db.execute("PRAGMA quick_check").fetchone()
            if not status or status[0] != "ok":
                raise sqlite3.DatabaseError(f"contrôle d'intégrité : {status[0] if status else 'sans réponse'}")
            self._db.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vector BLOB NOT NULL)")
        except BaseException:
            self._db.close()
            raise

    def _reset(self, exc: Exception) -> None:
        self.discarded.append(f"cache d'encodage {self.path} endommagé ({exc}) : supprimé, les passages sont ré-encodés")
        with contextlib.suppress(Exception):
            self._db.close()
        for suffix in ("", "-journal", "-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(f"{self.path}{suffix}")
        self._open()

    def get_many(self, keys: list[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        bad = 0
        try:
            for start in range(0, len(keys), 500):
                batch = keys[start : start + 500]
                rows = self._db.execute(
                    f"SELECT key, vector FROM vectors WHERE key IN ({','.join('?' * len(batch))})", batch
                )
                for key, blob in rows:
                    vector = np.frombuffer(blob, dtype=np.float32) if isinstance(blob, bytes) and len(blob) % 4 == 0 \
                        else None
                    # every embedder's vectors have norm 1: a vector garbled on disk seldom keeps it
                    if vector is None or (self.dim and vector.size != self.dim) or not np.all(np.isfinite(vector)) \
                            or abs(float(np.dot(vector, vector)) - 1.0) > 1e-3:
                        bad += 1
                        continue
                    found[key] = vector
        except sqlite3.DatabaseError as exc:
            self._reset(exc)
            return {}
        if bad:
            self.discarded.append(f"cache d'encodage : {bad} vecteur(s) de taille ou de valeur invalide ignoré(s), "
                                  "ré-encodé(s)")
        return found

    def put_many(self, items: dict[str, np.ndarray]) -> None:
        rows = [(k, np.asarray(v, dtype=np.float32).tobytes()) for k, v in items.items()]
        try:
            with self._db:
                self._db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?)", rows)
        except sqlite3.DatabaseError as exc:
            self._reset(exc)
            with self._db:
                self._db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?)", rows)

    def close(self) -> None:
        self._db.close()
