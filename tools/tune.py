"""Fit the ranking weights and the answer decision on a query set (never on the held-out one).

    python tools/tune.py tests/eval/dev.jsonl tests/eval/dev_extra.jsonl tests/eval/dev_agents.jsonl [--index index]
        [--max-unanswered 0.02] [--min-rejected 0.90] [--no-grid] [--grid NAME=V1,V2...] [--drop FEATURE...] [--evaluate FILE...]

Embeds each query of the files once and grid-searches the fusion (reciprocal rank or score-normalised) and its
weights for hybrid hit@1. A few queries decide between neighbouring grid points, so the rule is built not to follow
them: each tuning set counts the same whatever its size, and a point scores the mean hit@1 of itself and of its
neighbours (one step along one axis), so that a flat top wins over a lone peak. It prints, for each tuning set, what
the rule chooses without that set and the hit@1 it then gets on it (and the same for the plain best point): a
cross-validation of the rule on the tuning sets themselves. Then it fits, for each mode, a logistic
answer decision over `Ranker.features` (in-scope vs out-of-scope queries) and picks the threshold that stays
farthest inside both error budgets: at most --max-unanswered of in-scope queries left unanswered, at least
--min-rejected of out-of-scope ones rejected (see `_threshold`). Prints a `Tuning(...)` to paste into
indexer/search.py. An ablation: `--drop off_topic --evaluate tests/eval/heldout.jsonl` fits without a feature and
prints the hybrid eval rows of that fit on other sets (evaluated only, never fitted on).
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression

from indexer.evaluate import evaluate, format_table, load_queries
from indexer.search import MAX_DENSE_WORDS, Tuning
from indexer.searcher import Searcher

GRID = {  # w_head stays 1: multiplying every weight by the same factor changes no ranking
    "fusion": ["rrf", "score"],  # not smoothed across: two fusions, not two neighbouring values
    "rrf_k": [2, 5, 10, 20],  # reciprocal rank fusion only
    "w_body": [0.2, 0.4, 0.7, 1.0],
    "w_full": [0.0, 0.5, 1.0],
    "w_dense": [0.2, 0.4, 0.7, 1.0, 1.5, 2.0],
    "w_named": [0.0, 0.25, 0.5, 1.0],  # a request that is a sheet's title or keyword word for word
}
FEATURES = {
    "hybrid": ("coverage", "head_coverage", "cosine", "unknown", "length", "head_score", "off_topic", "named"),
    "lexical": ("coverage", "head_coverage", "unknown", "length", "head_score", "off_topic", "named"),
    "dense": ("cosine",),
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("files", nargs="+")
    parser.add_argument("--index", default="index")
    parser.add_argument("--max-unanswered", type=float, default=0.02,
                        help="budget: the in-scope share left unanswered")
    parser.add_argument("--min-rejected", type=float, default=0.90,
                        help="budget: the out-of-scope share rejected")
    parser.add_argument("--no-grid", action="store_true", help="keep the current fusion weights")
    parser.add_argument("--grid", nargs="+", default=[], metavar="NAME=V1,V2",
                        help="other values for an axis of GRID, e.g. fusion=score w_body=0.1,0.2,0.4")
    parser.add_argument("--drop", nargs="+", default=[], metavar="FEATURE", help="fit without these features")
    parser.add_argument("--evaluate", nargs="+", default=[], metavar="FILE",
                        help="print the hybrid eval rows of the fitted tuning on these sets")
    args = parser.parse_args()
    for axis in args.grid:
        name, _, values = axis.partition("=")
        if name not in GRID or not values:
            parser.error(f"--grid {axis} : attendu NOM=V1,V2 avec NOM parmi {', '.join(GRID)}")
        GRID[name] = [v if name == "fusion" else float(v) for v in values.split(",")]
    searcher = Searcher(args.index, many_queries=True)
    ranker = searcher.refresh()
    prepared, origin = [], []  # (query, analysis, vector), and the tuning set each comes from
    for q, name in ((q, Path(f).stem) for f in args.files for q in load_queries(f)):
        analysis = ranker.analyzer.analyze(q.query)
        dense = " ".join(analysis.dense_text.split()[:MAX_DENSE_WORDS])  # what `run_query` embeds
        prepared.append((q, analysis, searcher.embedder.encode_query(dense)))
        origin.append(name)
    in_scope = sum(1 for q, _, _ in prepared if q.expected)

    best = {k: getattr(Tuning(), k) for k in GRID}
    _remember_lexical_scores(ranker)
    if not args.no_grid:
        names = [Path(f).stem for f in args.files]
        sets = [[row for row, o in zip(prepared, origin) if row[0].expected and o == name] for name in names]
        table = {}  # grid point (value indices) -> hit@1 on each tuning set
        for point in itertools.product(*(range(len(v)) for v in GRID.values())):
            if _values(point)["fusion"] == "score" and point[1] != 0:  # rrf_k plays no part in score fusion
                continue
            ranker.tuning = dataclasses.replace(Tuning(), **_values(point))
            table[point] = tuple(np.mean([ranker.rank(a, v, "hybrid", 1)[0][0].id in q.expected for q, a, v in s])
                                 for s in sets)
        chosen = _robust_choice(table)
        print("grid points by smoothed hit@1 (mean over the tuning sets, then over each point's neighbours):")
        for point in sorted(table, key=lambda p: -_smoothed(table, p, range(len(sets))))[:5]:
            print(f"  {_smoothed(table, point, range(len(sets))):.4f}", _values(point),
                  " ".join(f"{n} {h:.4f}" for n, h in zip(names, table[point])))
        if len(sets) > 1:  # the rule chosen on all tuning sets but one, scored on that one
            for held in range(len(sets)):
                rest = [i for i in range(len(sets)) if i != held]
                robust, peak = _robust_choice(table, rest), max(table, key=lambda p: _mean(table, p, rest))
                print(f"  chosen without {names[held]}: smoothed rule {table[robust][held]:.4f} "
                      f"({_values(robust)}), best point {table[peak][held]:.4f} ({_values(peak)})")
        best = _values(chosen)
    ranker.tuning = dataclasses.replace(Tuning(), **best)

    decision = []
    for mode, names in FEATURES.items():
        names = tuple(n for n in names if n not in args.drop)
        rows, labels = [], []
        for q, analysis, vector in prepared:
            _, _, x = ranker.rank(analysis, vector, mode, 1)
            rows.append([x.get(n, 1.0 if n == "unknown" else 0.0) for n in names])
            labels.append(1 if q.expected else 0)
        X, y = np.array(rows), np.array(labels)
        model = LogisticRegression(C=1.0, class_weight="balanced", max_iter=5000).fit(X, y)
        p = model.predict_proba(X)[:, 1]
        threshold = _threshold(p, y, args.max_unanswered, args.min_rejected)
        weights = tuple((n, round(float(w), 3)) for n, w in zip(names, model.coef_[0]))
        decision.append((mode, weights, round(float(model.intercept_[0]), 3), threshold))
        print(f"{mode}: tuning sets out-of-scope rejected {np.mean(p[y == 0] < threshold):.3f}, "
              f"in-scope unanswered {np.mean(p[y == 1] < threshold):.3f}")
    print("\nTuning(" + ", ".join(f"{k}={v!r}" for k, v in best.items()) + f", decision={tuple(decision)})")
    if args.evaluate:
        fitted = Searcher(args.index, many_queries=True, tuning=dataclasses.replace(Tuning(), **best, decision=tuple(decision)))
        print()
        print(format_table([evaluate(fitted, load_queries(f), "hybrid", Path(f).stem) for f in args.evaluate]))


def _values(point: tuple[int, ...]) -> dict:
    return {name: values[i] for (name, values), i in zip(GRID.items(), point)}


def _mean(table: dict, point: tuple[int, ...], sets) -> float:
    return float(np.mean([table[point][i] for i in sets]))


def _smoothed(table: dict, point: tuple[int, ...], sets) -> float:
    """The mean hit@1 of a grid point and of its neighbours (one step along one axis): a point on a flat top
    scores above a lone peak that a few queries made."""
    around = [point] + [p for axis in range(1, len(point)) for step in (-1, 1)
                        if (p := point[:axis] + (point[axis] + step,) + point[axis + 1:]) in table]
    return float(np.mean([_mean(table, p, sets) for p in around]))


def _robust_choice(table: dict, sets=None) -> tuple[int, ...]:
    """The grid point with the best smoothed hit@1, each tuning set counting the same whatever its size; on a tie
    the best point itself, then the first in grid order."""
    sets = range(len(next(iter(table.values())))) if sets is None else sets
    return max(table, key=lambda p: (round(_smoothed(table, p, sets), 9), round(_mean(table, p, sets), 9),
                                     tuple(-i for i in p)))


def _remember_lexical_scores(ranker) -> None:
    """BM25 scores depend on the query and the expansion weight only: compute them once for the whole grid."""
    compute, memo = ranker.lexical_scores, {}

    def remembered(bm25, analysis):
        key = (id(bm25), id(analysis), ranker.tuning.expansion_weight)
        if key not in memo:
            memo[key] = compute(bm25, analysis)
        return memo[key]

    ranker.lexical_scores = remembered


def _threshold(p: np.ndarray, y: np.ndarray, max_unanswered: float, min_rejected: float) -> float:
    """The threshold that stays farthest inside both error budgets, each margin counted in its own budget: at 0.02
    of in-scope queries allowed unanswered and 0.90 of out-of-scope ones to reject, leaving 1 % unanswered
    (margin 0.5) weighs as much as rejecting 95 % (margin 0.5). The lowest threshold on a tie. Unlike a rule that
    goes as far as one budget allows, it does not settle at the edge of a flat stretch of the curve, where a
    few queries unlike the tuning ones tip it over."""
    def margin(t: float) -> float:
        unanswered, rejected = np.mean(p[y == 1] < t), np.mean(p[y == 0] < t)
        return min((max_unanswered - unanswered) / max_unanswered, (rejected - min_rejected) / (1 - min_rejected))

    return max((t / 100 for t in range(5, 96)), key=lambda t: (round(margin(t), 9), -t))


if __name__ == "__main__":
    main()
