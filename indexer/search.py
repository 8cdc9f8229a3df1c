"""Ranking sheets for a query: dense (FAISS), lexical (BM25 on title+keywords and on body chunks), fused. Pure.

`Ranker` ranks one loaded build; `run_query` analyses, embeds and ranks one query over the counter sheets and the
official fiches. `indexer.searcher.Searcher`, the one search API of the CLI, the app, the evaluation and the tests,
serves them over an index folder.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import faiss
import numpy as np

from indexer.embed import Embedder
from indexer.fiches_rank import FICHE_RULES, Evidence, FicheRule, cited_fiches
from indexer.language import is_foreign
from indexer.negation import affirmed_tokens, negates
from indexer.offtopic import Matcher, OffTopic, compile_topic
from indexer.query import Analysis, Analyzer, Concept
from indexer.store import LoadedIndex
from indexer.text import tokens
from indexer.tuning import Tuning

# One query is one vector: splitting a flat search across OpenMP threads costs more than it gains, and under load
# a thread waiting for a busy core turns a few milliseconds into a hundred (40,000 passages with the fiches).
faiss.omp_set_num_threads(1)

MODES = ("hybrid", "dense", "lexical")
MAX_QUERY_CHARS = 1000  # the rest of a longer query is ignored (and `Result.truncated` says so)
MAX_DENSE_WORDS = 96  # what the model embeds of a long query: more than any evaluation query has (74 with extras)
SOURCES = ("all", "sheets", "fiches")  # both tiers, the counter sheets only, the official fiches only


@dataclass
class Hit:
    id: str
    title: str
    partner: str
    score: float
    section: str
    passage: str
    kind: str = "sheet"  # "sheet" (counter sheet) or "fiche" (official service-public.fr fiche, id Fxxxx)

    def to_json(self) -> dict:
        return {"id": self.id, "kind": self.kind, "title": self.title, "partner": self.partner,
                "score": round(self.score, 4), "section": self.section}


@dataclass
class Result:
    query: str
    answer: str | None
    results: list[Hit]
    confidence: float
    mode: str
    build_id: str
    analysis: Analysis | None = None
    timings: dict[str, float] = field(default_factory=dict)
    off_topic: OffTopic | None = None  # a known gap of the KB the query is about (kb/hors-champ.yaml)
    answer_kind: str = ""  # "sheet" or "fiche" when there is an answer
    truncated: bool = False  # the query was longer than MAX_QUERY_CHARS: only its beginning was searched

    @property
    def redirect(self) -> OffTopic | None:
        """Where to direct the citizen: only when no sheet answers and the query is about a known gap."""
        return self.off_topic if self.answer is None else None

    def to_json(self) -> dict:
        data = {"query": self.query, "answer": self.answer, "results": [h.to_json() for h in self.results]}
        if self.redirect:
            data["hors_champ"] = self.redirect.to_json()
        if self.truncated:
            data["truncated"] = True
        return data


class Ranker:
    """Pure ranking over one loaded build."""

    def __init__(self, index: LoadedIndex, tuning: Tuning = Tuning(), fiches: LoadedIndex | None = None,
                 named: bool = True):
        self.index = index
        self.tuning = tuning
        self.fiches = Ranker(fiches, tuning, named=False) if fiches is not None else None  # the official fiches
        lexicon = index.lexicon
        gaps = Matcher([compile_topic(t["subject"], t["direction"], t["expressions"])
                        for t in lexicon.get("off_topics", [])])
        self.terms = {sheet: set(stems) for sheet, stems in lexicon["terms"].items()}
        self.head_terms = {sheet: set(stems) for sheet, stems in lexicon["head_terms"].items()}
        self.analyzer = Analyzer(lexicon["vocabulary"], lexicon["glossary"], gaps, frozenset(lexicon.get("rare", ())))
        self.french_words = frozenset(lexicon["vocabulary"])  # for `is_foreign`
        n = max(1, len(self.terms))
        df: dict[str, int] = {}
        for stems in self.terms.values():
            for s in stems:
                df[s] = df.get(s, 0) + 1
        self.idf = {s: math.log(1 + n / c) for s, c in df.items()}
        self.unknown_idf = math.log(1 + n / 0.5)
        self.max_idf = math.log(1 + (n - 0.5) / 1.5)  # BM25's idf of a term found in one sheet only
        # each sheet's title and keywords as stem sets ("avis d'imposition"), with whether they say a negation ("sans
        # titre de séjour": a name only for a query that negates too)
        every_name = {sid: [(frozenset(tokens(t)), negates(t)) for t in [sheet.title, *sheet.keywords]]
                      for sid, sheet in index.sheets.items()}
        # those of two content words or more: a query that says one among other words names the sheet (a feature)
        self.names = {sid: [(p, negated) for p, negated in names if len(p) >= 2] for sid, names in every_name.items()}
        # each of them with the documents that have it: a request that is one of them word for word ("inscription
        # chômage") names those sheets (a ranking; counter sheets only: `named`)
        self.exact_names: dict[frozenset[str], list[tuple[int, bool]]] = {}
        if named:
            for i, sid in enumerate(index.head_ids):
                for name, negated in every_name[sid]:
                    if name:
                        self.exact_names.setdefault(name, []).append((i, negated))
        # title and keyword stems that no negation negates: the head as a query without negation reads it
        self.affirmed_head = {sid: set().union(*(affirmed_tokens(t) for t in [sheet.title, *sheet.keywords]))
                              for sid, sheet in index.sheets.items()}
        # the counter sheets that cite each official fiche in their sources (the fiches' answer decision reads it)
        self.citers: dict[str, set[str]] = {}
        for sid, sheet in index.sheets.items():
            for fid in cited_fiches(sheet.sources):
                self.citers.setdefault(fid, set()).add(sid)
        self.chunk_sheet = [c["sheet"] for c in index.chunks]
        self.sheet_chunks: dict[str, list[int]] = {}
        for i, sid in enumerate(self.chunk_sheet):
            self.sheet_chunks.setdefault(sid, []).append(i)
        # Array views for ranking thousands of documents (the official fiches) in a few milliseconds: documents in
        # `head_ids` order (which is also the order of their chunks), each chunk's document, each document's partner.
        self.ids = list(index.head_ids)
        position = {sid: i for i, sid in enumerate(self.ids)}
        self.chunk_owner = np.array([position[sid] for sid in self.chunk_sheet], dtype=np.int64)
        self.partner_of = np.array([index.sheets[sid].partner for sid in self.ids], dtype=object)

    def rank(self, analysis: Analysis, query_vector: np.ndarray | None, mode: str, top: int,
             partner: str | None = None) -> tuple[list[Hit], float, dict[str, float]]:
        """Sheets best first, the confidence that the first one answers, and the features behind it."""
        t = self.tuning
        n = len(self.ids)
        allowed = np.ones(n, dtype=bool) if partner is None else self.partner_of == partner
        rankings: list[tuple[float, np.ndarray, bool]] = []  # (weight, per-document scores, 0 where the signal did
        # not see the document, dense?)
        best_chunk = np.full(n, -1, dtype=np.int64)  # the passage shown for each document
        head = np.zeros(n, dtype=np.float32)
        dense_per_doc = np.zeros(n, dtype=np.float32)  # 0 everywhere: no dense signal (lexical mode)
        if mode in ("hybrid", "lexical") and analysis.concepts:
            head = self._per_sheet(self.lexical_scores(self.index.head, analysis), allowed)
            full = self._per_sheet(self.lexical_scores(self.index.full, analysis), allowed)
            body = self._per_chunk(self.lexical_scores(self.index.body, analysis), allowed, best_chunk)
            rankings += [(t.w_head, head, False), (t.w_full, full, False), (t.w_body, body, False)]
            if t.w_named and self.exact_names:
                rankings.append((t.w_named, self.named_scores(analysis, allowed), False))
        if mode in ("hybrid", "dense") and query_vector is not None and self.index.vectors.ntotal:
            k = min(t.dense_k, self.index.vectors.ntotal)
            scores, ids = self.index.vectors.search(query_vector.reshape(1, -1), k)
            keep = ids[0] >= 0  # FAISS pads with -1 when k exceeds what it has
            dense_scores = np.zeros(self.index.vectors.ntotal, dtype=np.float32)
            dense_scores[ids[0][keep]] = np.maximum(scores[0][keep], 1e-6)
            dense_per_doc = self._per_chunk(dense_scores, allowed, best_chunk)
            rankings.append((t.w_dense, dense_per_doc, True))

        fused = np.zeros(n, dtype=np.float64)
        found = np.zeros(n, dtype=bool)  # seen by some ranking: a candidate even when its fused score is 0
        for weight, scores, dense in rankings:
            seen = np.flatnonzero(scores > 0)
            found[seen] = True
            if t.fusion == "score" and len(seen):
                # scores scaled to the ranking's best one (1) and to 0 for unseen documents; cosines, which are never
                # near 0, from the lowest one seen
                top_seen, low = float(scores[seen].max()), float(scores[seen].min()) if dense else 0.0
                fused[seen] += weight * ((scores[seen] - low) / (top_seen - low) if top_seen > low else 1.0)
                continue
            # weighted reciprocal rank fusion; equal scores keep document order, equal fused scores go by id
            ranked = seen[np.argsort(-scores[seen], kind="stable")]
            fused[ranked] += weight / (t.rrf_k + np.arange(1, len(ranked) + 1, dtype=np.float64))
        candidates = np.flatnonzero(found)
        if len(candidates) > top:
            cutoff = np.partition(fused[candidates], len(candidates) - top)[len(candidates) - top]
            candidates = candidates[fused[candidates] >= cutoff]
        order = sorted(candidates.tolist(), key=lambda i: (-fused[i], self.ids[i]))[:top]
        hits = []
        for i in order:
            sid = self.ids[i]
            sheet, chunk = self.index.sheets[sid], self.index.chunks[best_chunk[i]] if best_chunk[i] >= 0 else {}
            hits.append(Hit(sid, sheet.title, sheet.partner, float(fused[i]), chunk.get("section", ""),
                            chunk.get("passage", ""), sheet.kind))
        if not order:
            return hits, 0.0, {}
        cosine = self.cosine(query_vector, hits[0].id) if query_vector is not None else None
        features = self.features(analysis, hits[0].id, cosine, float(head[order[0]]))
        features["off_topic"] = 1.0 if analysis.off_topic else 0.0
        # whether the dense signal agrees on the first document (the official fiches' answer decision reads it)
        features["dense_above"] = float(documents_above(dense_per_doc, order[0]))
        return hits, self.confidence(features, mode), features

    def named_scores(self, analysis: Analysis, allowed: np.ndarray) -> np.ndarray:
        """1 for the documents one of whose names (title, keyword) is the request word for word, its words as typed
        or corrected, in any order, stopwords aside, a name that negates only for a request that negates too; 0
        elsewhere. Glossary equivalents do not count: "chômage" is not "allocation chômage"."""
        said = frozenset(s for concept in analysis.concepts for s in concept.typed[0])
        negating = negates(analysis.query)  # "sans titre de séjour" names the AME sheet; "titre de séjour" does not
        scores = np.zeros(len(self.ids), dtype=np.float32)
        scores[[i for i, negated in self.exact_names.get(said, []) if negating or not negated]] = 1.0
        return np.where(allowed, scores, 0).astype(np.float32)

    def _per_sheet(self, scores: np.ndarray, allowed: np.ndarray) -> np.ndarray:
        return np.where(allowed & (scores > 0), scores, 0).astype(np.float32)

    def _per_chunk(self, scores: np.ndarray, allowed: np.ndarray, best_chunk: np.ndarray) -> np.ndarray:
        """Chunk scores -> each document's best chunk score; the first signal to see a document picks its passage
        (its first chunk with the best score)."""
        chunks = np.flatnonzero(scores > 0)
        chunks = chunks[allowed[self.chunk_owner[chunks]]]
        owners, values = self.chunk_owner[chunks], scores[chunks]
        best = np.zeros(len(self.ids), dtype=np.float32)
        np.maximum.at(best, owners, values)
        at_best = values == best[owners]
        firsts, where = np.unique(owners[at_best], return_index=True)
        picked = chunks[at_best][where]
        unset = best_chunk[firsts] < 0
        best_chunk[firsts[unset]] = picked[unset]
        return best

    def lexical_scores(self, bm25, analysis: Analysis) -> np.ndarray:
        """BM25 summed over concepts; a concept scores its best alternative (typed, corrected or glossary).

        Glossary phrases count the mean of their terms, times `expansion_weight`: "caf" may stand for
        "caisse d'allocations familiales" without dragging in every sheet that says "familiales".
        """
        cache: dict[str, np.ndarray] = {}

        def term(s: str) -> np.ndarray:
            if s not in cache:
                cache[s] = np.asarray(bm25.get_scores([s]), dtype=np.float32)
            return cache[s]

        total = None
        for concept in analysis.concepts:
            best = None
            for phrase in concept.typed:
                v = sum(term(s) for s in phrase)
                best = v if best is None else np.maximum(best, v)
            for phrase in concept.expansions:
                best = np.maximum(best, self.tuning.expansion_weight * sum(term(s) for s in phrase) / len(phrase))
            total = best if total is None else total + best
        return total

    def topical(self, analysis: Analysis) -> list[Concept]:
        """The concepts that say what the query is about: an amount, a year or a reference that no sheet contains
        ("1200" euros, "né en 1966", "cerfa 846A") tells nothing of the subject, so the answer decision leaves it out."""
        return [c for c in analysis.concepts
                if not (any(ch.isdigit() for ch in c.words) and not c.stems & self.idf.keys())]

    def coverage(self, concepts: list[Concept], sheet_id: str, head_only: bool = False,
                 affirmed: bool = False) -> float:
        """Share of the concepts (weighted by rarity) that the sheet's words (or title and keywords) cover;
        `affirmed`: only the title and keyword words that no negation negates."""
        if head_only and affirmed:
            terms = self.affirmed_head.get(sheet_id, set())
        else:
            terms = (self.head_terms if head_only else self.terms).get(sheet_id, set())
        total = covered = 0.0
        for concept in concepts:
            weight = max(self.idf.get(s, self.unknown_idf) for phrase in concept.typed for s in phrase)
            total += weight
            if any(set(p) <= terms for p in concept.typed + concept.expansions):
                covered += weight
        return covered / total if total else 0.0

    def cosine(self, query_vector: np.ndarray, sheet_id: str) -> float:
        """Best cosine between the query and the sheet's chunks, even when FAISS's top-k did not reach them.

        Only chunks with a vector count: in the official fiches' tier, the first chunks only (one per fiche)."""
        flat = self.index.vectors.index  # IndexIDMap over IndexFlatIP; ids are chunk positions
        return max((float(flat.reconstruct(i) @ query_vector) for i in self.sheet_chunks[sheet_id] if i < flat.ntotal),
                   default=0.0)

    def features(self, analysis: Analysis, sheet_id: str, cosine: float | None, head_score: float) -> dict[str, float]:
        """What the answer decision looks at: how much of the query the best sheet explains."""
        known = unknown = 0.0
        concepts = self.topical(analysis)
        for concept in concepts:
            stems = [s for phrase in concept.typed for s in phrase]
            weight = max(self.idf.get(s, self.unknown_idf) for s in stems)
            if any(s in self.idf for s in concept.stems):
                known += weight
            else:
                unknown += weight
        said = set().union(*(c.stems for c in concepts))
        negating = negates(analysis.query)
        return {
            # the query says one of the sheet's names in full, in any order and among other words: a long situation
            # that mentions "avis d'imposition" asks about that sheet, however much else it tells
            "named": float(any(name <= said for name, negated in self.names.get(sheet_id, [])
                               if negating or not negated)),
            "coverage": self.coverage(concepts, sheet_id),
            "head_coverage": self.coverage(concepts, sheet_id, head_only=True, affirmed=not negating),
            "cosine": 0.0 if cosine is None else cosine,
            "unknown": unknown / (known + unknown) if known + unknown else 1.0,
            "length": math.log1p(len(concepts)),
            # BM25 on title + keywords per concept, in units of the rarest term's idf, so that the scale does not
            # depend on the number of sheets.
            "head_score": head_score / self.max_idf / max(1, len(concepts)),
        }

    def confidence(self, x: dict[str, float], mode: str) -> float:
        """Probability-like score that the best sheet answers the query (logistic, fitted by tools/tune.py)."""
        _, weights, bias, _ = next(d for d in self.tuning.decision if d[0] == mode)
        z = bias + sum(w * x[k] for k, w in weights)
        return 1.0 / (1.0 + math.exp(-z))


