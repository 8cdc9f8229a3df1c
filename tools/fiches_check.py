"""Must-show checks of the official fiches' tier, on an index with the fiches imported (README, Figures).

    python tools/fiches_check.py titles [--index index] [--mode hybrid] [--count 200] [--seed 0]
    python tools/fiches_check.py out-of-scope tests/eval/dev.jsonl … [--index index] [--mode hybrid]
    python tools/fiches_check.py cpu [--index index] [--mode hybrid]

`titles`: fiches drawn at random, each fiche's title as the question: how often the fiche is first, in the top 5.
`out-of-scope`: the questions with no expected answer of the sets, searched over the counter sheets only and over
both tiers: how many get a counter sheet, an official fiche, no answer; then every fiche answer, to be read.
`cpu`: the CPU time of a query over both tiers (query embedding included, cache cleared), 3 rounds of the bench's
queries: a figure that other jobs on a shared machine disturb far less than wall time.
"""

from __future__ import annotations

import argparse
import collections
import random
import statistics
import time

from indexer.evaluate import load_queries
from indexer.searcher import Searcher


def titles(searcher: Searcher, mode: str, count: int, seed: int) -> None:
    fiches = sorted(searcher.fiches(), key=lambda f: f.id)
    sample = random.Random(seed).sample(fiches, min(count, len(fiches)))
    first = top5 = 0
    for fiche in sample:
        ids = [h.id for h in searcher.search(fiche.title, top=5, mode=mode, wait=True).results]
        first += ids[:1] == [fiche.id]
        top5 += fiche.id in ids
    print(f"{mode} : {len(sample)} titres, fiche en tête {first}, dans les 5 premières {top5}")


def out_of_scope(searcher: Searcher, mode: str, files: list[str]) -> None:
    counts: collections.Counter = collections.Counter()
    answers = []
    for file in files:
        for q in (q for q in load_queries(file) if not q.expected):
            for source in ("sheets", "all"):
                result = searcher.search(q.query, top=5, mode=mode, source=source, wait=True)
                counts[(source, result.answer_kind or "aucune")] += 1
                if source == "all" and result.answer_kind == "fiche":
                    answers.append(f"{result.answer} | {result.results[0].title} | {q.query}")
    for source in ("sheets", "all"):
        print(source, {kind: n for (s, kind), n in sorted(counts.items()) if s == source})
    print("\n".join(answers))


def cpu(searcher: Searcher, mode: str) -> None:
    from indexer.bench import FICHE_QUERIES, QUERIES

    searcher.search("échauffement", mode=mode, wait=True)
    spent = []
    for _ in range(3):
        for query in [*QUERIES, *FICHE_QUERIES]:
            searcher.clear_cache()
            started = time.process_time()
            searcher.search(query, mode=mode, wait=True)
            spent.append((time.process_time() - started) * 1000)
    spent.sort()
    print(f"{mode} : {len(spent)} requêtes, temps CPU p50 {statistics.median(spent):.1f} ms, "
          f"p95 {spent[int(0.95 * len(spent))]:.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("check", choices=("titles", "out-of-scope", "cpu"))
    parser.add_argument("files", nargs="*")
    parser.add_argument("--index", default="index")
    parser.add_argument("--mode", default="hybrid", choices=("hybrid", "lexical", "dense"))
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    searcher = Searcher(args.index, many_queries=True)
    if args.check == "titles":
        titles(searcher, args.mode, args.count, args.seed)
    elif args.check == "cpu":
        cpu(searcher, args.mode)
    else:
        out_of_scope(searcher, args.mode, args.files)


if __name__ == "__main__":
    main()
