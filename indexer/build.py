"""Rebuild: KB folder -> checked build -> atomic switch. The serving build is never touched on failure."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from indexer import __version__
from indexer.chunks import MAX_WORDS, PASSAGES, head_text, sheet_chunks
from indexer.embed import Embedder, make_embedder
from indexer.fiches_rank import FICHES_TIER
from indexer.fiches_tier import DENSE_WORDS, tier_chunks
from indexer.kb import KnowledgeBase, load_kb
from indexer.search import Ranker, run_query
from indexer.sheets import Problem
from indexer.store import FORMAT_VERSION, IndexStore, LoadedIndex, NoIndexError, StoreError, load_build, write_build
from indexer.text import tokens, words


class BuildError(RuntimeError):
    """The KB has errors; nothing was switched. `problems` lists them with file and line."""

    def __init__(self, message: str, problems: list[Problem] | None = None):
        super().__init__(message)
        self.problems = problems or []


@dataclass
class BuildReport:
    build_id: str
    sheets: int
    chunks: int
    embedded: int  # passages actually sent to the model (the rest came from the cache)
    seconds: float
    removed_leftovers: list[str] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    up_to_date: bool = False  # nothing changed since the serving build: no new build was written
    notes: list[str] = field(default_factory=list)  # damaged serving build or embedding cache found and replaced
    fiches: int = 0  # official fiches indexed as the second tier
    passages: int = 0  # distinct texts with a vector: one per sheet and one per official fiche


EMBED_BATCH = 256  # passages per call to the model (and per write to the embedding cache)
FICHES_PARTNER = {"name": "Service-public.fr (fiche officielle)", "website": "https://www.service-public.fr"}


def content_digest(kb: KnowledgeBase, model_spec: str, fiches: list | None = None) -> str:
    """Everything a build is made from: sheets, official fiches, partners, glossary, known gaps, model, and this
    indexer's formats."""
    parts = {"sheets": sorted((s.id, s.digest) for s in kb.sheets), "partners": kb.partners, "glossary": kb.glossary,
             "off_topics": kb.off_topics, "model": model_spec, "indexer": __version__, "format": FORMAT_VERSION,
             "chunk_words": MAX_WORDS, "passages": PASSAGES}
    if fiches:
        parts["fiches"] = sorted((f.id, f.digest) for f in fiches)
        parts["fiche_dense_words"] = DENSE_WORDS
    return hashlib.sha256(json.dumps(parts, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()


def embed_with_cache(texts: list[str], embedder: Embedder, store: IndexStore, progress: bool,
                     notes: list[str] | None = None, encode: Callable[[list[str]], np.ndarray] | None = None,
                     kind: str = "") -> tuple[np.ndarray, int]:
    """Vectors for `texts`, embedding only those whose (model, text) is not in the cache yet.

    The texts to embed go by length (a batch of similar lengths wastes nothing on padding), EMBED_BATCH at a time,
    and each batch is written to the cache as soon as it is done: an interrupted import keeps what it embedded.
    A damaged cache is discarded (what happened is appended to `notes`). Passages by default; `encode` embeds
    texts another way (e.g. as queries), and `kind` (e.g. "query: ") then keeps their vectors apart in the cache."""
    encode = encode or embedder.encode
    keys = [hashlib.sha256(f"{embedder.model_id}\n{kind}{t}".encode()).hexdigest() for t in texts]
    cache = store.embedding_cache(embedder.dim)
    fresh: dict[str, np.ndarray] = {}
    try:
        known = cache.get_many(keys)
        missing = sorted({k: i for i, k in enumerate(keys) if k not in known}.values(), key=lambda i: len(texts[i]))
        with tqdm(total=len(missing), desc="Encodage", unit="passage", disable=not progress or not missing) as bar:
            for start in range(0, len(missing), EMBED_BATCH):
                part = missing[start : start + EMBED_BATCH]
                vectors = encode([texts[i] for i in part])
                batch = {keys[i]: v for i, v in zip(part, vectors)}
                cache.put_many(batch)
                fresh.update(batch)
                bar.update(len(part))
    finally:
        cache.close()
        if notes is not None:
            notes.extend(cache.discarded)
    known.update(fresh)
    vectors = np.vstack([known[k] for k in keys]) if keys else np.zeros((0, embedder.dim), dtype=np.float32)
    return vectors.astype(np.float32), len(fresh)


def sheet_tokens(sheet) -> tuple[list[str], list[str]]:
    """The lexical tokens of a sheet's title and keywords, and of its body."""
    return tokens(head_text(sheet)), [t for section in sheet.sections.values() for t in tokens(section.text)]


RARE_SHEETS = 3


def rare_words(sheets, glossary: dict[str, list[str]]) -> list[str]:
    """Words that only the keywords of at most RARE_SHEETS sheets hold: never in a title, a body or the glossary.
    Often a misspelling an editor listed ("chaumage"); the analyzer corrects them by their sound (`Analyzer`)."""
    listed: dict[str, set[str]] = {}
    elsewhere: set[str] = set()
    for sheet in sheets:
        for keyword in sheet.keywords:
            for w in words(keyword):
                listed.setdefault(w, set()).add(sheet.id)
        elsewhere.update(words(" ".join([sheet.title, *(s.text for s in sheet.sections.values())])))
    for term, expansions in glossary.items():
        elsewhere.update(words(" ".join([term, *expansions])))
    return sorted(w for w, ids in listed.items() if w not in elsewhere and len(ids) <= RARE_SHEETS)


def lexicon_of(kb: KnowledgeBase, tokenized: list[tuple[list[str], list[str]]], documents: list | None = None) -> dict:
    """What query analysis needs: glossary, known gaps, the KB's own words (typo targets), every sheet's stems.

    With `documents` (the official fiches' tier), their words and stems instead of the sheets', and no known gaps:
    the gaps are those of the counter sheets, which the official fiches often cover."""
    sheets = kb.sheets if documents is None else documents
    vocabulary: set[str] = set()
    for sheet in sheets:
        text = " ".join([head_text(sheet)] + [s.text for s in sheet.sections.values()])
        vocabulary.update(w for w in words(text) if len(w) > 2 and not w.isdigit())
    for term, expansions in kb.glossary.items():
        vocabulary.update(w for w in words(" ".join([term, *expansions])) if len(w) > 2 and not w.isdigit())
    partners = kb.partners if documents is None else {**kb.partners, "service-public": FICHES_PARTNER}
    return {"partners": partners, "glossary": kb.glossary, "head_ids": [s.id for s in sheets],
            "off_topics": kb.off_topics if documents is None else [],
            "vocabulary": sorted(vocabulary), "rare": rare_words(sheets, kb.glossary) if documents is None else [],
            "terms": {s.id: sorted(set(head + body)) for s, (head, body) in zip(sheets, tokenized)},
            "head_terms": {s.id: sorted(set(head)) for s, (head, _) in zip(sheets, tokenized)}}


def rebuild(kb_dir: str | Path, index_dir: str | Path, embedder: Embedder | None, model_spec: str,
            progress: bool = False, lock_wait: float = 60.0, force: bool = False,
            fiches_dir: str | Path | None = None, fiches: list | None = None) -> BuildReport:
    """Validate the KB, write a new build, check it, then switch to it. Raises BuildError or StoreError.

    The official fiches are `fiches` when given (an import in progress), else the corpus imported in `fiches_dir`
    (by default the one the serving build was made with), if any; they are indexed as a second tier (the build's
    `fiches/` sub-folder).
    With `embedder` None, the model named by `model_spec` is loaded only once the KB is known to be valid, and
    only if something changed since the serving build (unless `force`).
    """
    started = time.perf_counter()
    store = IndexStore(index_dir)
    if fiches_dir is None:  # the corpus the serving build was made with: a rebuild never drops imported fiches
        fiches_dir = _serving_manifest(store).get("fiches_dir")
    if fiches is None and fiches_dir is not None:
        from indexer.fiches_corpus import load_documents

        fiches = load_documents(fiches_dir)
    fiches = fiches or []
    kb = load_kb(kb_dir)
    if kb.errors:
        raise BuildError(f"{len(kb.errors)} erreur(s) dans {kb_dir} : index inchangé", kb.errors)
    if not kb.sheets:
        raise BuildError(f"aucune fiche valide dans {kb_dir} : index inchangé")
    digest = content_digest(kb, model_spec, fiches)
    notes: list[str] = []
    if not force:
        serving, damage = _serving(store)
        if damage:
            notes.append(f"{damage} — reconstruction complète")
        elif serving and serving.manifest.get("content") == digest:
            return BuildReport(serving.build_id, len(kb.sheets), len(serving.chunks), 0,
                               time.perf_counter() - started, warnings=kb.warnings, up_to_date=True,
                               fiches=len(fiches))
    embedder = embedder or make_embedder(model_spec)
    with store.lock(lock_wait):
        removed = store.clean_leftovers()
        build_id, tmp = store.new_build_dir()
        try:
            chunks = [c for sheet in kb.sheets for c in sheet_chunks(sheet)]
            tokenized = [sheet_tokens(s) for s in kb.sheets]
            vectors, embedded = embed_with_cache([c.dense for c in chunks], embedder, store, progress, notes)
            passages = len({c.dense for c in chunks})
            manifest = {
                "build_id": build_id,
                "built_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                "model": embedder.model_id,
                "model_spec": model_spec,
                "dimension": embedder.dim,
                "sheets": {s.id: s.digest for s in kb.sheets},
                "chunks": len(chunks),
                "kb": str(Path(kb_dir).resolve()),
                "content": digest,
                "indexer_version": __version__,
                "fiches": len(fiches),
                "fiches_dir": str(Path(fiches_dir).resolve()) if fiches and fiches_dir is not None else None,
            }
            write_build(
                tmp, vectors, [c.to_dict() for c in chunks], kb.sheets, lexicon_of(kb, tokenized),
                [head for head, _ in tokenized], [tokens(c.text) for c in chunks],
                [head * 2 + body for head, body in tokenized],
                manifest,
            )
            check_build(tmp, embedder, kb.sheets[0].id, kb.sheets[0].title)
            if fiches:
                count, fresh, tier_passages = _write_fiches_tier(tmp / FICHES_TIER, kb, fiches, embedder, store,
                                                                 manifest, progress)
                chunks_total, embedded, passages = len(chunks) + count, embedded + fresh, passages + tier_passages
            else:
                chunks_total = len(chunks)
            store.commit(build_id, tmp)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        store.prune()
    return BuildReport(build_id, len(kb.sheets), chunks_total, embedded, time.perf_counter() - started,
                       removed, kb.warnings, notes=notes, fiches=len(fiches), passages=passages)


def _write_fiches_tier(path: Path, kb: KnowledgeBase, fiches: list, embedder: Embedder, store: IndexStore,
                       manifest: dict, progress: bool) -> tuple[int, int, int]:
    """The official fiches' own index, in the same layout as a build, checked like one. (chunks, embedded, passages)

    Every section is indexed for BM25; one passage per fiche is embedded (indexer/fiches_tier.py)."""
    path.mkdir()
    chunks, passages = tier_chunks(fiches)
    tokenized = [sheet_tokens(f) for f in fiches]
    vectors, embedded = embed_with_cache(passages, embedder, store, progress)
    tier = {**manifest, "sheets": {f.id: f.digest for f in fiches}, "chunks": len(chunks), "tier": FICHES_TIER,
            "dense": {"passages": len(passages), "words": DENSE_WORDS}}
    write_build(path, vectors, [c.to_dict() for c in chunks], fiches, lexicon_of(kb, tokenized, fiches),
                [head for head, _ in tokenized], [tokens(c.text) for c in chunks],
                [head * 2 + body for head, body in tokenized], tier)
    check_build(path, embedder, fiches[0].id, fiches[0].title)
    return len(chunks), embedded, len(set(passages))


def _serving_manifest(store: IndexStore) -> dict:
    """The serving build's manifest as written, or {} (read leniently: only to find the corpus it was made with)."""
    try:
        return json.loads((store.current_path() / "manifest.json").read_text(encoding="utf-8"))
    except (StoreError, OSError, ValueError):
        return {}


def _serving(store: IndexStore) -> tuple[LoadedIndex | None, str]:
    """The serving build, loaded and checked, or why it cannot serve ("" when there is no index at all)."""
    try:
        if store.current_id() is None:
            return None, ""
        return load_build(store.current_path()), ""
    except NoIndexError as exc:
        return None, str(exc)
    except StoreError as exc:
        return None, f"version servie inutilisable : {exc}"


def check_build(path: Path, embedder: Embedder, sheet_id: str, title: str) -> None:
    """Reload the written build and search it once, as a reader would, before anyone is pointed at it."""
    try:
        ranker = Ranker(load_build(path))
    except StoreError as exc:
        raise StoreError(f"la nouvelle version ne se relit pas, index inchangé : {exc}") from exc
    result = run_query(ranker, embedder, title, top=5)
    if sheet_id not in [h.id for h in result.results]:
        raise StoreError(f"contrôle de la nouvelle version échoué : « {title} » ne retrouve pas {sheet_id}")