def documents_above(scores: np.ndarray, i: int, cap: int = 20) -> int:
    """How many documents a signal scores above document i (at most `cap`; `cap` when it did not see it)."""
    return min(int((scores > scores[i]).sum()), cap) if scores[i] > 0 else cap


def run_query(ranker: Ranker, embedder: Embedder | None, query: str, top: int = 5, partner: str | None = None,
              mode: str = "hybrid", encode: Callable[[str], np.ndarray] | None = None, source: str = "all",
              fiche_rule: FicheRule | None = None) -> Result:
    """Analyse, embed (through `encode` when given, e.g. a cache) and rank one query over the counter sheets and,
    when the build has them, the official fiches (policy: indexer/fiches_rank.py). Lexical needs no embedder.
    `fiche_rule`: another answer decision for the fiches than FICHE_RULES (tools/fiches_tune.py)."""
    if mode not in MODES:
        raise ValueError(f"mode inconnu {mode!r} : {', '.join(MODES)}")
    if source not in SOURCES:
        raise ValueError(f"source inconnue {source!r} : {', '.join(SOURCES)}")
    started = time.perf_counter()
    truncated, query = len(query) > MAX_QUERY_CHARS, query[:MAX_QUERY_CHARS]
    analysis = ranker.analyzer.analyze(query)
    analysed = time.perf_counter()
    vector = None
    dense = " ".join(analysis.dense_text.split()[:MAX_DENSE_WORDS])
    if mode != "lexical" and dense:
        vector = encode(dense) if encode else embedder.encode_query(dense)
    embedded = time.perf_counter()
    hits, confidence, features = [], 0.0, {}
    if source != "fiches":
        hits, confidence, features = ranker.rank(analysis, vector, mode, top, partner)
    tier = ranker.fiches
    if tier is None or source == "sheets":
        answer = hits[0].id if hits and confidence >= ranker.tuning.threshold(mode) else None
        kind = "sheet" if answer else ""
    else:
        fiche_hits, fiche_confidence, fiche_features = tier.rank(tier.analyzer.analyze(query), vector, mode, top,
                                                                 partner)
        rule = FICHE_RULES[mode] if fiche_rule is None else fiche_rule
        evidence = fiche_evidence(ranker, hits, features, fiche_hits, fiche_features, vector is not None)
        decision = rule.decide(hits, confidence, ranker.tuning.threshold(mode), fiche_hits, fiche_confidence,
                               lambda sid: _cited(ranker, sid), top, bool(features.get("named")), evidence)
        answer, hits, confidence, kind = decision.answer, decision.results, decision.confidence, decision.tier
    if answer and is_foreign(query, ranker.french_words):  # another language: suggestions only, never an answer
        answer, kind = None, ""
    done = time.perf_counter()
    timings = {"analyse": analysed - started, "embed": embedded - analysed, "rank": done - embedded,
               "total": done - started}
    return Result(query, answer, hits, confidence, mode, ranker.index.build_id, analysis, timings, analysis.off_topic,
                  kind, truncated)


