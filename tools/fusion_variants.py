"""Other ways to fuse dense and lexical scores, measured against the shipped fusion on the tuning sets.

    python tools/fusion_variants.py tests/eval/dev.jsonl tests/eval/dev_extra.jsonl tests/eval/dev_agents.jsonl
        [--index index]

Each in-scope query's per-sheet signals are computed once, as `Ranker.rank` computes them (BM25 on heads, whole
sheets and body chunks, each scaled to its best sheet, and the exact names; the cosine of each sheet's dense
passage), then every variant re-fuses them: hybrid hit@1 per tuning set, their mean (each set counting the same),
and the hybrid hit@1 of the chosen weights on each set when that set is left out of the choice (a variant's best
weights picked on the other sets). Variants: the shipped min-max of the cosines over the sheets FAISS's `dense_k`
chunks reach, with other dense weights or `dense_k`; min-max over a fixed number of sheets; cosines as z-scores, as
a distance to the best one in cosine units, or as a softmax; the dense weight by query length, by agreement between
the two sides' first sheets or by dense's lead; re-ranking within lexical's top k only; hubness correction (CSLS:
minus the mean cosine of each sheet to its nearest sheets); symmetric keyword vectors (each sheet's title and
keywords embedded as e5 queries, `tools/passages.py --keywords`): the dense side as (1 - a) × passage cosine + a ×
best keyword cosine, the two as separate rankings, the mixed side for short queries only, a dense weight lowered
when the query nearly is a keyword; the dense side on the query as typed (without the glossary's expansions), alone
or beside the expanded one; the dense side on the query's content words only (the analyzer's words, no stopwords, no
expansions), beside or instead of the whole query; a long query's sentences embedded one by one (the best or the
mean cosine over them), beside or mixed with the whole query. Choose on the tuning sets only (never on
tests/eval/heldout*).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python tools/fusion_variants.py` from the project root, as documented
    sys.path.insert(0, str(ROOT))

from indexer.evaluate import load_queries  # noqa: E402
from indexer.offtopic import SENTENCE_END  # noqa: E402
from indexer.search import MAX_DENSE_WORDS  # noqa: E402
from indexer.searcher import Searcher  # noqa: E402
from indexer.store import IndexStore  # noqa: E402
from tools.passages import best_per_sheet, keyword_texts, query_vectors  # noqa: E402

Signals = dict  # per query: head, full, body, named (per sheet), cos (per sheet), words, expected (bool per sheet),
# the query's vector (q) and that of the query as typed (q_typed), the cosines of its content words (cos_content) and
# the best and mean cosines of its sentences (cos_sentence_max, cos_sentence_mean)


def _signals(searcher: Searcher, files: list[str]) -> tuple[list[str], np.ndarray, dict[str, list[Signals]],
                                                             np.ndarray]:
    """Sheet ids, chunks per sheet, each tuning set's in-scope signals, the sheets' dense vectors."""
    ranker = searcher.refresh()
    n = len(ranker.ids)
    allowed = np.ones(n, dtype=bool)
    flat = ranker.index.vectors.index
    vectors = np.stack([flat.reconstruct(ranker.sheet_chunks[sid][0]) for sid in ranker.ids])
    sets = {}
    for path in files:
        rows = []
        for q in load_queries(path):
            if not q.expected:
                continue
            analysis = ranker.analyzer.analyze(q.query)
            dense = " ".join(analysis.dense_text.split()[:MAX_DENSE_WORDS])
            zero = np.zeros(n, dtype=np.float32)
            head = full = body = named = zero
            if analysis.concepts:
                head = ranker._per_sheet(ranker.lexical_scores(ranker.index.head, analysis), allowed)
                full = ranker._per_sheet(ranker.lexical_scores(ranker.index.full, analysis), allowed)
                body = ranker._per_chunk(ranker.lexical_scores(ranker.index.body, analysis), allowed,
                                         np.full(n, -1, dtype=np.int64))
                if ranker.exact_names:
                    named = ranker.named_scores(analysis, allowed)
            vector = searcher.embedder.encode_query(dense) if dense else None
            typed = vector if dense == q.query or vector is None else searcher.embedder.encode_query(q.query)
            cos = vectors @ vector if vector is not None else zero
            content = " ".join(c.words for c in analysis.concepts)
            content_cos = vectors @ searcher.embedder.encode_query(content) if content else cos
            sentences = [s for s in SENTENCE_END.split(q.query) if len(s.split()) >= 3]
            per_sentence = (np.stack([vectors @ searcher.embedder.encode_query(s) for s in sentences])
                            if len(sentences) >= 2 else cos[None, :])
            rows.append({"head": head, "full": full, "body": body, "named": named, "cos": cos,
                         "words": len(q.query.split()), "expected": np.array([sid in q.expected for sid in ranker.ids]),
                         "q": vector, "q_typed": typed, "cos_content": content_cos,
                         "cos_sentence_max": per_sentence.max(0), "cos_sentence_mean": per_sentence.mean(0)})
        sets[Path(path).stem] = rows
    chunks = np.array([len(ranker.sheet_chunks[sid]) for sid in ranker.ids])
    return ranker.ids, chunks, sets, vectors


def _scaled(scores: np.ndarray) -> np.ndarray:
    top = scores.max()
    return scores / top if top > 0 else scores


def _minmax(cos: np.ndarray, seen: np.ndarray) -> np.ndarray:
    low, high = cos[seen].min(), cos[seen].max()
    return np.where(seen, (cos - low) / (high - low) if high > low else 1.0, 0.0)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("files", nargs="+")
    parser.add_argument("--index", default="index")
    args = parser.parse_args()
    searcher = Searcher(args.index, many_queries=True)
    ids, chunks, sets, vectors = _signals(searcher, args.files)
    owners, texts = keyword_texts([searcher.index.sheets[sid] for sid in ids])
    keywords = query_vectors(texts, searcher.embedder, IndexStore(args.index))
    owner = np.array([ids.index(o) for o in owners])
    for rows in sets.values():
        for r in rows:
            empty = r["q"] is None
            r["kcos"] = r["cos"] if empty else best_per_sheet(keywords @ r["q"], owner, len(ids))
            r["cos_typed"] = r["cos"] if empty else vectors @ r["q_typed"]
    order = np.argsort(ids)  # equal fused scores go by id, as in `Ranker.rank`
    neighbours = vectors @ vectors.T
    np.fill_diagonal(neighbours, -1.0)

    def reached(cos: np.ndarray, dense_k: int) -> np.ndarray:  # the sheets FAISS's first dense_k chunks reach
        ranked = np.argsort(-cos, kind="stable")
        seen = np.zeros(len(cos), dtype=bool)
        seen[ranked[:np.searchsorted(np.cumsum(chunks[ranked]), dense_k) + 1]] = True
        return seen

    def top_n(cos: np.ndarray, n: int) -> np.ndarray:
        seen = np.zeros(len(cos), dtype=bool)
        seen[np.argsort(-cos, kind="stable")[:n]] = True
        return seen

    t = searcher.tuning

    def lexical(r: Signals) -> np.ndarray:  # the shipped lexical side, the exact-name signal included
        return (t.w_head * _scaled(r["head"]) + t.w_full * _scaled(r["full"]) + t.w_body * _scaled(r["body"])
                + t.w_named * r["named"])

    def dense_scaled(cos: np.ndarray) -> np.ndarray:  # a dense side scaled as the ranker scales its cosines
        return _minmax(cos, reached(cos, t.dense_k))

    def shipped_dense(r: Signals) -> np.ndarray:
        return dense_scaled(r["cos"])

    def agree(r: Signals, k: int, w_agree: float, w_other: float) -> np.ndarray:
        lex = lexical(r)
        w = w_agree if int(np.argmax(r["cos"])) in np.argsort(-lex, kind="stable")[:k] else w_other
        return lex + w * shipped_dense(r)

    def rerank(r: Signals, k: int, w: float) -> np.ndarray:
        lex = lexical(r)
        if lex.max() <= 0:
            return shipped_dense(r)
        top = np.argsort(-lex, kind="stable")[:k]
        fused = lex.copy()
        fused[top] += 100 + w * shipped_dense(r)[top]
        return fused

    def lead(r: Signals, g0: float, low: float, high: float) -> np.ndarray:
        best = np.sort(r["cos"])[-2:]
        return lexical(r) + float(np.clip((best[1] - best[0]) / g0, low, high)) * shipped_dense(r)

    def csls(r: Signals, k: int, beta: float, w: float) -> np.ndarray:
        cos = r["cos"] - beta * np.sort(neighbours, 1)[:, -k:].mean(1)
        return lexical(r) + w * dense_scaled(cos)

    def mixed(r: Signals, a: float) -> np.ndarray:  # passage and best keyword cosines, min-max like the shipped side
        cos = (1 - a) * r["cos"] + a * r["kcos"]
        return dense_scaled(cos)

    dense_side: dict[str, Callable[[Signals], np.ndarray]] = {
        "z-score": lambda r: np.clip((r["cos"] - r["cos"].mean()) / r["cos"].std(), 0, None),
        "distance to best, /0.04": lambda r: np.clip(1 - (r["cos"].max() - r["cos"]) / 0.04, 0, None),
        "softmax T=0.02": lambda r: np.exp((r["cos"] - r["cos"].max()) / 0.02),
        "min-max over all sheets": lambda r: _minmax(r["cos"], np.ones(len(r["cos"]), dtype=bool)),
    }
    families: dict[str, dict[str, Callable[[Signals], np.ndarray]]] = {
        "lexical alone": {"": lexical},
        "shipped: min-max over dense_k=200 chunks": {
            f"w_dense={w}": (lambda r, w=w: lexical(r) + w * shipped_dense(r)) for w in (0.5, 0.7, 1.0, 1.3, 1.5)},
        "min-max over dense_k chunks": {
            f"dense_k={k} w_dense={w}": (lambda r, k=k, w=w: lexical(r) + w * _minmax(r["cos"], reached(r["cos"], k)))
            for k in (60, 100, 150, 260, 330) for w in (0.7, 1.0, 1.3)},
        "min-max over the first N sheets": {
            f"N={n} w_dense={w}": (lambda r, n=n, w=w: lexical(r) + w * _minmax(r["cos"], top_n(r["cos"], n)))
            for n in (8, 12, 16, 20, 25) for w in (0.7, 1.0, 1.3)},
        **{f"dense as {name}": {f"w_dense={w}": (lambda r, f=f, w=w: lexical(r) + w * f(r))
                                for w in (0.3, 0.5, 1.0, 1.5)} for name, f in dense_side.items()},
        "w_dense by query length": {
            f"<= {cut} words {a}, longer {b}": (
                lambda r, cut=cut, a=a, b=b: lexical(r) + (a if r["words"] <= cut else b) * shipped_dense(r))
            for cut in (4, 6, 10) for a, b in ((0.5, 1.0), (0.7, 1.0), (1.0, 0.5), (1.0, 1.5), (1.5, 1.0))},
        "w_dense by agreement (dense's first in lexical's top k)": {
            f"k={k} agree {a} else {b}": (lambda r, k=k, a=a, b=b: agree(r, k, a, b))
            for k in (1, 2, 3, 5) for a, b in ((1.0, 0.3), (1.0, 0.5), (1.0, 0.7), (1.5, 1.0))},
        "w_dense by dense's lead (cosine gap, clipped)": {
            f"gap/{g} in [{lo}, {hi}]": (lambda r, g=g, lo=lo, hi=hi: lead(r, g, lo, hi))
            for g in (0.01, 0.02, 0.03) for lo, hi in ((0.5, 1.0), (0.7, 1.3), (0.5, 1.5), (1.0, 1.5))},
        "re-rank lexical's top k only": {
            f"k={k} w_dense={w}": (lambda r, k=k, w=w: rerank(r, k, w))
            for k in (2, 3, 5, 10) for w in (0.5, 1.0, 1.5)},
        "dense = passage and keyword cosines, (1 - a) and a": {
            f"a={a} w_dense={w}": (lambda r, a=a, w=w: lexical(r) + w * mixed(r, a))
            for a in (0.25, 0.5, 0.75, 1.0) for w in (0.5, 0.7, 1.0, 1.3, 1.6)},
        "passage and keyword cosines as two rankings": {
            f"w_dense={w} w_keywords={k}": (lambda r, w=w, k=k: lexical(r) + w * shipped_dense(r) + k * mixed(r, 1.0))
            for w in (0.5, 0.7, 1.0, 1.3) for k in (0.1, 0.2, 0.3, 0.5)},
        "dense = passage and keyword cosines for short queries only (longer: shipped)": {
            f"<= {cut} words: a={a} w_dense={w}": (
                lambda r, cut=cut, a=a, w=w: lexical(r) + (w * mixed(r, a) if r["words"] <= cut else shipped_dense(r)))
            for cut in (3, 4, 5, 6, 8) for a in (0.25, 0.5, 0.75) for w in (0.7, 1.0, 1.3)},
        "w_dense lowered when the query nearly is a keyword": {
            f"best keyword cosine >= {cut}: {low}": (
                lambda r, cut=cut, low=low: lexical(r) + (low if r["kcos"].max() >= cut else 1.0) * shipped_dense(r))
            for cut in (0.9, 0.92, 0.94, 0.96) for low in (0.0, 0.3, 0.5, 0.7)},
        "dense on the query as typed (no glossary expansion)": {
            f"typed {w}, expanded {e}": (
                lambda r, w=w, e=e: lexical(r) + w * dense_scaled(r["cos_typed"])
                + e * shipped_dense(r))
            for w in (0.3, 0.5, 0.7, 1.0) for e in (0.0, 0.5, 0.7)},
        "dense on the content words, beside the whole query": {
            f"content {w}": (lambda r, w=w: lexical(r) + shipped_dense(r) + w * dense_scaled(r["cos_content"]))
            for w in (0.3, 0.5, 1.0)},
        "dense on the content words, instead of part of the whole query": {
            f"content {w}, whole {1 - w}": (
                lambda r, w=w: lexical(r) + (1 - w) * shipped_dense(r) + w * dense_scaled(r["cos_content"]))
            for w in (0.3, 0.5, 1.0)},
        "a long query's sentences one by one, beside the whole query": {
            f"{how} {w}": (
                lambda r, how=how, w=w: lexical(r) + shipped_dense(r) + w * dense_scaled(r[f"cos_sentence_{how}"]))
            for how in ("max", "mean") for w in (0.3, 0.5, 1.0)},
        "a long query's best sentence mixed into the whole query's cosine": {
            f"share {a}": (lambda r, a=a: lexical(r) + dense_scaled((1 - a) * r["cos"] + a * r["cos_sentence_max"]))
            for a in (0.3, 0.5, 1.0)},
        "hubness correction (CSLS)": {
            f"k={k} beta={b}": (lambda r, k=k, b=b: csls(r, k, b, 1.0)) for k in (5, 20) for b in (0.25, 0.5)},
    }
    names = list(sets)
    print("| variant | best weights | " + " | ".join(names) + " | mean | " +
          " | ".join(f"{n} left out" for n in names) + " |")
    print("|---|---|" + "---|" * (2 * len(names) + 1))
    for family, variants in families.items():
        table = {}
        for label, fuse in variants.items():
            table[label] = [float(np.mean([r["expected"][_first(fuse(r), order)] for r in rows]))
                            for rows in sets.values()]
        best = max(table, key=lambda v: np.mean(table[v]))
        out = []
        for held in range(len(names)):
            rest = [i for i in range(len(names)) if i != held]
            chosen = max(table, key=lambda v: np.mean([table[v][i] for i in rest]))
            out.append(f"{table[chosen][held]:.4f}")
        print(f"| {family} | {best} | " + " | ".join(f"{h:.4f}" for h in table[best]) +
              f" | {np.mean(table[best]):.4f} | " + " | ".join(out) + " |", flush=True)


def _first(fused: np.ndarray, order: np.ndarray) -> int:
    """The first sheet: the best fused score, equal scores by id."""
    return int(order[np.argmax(fused[order])])


if __name__ == "__main__":
    main()
