"""All file I/O of the index: write a build, check it, switch to it atomically, load it, roll back.

Layout of an index folder:

    index/
      CURRENT               the serving build's id; replaced in one os.replace, never edited in place
      builds/<build-id>/    one complete build (vectors.faiss, chunks.json, sheets.json, bm25-*/, manifest.json);
                            the manifest lists every other file with its size and sha256, checked on each load
      builds/.tmp-<id>/     a build being written; removed by the next rebuild if its writer died
      embeddings.sqlite     embedding cache keyed by model and chunk text: unchanged chunks are not re-embedded
      .lock                 held (flock) by the one rebuild that may run at a time

A reader sees the old build or the new one, never a half-written one: CURRENT only ever names a build that
was fully written and checked. A build damaged later (disk, hand edit) is refused when loaded, with a French
message (`DamagedError`), never half-used; the embedding cache, only an optimisation, is discarded and rebuilt.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import re
import secrets
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import bm25s
import faiss
import numpy as np

from indexer.embed import sha256_file as _sha256  # the model's weights are checked the same way
from indexer.embedcache import EmbeddingCache
from indexer.sheets import Sheet

POINTER = "CURRENT"
BUILDS = "builds"
TMP_PREFIX = ".tmp-"
KEEP_BUILDS = 5
FORMAT_VERSION = 3  # 3: the manifest lists every file with its size and sha256
MANIFEST = "manifest.json"
_BUILD_ID = re.compile(r"^[0-9A-Za-z][0-9A-Za-z_.\-]{0,99}$")


class StoreError(RuntimeError):
    """The index is missing, locked or unreadable; the message says what to do."""


class NoIndexError(StoreError):
    pass


class LockedError(StoreError):
    pass


class DamagedError(StoreError):
    """A build (or CURRENT) is damaged: missing or altered files, inconsistent counts."""


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
        """The serving build's id; None without an index; DamagedError if CURRENT holds anything but an id."""
        try:
            data = (self.root / POINTER).read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise DamagedError(f"fichier {self.root / POINTER} illisible ({exc.strerror}) : {_REBUILD}") from exc
        try:
            build_id = data.decode("utf-8").strip()
        except UnicodeDecodeError:
            build_id = None
        if build_id is None or (build_id and not _BUILD_ID.match(build_id)):
            raise DamagedError(f"le fichier {self.root / POINTER} est endommagé (il ne contient pas un identifiant "
                               f"de version) : {_REBUILD}")
        return build_id or None

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

    def rollback(self, skipped: Callable[[str, str], None] | None = None) -> str:
        """Serve the newest build older than the current one that loads; `skipped(id, reason)` hears of the others.

        With CURRENT damaged, every build counts as older."""
        ids = self.build_ids()
        try:
            current = self.current_id()
        except DamagedError:
            current = None
        older = [b for b in ids if current is None or b < current]
        if not older:
            raise StoreError("aucune version antérieure à laquelle revenir")
        for build_id in reversed(older):
            try:
                load_build(self.builds_dir / build_id)
            except StoreError as exc:
                if skipped:
                    skipped(build_id, str(exc))
                continue
            self.switch(build_id)
            return build_id
        raise StoreError(f"aucune des {len(older)} version(s) antérieure(s) ne se charge : index inchangé ; "
                         "relancer « python -m indexer rebuild »")

    def prune(self, keep: int = KEEP_BUILDS) -> list[str]:
        """Delete old builds, keeping the newest `keep` and the serving one."""
        ids = self.build_ids()
        current = self.current_id()
        doomed = [b for b in ids[:-keep] if b != current] if keep > 0 else []
        for build_id in doomed:
            shutil.rmtree(self.builds_dir / build_id, ignore_errors=True)
        return doomed

    def embedding_cache(self, dim: int | None = None) -> "EmbeddingCache":
        self.root.mkdir(parents=True, exist_ok=True)
        return EmbeddingCache(self.root / "embeddings.sqlite", dim)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


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
    files = {str(f.relative_to(path)): {"size": f.stat().st_size, "sha256": _sha256(f)}
             for f in sorted(path.rglob("*")) if f.is_file()}
    counts = {"sheets": len(sheets), "chunks": len(chunks), "vectors": int(index.ntotal)}
    _write_json(path / MANIFEST, {**manifest, "format": FORMAT_VERSION, "files": files, "counts": counts})


def _write_json(path: Path, data) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(data, handle, ensure_ascii=False)
        handle.flush()
        os.fsync(handle.fileno())