def fiche_evidence(ranker: Ranker, hits: list[Hit], features: dict, fiche_hits: list[Hit], fiche_features: dict,
                   embedded: bool) -> Evidence:
    """What `FicheRule` reads of both tiers about the best fiche: its dense rank, its cosine minus the best sheet's
    (None without a query vector or a sheet), which counter sheets cite it, whether the query names it."""
    if not fiche_hits:
        return Evidence()
    citers = ranker.citers.get(fiche_hits[0].id, set())
    best = hits[0].id if hits else None
    return Evidence(dense_above=fiche_features.get("dense_above"),
                    dense_lead=fiche_features["cosine"] - features["cosine"] if embedded and hits else None,
                    source_of_another=bool(citers) and best not in citers, source_of_best=best in citers,
                    fiche_named=bool(fiche_features.get("named")))


def _cited(ranker: Ranker, sheet_id: str) -> list[Hit]:
    """The official fiches a counter sheet's sources cite, as results (those present in the fiche tier)."""
    sheet, fiches = ranker.index.sheets.get(sheet_id), ranker.fiches.index.sheets
    hits = []
    for fid in cited_fiches(sheet.sources if sheet else []):
        if fid in fiches:
            fiche = fiches[fid]
            hits.append(Hit(fid, fiche.title, fiche.partner, 0.0, "", fiche.description, "fiche"))
    return hits
