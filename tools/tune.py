"""Grid-search the fusion weights and the answer threshold on a query set (never on the held-out one).

    python tools/tune.py tests/eval/dev.jsonl [--index index]

Embeds each query once, then re-ranks with every combination; prints the best settings for `Tuning`.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools

from indexer.evaluate import load_queries
from indexer.search import Searcher, Tuning


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("file")
    parser.add_argument("--index", default="index")
    parser.add_argument("--max-unanswered", type=float, default=0.02)
    args = parser.parse_args()
    searcher = Searcher(args.index)
    ranker = searcher.refresh()
    queries = load_queries(args.file)
    prepared = []
    for q in queries:
        analysis = ranker.analyzer.analyze(q.query)
        prepared.append((q, analysis, searcher.embedder.encode([analysis.dense_text])[0]))

    grid = {
        "rrf_k": [2, 5, 10, 30],
        "w_body": [0.2, 0.4, 0.7, 1.0],
        "w_dense": [0.0, 0.1, 0.2, 0.4, 0.7],
        "expansion_weight": [0.4, 0.6, 0.8, 1.0],
    }
    results = []
    for values in itertools.product(*grid.values()):
        ranker.tuning = dataclasses.replace(Tuning(), **dict(zip(grid, values)))
        hits = 0
        for q, analysis, vector in prepared:
            if q.expected:
                top, _ = ranker.rank(analysis, vector, "hybrid", 1)
                hits += bool(top) and top[0].id in q.expected
        results.append((hits, values))
    results.sort(reverse=True)
    in_scope = sum(1 for q, _, _ in prepared if q.expected)
    for hits, values in results[:8]:
        print(f"hit@1 {hits / in_scope:.4f}", dict(zip(grid, values)))

    best = dict(zip(grid, results[0][1]))
    print("\nanswer threshold, with", best)
    rows = []
    for weight in [0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]:
        ranker.tuning = dataclasses.replace(Tuning(), **best, coverage_weight=weight)
        scored = []
        for q, analysis, vector in prepared:
            top, confidence = ranker.rank(analysis, vector, "hybrid", 1)
            scored.append((bool(q.expected), confidence))
        for threshold in [x / 100 for x in range(20, 90, 2)]:
            unanswered = sum(1 for ins, c in scored if ins and c < threshold) / in_scope
            oos = [c for ins, c in scored if not ins]
            rejected = sum(1 for c in oos if c < threshold) / max(1, len(oos))
            if unanswered <= args.max_unanswered:
                rows.append((rejected, -unanswered, weight, threshold))
    rows.sort(reverse=True)
    for rejected, unanswered, weight, threshold in rows[:8]:
        print(f"oos rejected {rejected:.3f}  in-scope unanswered {-unanswered:.3f}  coverage_weight {weight}  threshold {threshold}")


if __name__ == "__main__":
    main()