_REBUILD = "relancer « python -m indexer rebuild » (ou « rollback » pour revenir à la version précédente)"


def verify_build(path: Path) -> dict:
    """The build's manifest, after checking that every file it lists is there with its size and sha256.

    Raises DamagedError naming the first damaged file. Costs one read of the build (about as much as loading it):
    done when a build is loaded, never per query.
    """
    name = path.name
    try:
        manifest = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DamagedError(f"version d'index {name} endommagée : {MANIFEST} absent : {_REBUILD}") from None
    except (OSError, ValueError) as exc:
        raise DamagedError(f"version d'index {name} endommagée : {MANIFEST} illisible ({exc}) : {_REBUILD}") from None
    if not isinstance(manifest, dict):
        raise DamagedError(f"version d'index {name} endommagée : {MANIFEST} n'est pas un manifeste : {_REBUILD}")
    if manifest.get("format") != FORMAT_VERSION:
        raise StoreError(f"version d'index {name} d'un autre format ({manifest.get('format')}, attendu "
                         f"{FORMAT_VERSION}) : relancer « python -m indexer rebuild »")
    files = manifest.get("files")
    if not isinstance(files, dict) or not files:
        raise DamagedError(f"version d'index {name} endommagée : la liste des fichiers manque au manifeste : {_REBUILD}")
    for relative, expected in files.items():
        file = path / relative
        if not isinstance(expected, dict) or ".." in Path(relative).parts or Path(relative).is_absolute():
            raise DamagedError(f"version d'index {name} endommagée : manifeste altéré ({relative}) : {_REBUILD}")
        try:
            size = file.stat().st_size
        except OSError:
            raise DamagedError(f"version d'index {name} endommagée : fichier {relative} absent : {_REBUILD}") from None
        if size != expected.get("size"):
            raise DamagedError(f"version d'index {name} endommagée : {relative} fait {size} octets au lieu de "
                               f"{expected.get('size')} : {_REBUILD}")
        if _sha256(file) != expected.get("sha256"):
            raise DamagedError(f"version d'index {name} endommagée : le contenu de {relative} a changé (empreinte "
                               f"sha256 différente) : {_REBUILD}")
    return manifest


def load_build(path: Path) -> LoadedIndex:
    """Load one build folder, checked against its manifest; raises StoreError (DamagedError) if anything is
    missing, altered or inconsistent, never another exception."""
    manifest = verify_build(path)
    name = path.name
    try:
        chunks = json.loads((path / "chunks.json").read_text(encoding="utf-8"))
        sheets = [Sheet.from_dict(d) for d in json.loads((path / "sheets.json").read_text(encoding="utf-8"))]
        lexicon = json.loads((path / "lexicon.json").read_text(encoding="utf-8"))
        vectors = faiss.read_index(str(path / "vectors.faiss"))
        head = bm25s.BM25.load(str(path / "bm25-head"), show_progress=False)
        body = bm25s.BM25.load(str(path / "bm25-body"), show_progress=False)
        full = bm25s.BM25.load(str(path / "bm25-full"), show_progress=False)
        head_ids = lexicon["head_ids"]
        counts = manifest["counts"]
        found = {"sheets": len(sheets), "chunks": len(chunks), "vectors": int(vectors.ntotal)}
        consistent = (
            found == counts and manifest.get("chunks") == len(chunks) and len(manifest.get("sheets", ())) == len(sheets)
            and head_ids == [s.id for s in sheets] and vectors.d == int(manifest["dimension"])
            and head.scores["num_docs"] == full.scores["num_docs"] == len(sheets)
            and body.scores["num_docs"] == len(chunks)
            and all(isinstance(c, dict) and c.get("sheet") in manifest["sheets"] for c in chunks)
        )
    except Exception as exc:  # noqa: BLE001 - whatever a damaged file makes a reader raise, the answer is the same
        raise DamagedError(f"version d'index {name} illisible ({type(exc).__name__}: {exc}) : {_REBUILD}") from None
    if not consistent:
        raise DamagedError(f"version d'index {name} incohérente : {found['vectors']} vecteurs, {found['chunks']} "
                           f"passages, {found['sheets']} fiches pour {counts} au manifeste : {_REBUILD}")
    return LoadedIndex(
        build_id=name, path=path, manifest=manifest, vectors=vectors, chunks=chunks,
        sheets={s.id: s for s in sheets}, lexicon=lexicon, head=head, head_ids=head_ids, body=body, full=full,
    )
