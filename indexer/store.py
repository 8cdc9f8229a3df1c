"""All file I/O of the index: write a build, check it, switch to it atomically, load it, roll back.

Layout of an index folder:

    index/
      CURRENT               the serving build's id; replaced in one os.replace, never edited in place
      builds/<build-id>/    one complete build (vectors.faiss, chunks.json, sheets.json, bm25-*/, manifest.json)
      builds/.tmp-<id>/     a build being written; removed by the next rebuild if its writer died
      embeddings.sqlite     embedding cache keyed by model and chunk text: unchanged chunks are not re-embedded
      .lock                 held (flock) by the one rebuild that may run at a time

A reader sees the old build or the new one, never a half-written one: CURRENT only ever names a build that
was fully written and checked.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import secrets
import shutil
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

import bm25s
import faiss
import numpy as np

from indexer.sheets import Sheet

POINTER = "CURRENT"
BUILDS = "builds"
TMP_PREFIX = ".tmp-"
KEEP_BUILDS = 5
FORMAT_VERSION = 2


class StoreError(RuntimeError):
    """The index is missing, locked or unreadable; the message says what to do."""


class NoIndexError(StoreError):
    pass


class LockedError(StoreError):
    pass


@dataclass
class LoadedIndex:
    build_id: str
    path: Path
    manifest: dict
    vectors: faiss.Index
    chunks: list[dict]
    sheets: dict[str, Sheet]
    lexicon: dict  # partners, glossary, head_ids, vocabulary (folded words), terms and head_terms (stems per sheet)
    head: bm25s.BM25  # one document per sheet (title + keywords), in `head_ids` order
    head_ids: list[str]
    body: bm25s.BM25  # one document per chunk, in `chunks` order
    full: bm25s.BM25  # one document per sheet (title and keywords twice, then the body), in `head_ids` order


class IndexStore:
    def __init__(self, root: str | Path):
        self.root = Path(root)

    @property
    def builds_dir(self) -> Path:
        return self.root / BUILDS

    def current_id(self) -> str | None:
        try:
            return (self.root / POINTER).read_text(encoding="utf-8").strip() or None
        except FileNotFoundError:
            return None

    def current_path(self) -> Path:
        build_id = self.current_id()
        if build_id is None:
            raise NoIndexError(f"aucun index dans {self.root} : lancer « python -m indexer rebuild »")
        path = self.builds_dir / build_id
        if not path.is_dir():
            raise NoIndexError(f"l'index {self.root} désigne une version absente ({build_id}) : relancer rebuild")
        return path

    def build_ids(self) -> list[str]:
        """Complete builds, oldest first (ids start with a UTC timestamp)."""
        if not self.builds_dir.is_dir():
            return []
        return sorted(p.name for p in self.builds_dir.iterdir() if p.is_dir() and not p.name.startswith(TMP_PREFIX))

    @contextlib.contextmanager
    def lock(self, wait: float = 60.0):
        """Exclusive rebuild lock. Waits up to `wait` seconds, then raises LockedError.

        flock is released by the kernel when the process dies, so a killed rebuild never leaves it held.
        """
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".lock", "a+") as handle:
            deadline = time.monotonic() + wait
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise LockedError(
                            f"une autre reconstruction de {self.root} est en cours : réessayer quand elle sera finie"
                        ) from None
                    time.sleep(0.1)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def new_build_dir(self) -> tuple[str, Path]:
        stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S%f")
        build_id = f"{stamp}-{secrets.token_hex(3)}"
        path = self.builds_dir / f"{TMP_PREFIX}{build_id}"
        path.mkdir(parents=True)
        return build_id, path

    def clean_leftovers(self) -> list[str]:
        """Remove half-written builds of rebuilds that died. Call with the lock held."""
        removed = []
        if self.builds_dir.is_dir():
            for path in self.builds_dir.iterdir():
                if path.name.startswith(TMP_PREFIX):
                    shutil.rmtree(path, ignore_errors=True)
                    removed.append(path.name)
        return removed

    def commit(self, build_id: str, tmp_path: Path) -> Path:
        """Publish a written and checked build: rename its folder, then switch CURRENT to it atomically."""
        final = self.builds_dir / build_id
        os.replace(tmp_path, final)
        _fsync_dir(self.builds_dir)
        self.switch(build_id)
        return final

    def switch(self, build_id: str) -> None:
        pointer_tmp = self.root / f".{POINTER}.{secrets.token_hex(4)}"
        with open(pointer_tmp, "w", encoding="utf-8") as handle:
            handle.write(build_id + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(pointer_tmp, self.root / POINTER)
        _fsync_dir(self.root)

    def rollback(self) -> str:
        """Serve the build made just before the current one."""
        ids = self.build_ids()
        current = self.current_id()
        older = [b for b in ids if current is None or b < current]
        if not older:
            raise StoreError("aucune version antérieure à laquelle revenir")
        self.switch(older[-1])
        return older[-1]

    def prune(self, keep: int = KEEP_BUILDS) -> list[str]:
        """Delete old builds, keeping the newest `keep` and the serving one."""
        ids = self.build_ids()
        current = self.current_id()
        doomed = [b for b in ids[:-keep] if b != current] if keep > 0 else []
        for build_id in doomed:
            shutil.rmtree(self.builds_dir / build_id, ignore_errors=True)
        return doomed

    def embedding_cache(self) -> "EmbeddingCache":
        self.root.mkdir(parents=True, exist_ok=True)
        return EmbeddingCache(self.root / "embeddings.sqlite")


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class EmbeddingCache:
    """Vectors by (model, text) hash, in SQLite: a rebuild only embeds chunks it has not seen."""

    def __init__(self, path: Path):
        self._db = sqlite3.connect(path)
        self._db.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vector BLOB NOT NULL)")

    def get_many(self, keys: list[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        for start in range(0, len(keys), 500):
            batch = keys[start : start + 500]
            rows = self._db.execute(
                f"SELECT key, vector FROM vectors WHERE key IN ({','.join('?' * len(batch))})", batch
            )
            found.update((key, np.frombuffer(blob, dtype=np.float32)) for key, blob in rows)
        return found

    def put_many(self, items: dict[str, np.ndarray]) -> None:
        with self._db:
            self._db.executemany(
                "INSERT OR REPLACE INTO vectors VALUES (?, ?)",
                [(k, np.asarray(v, dtype=np.float32).tobytes()) for k, v in items.items()],
            )

    def close(self) -> None:
        self._db.close()


def write_build(
    path: Path,
    vectors: np.ndarray,
    chunks: list[dict],
    sheets: list[Sheet],
    lexicon: dict,
    head_tokens: list[list[str]],
    body_tokens: list[list[str]],
    full_tokens: list[list[str]],
    manifest: dict,
) -> None:
    """Write every file of one build into `path` (a fresh folder).

    `lexicon` holds partners, glossary, head_ids (sheet order of the head BM25), vocabulary and terms.
    """
    dim = int(manifest["dimension"])
    index = faiss.IndexIDMap(faiss.IndexFlatIP(dim))
    if len(vectors):
        index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), np.arange(len(vectors), dtype=np.int64))
    faiss.write_index(index, str(path / "vectors.faiss"))
    _write_json(path / "chunks.json", chunks)
    _write_json(path / "sheets.json", [s.to_dict() for s in sheets])
    _write_json(path / "lexicon.json", lexicon)
    for name, corpus in (("bm25-head", head_tokens), ("bm25-body", body_tokens), ("bm25-full", full_tokens)):
        retriever = bm25s.BM25()
        retriever.index([t or ["\u2205"] for t in corpus], show_progress=False)
        retriever.save(str(path / name), show_progress=False)
    _write_json(path / "manifest.json", {**manifest, "format": FORMAT_VERSION})


def _write_json(path: Path, data) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(data, handle, ensure_ascii=False)
        handle.flush()
        os.fsync(handle.fileno())


def load_build(path: Path) -> LoadedIndex:
    """Load one build folder; raises StoreError if anything is missing or inconsistent."""
    try:
        manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
        chunks = json.loads((path / "chunks.json").read_text(encoding="utf-8"))
        sheets = [Sheet.from_dict(d) for d in json.loads((path / "sheets.json").read_text(encoding="utf-8"))]
        lexicon = json.loads((path / "lexicon.json").read_text(encoding="utf-8"))
        vectors = faiss.read_index(str(path / "vectors.faiss"))
        head = bm25s.BM25.load(str(path / "bm25-head"), show_progress=False)
        body = bm25s.BM25.load(str(path / "bm25-body"), show_progress=False)
        full = bm25s.BM25.load(str(path / "bm25-full"), show_progress=False)
    except (OSError, ValueError, KeyError, RuntimeError) as exc:
        raise StoreError(f"version d'index illisible {path} : {exc}") from exc
    if manifest.get("format") != FORMAT_VERSION:
        raise StoreError(f"version d'index {path.name} d'un autre format ({manifest.get('format')}, attendu "
                         f"{FORMAT_VERSION}) : relancer « python -m indexer rebuild »")
    if vectors.ntotal != len(chunks) or manifest.get("chunks") != len(chunks):
        raise StoreError(f"version d'index incohérente {path} : {vectors.ntotal} vecteurs pour {len(chunks)} passages")
    return LoadedIndex(
        build_id=path.name, path=path, manifest=manifest, vectors=vectors, chunks=chunks,
        sheets={s.id: s for s in sheets}, lexicon=lexicon, head=head, head_ids=lexicon["head_ids"], body=body,
        full=full,
    )
