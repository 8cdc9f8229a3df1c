"""How many sheets the app offers per query (the answer and its plausible candidates, assistant/glance.py) and how
many close pairs, under the shipped fusion and under the 0.3.0 one, over the same index.

    python tools/candidates.py [--index index] [--limit 400] tests/eval/dev.jsonl tests/eval/heldout_d.jsonl
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics

from assistant import glance
from indexer.evaluate import load_queries
from indexer.search import Tuning
from indexer.searcher import Searcher

FUSIONS = {
    "rrf (0.3.0)": dataclasses.replace(Tuning(), fusion="rrf", rrf_k=5.0, w_body=0.4, w_full=1.0, w_dense=0.2),
    "shipped": Tuning(),
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("files", nargs="+")
    parser.add_argument("--index", default="index")
    parser.add_argument("--limit", type=int, default=400)
    args = parser.parse_args()
    queries = [q.query for f in args.files for q in load_queries(f)][: args.limit]
    for name, tuning in FUSIONS.items():
        glance.PLAUSIBLE_FLOOR = 0.5 * tuning.top_score  # the floor follows the fusion's scale, as in the app
        searcher = Searcher(args.index, many_queries=True, tuning=tuning)
        shown, pairs = [], 0
        for query in queries:
            hits = searcher.search(query, top=6).results
            shown.append(len(glance.plausible(hits, limit=3)))
            pairs += len(hits) > 1 and hits[0].score > 0 and hits[1].score / hits[0].score >= glance.CLOSE_RATIO
        print(f"{name}: {len(queries)} queries, sheets offered {statistics.mean(shown):.2f} on average "
              f"({', '.join(f'{k}: {shown.count(k)}' for k in range(4))}), close pairs {pairs}")


if __name__ == "__main__":
    main()
