"""Choose the official fiches' answer threshold with the fiches imported (never on a held-out set).

    python tools/fiches_tune.py tests/eval/dev.jsonl tests/eval/dev_extra.jsonl tests/eval/fiches_dev.jsonl \
        tests/eval/fiches_dev_oos.jsonl [--index index] [--mode hybrid] [--thresholds 0.5 0.6 ...]

A query found in several files keeps the last file's expectation: fiches_dev_oos.jsonl gives the official fiche
that answers the counter sheets' out-of-scope questions of dev and dev_extra (or none).
Each query is embedded once; then, for each threshold, the two tiers' decision (indexer/fiches_rank.py) is replayed
and compared with the counter sheets alone. Per threshold: questions whose counter-sheet answer (or its absence)
changed with the fiches and counter-sheet questions whose expected sheet was first without the fiches and no longer
is (both must stay 0), in-scope questions answered by a wrong fiche, questions answered by an expected fiche,
questions of no expected answer answered by a fiche, the net of the fiche answers (right minus wrong minus those
of no expected answer: each fiche answer counts +1 or -1) and the hit@1 of the in-scope questions. FICHE_THRESHOLDS
takes the threshold of the best net with no change and no loss, the higher one on a tie, from 0.5 up:
fiches_dev_oos.jsonl labels the questions whose best fiche reaches 0.45 in hybrid or lexical, so lower thresholds
would be chosen on unlabelled answers.
"""

from __future__ import annotations

import argparse
import functools
from pathlib import Path

from indexer.evaluate import load_queries
from indexer.search import Searcher, run_query

THRESHOLDS = [0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("files", nargs="+")
    parser.add_argument("--index", default="index")
    parser.add_argument("--mode", default="hybrid", choices=("hybrid", "lexical", "dense"))
    parser.add_argument("--thresholds", nargs="+", type=float, default=THRESHOLDS)
    parser.add_argument("--show", type=float, help="list the fiche answers and losses at this threshold")
    args = parser.parse_args()
    searcher = Searcher(args.index, many_queries=True)
    ranker = searcher.refresh()
    if ranker.fiches is None:
        raise SystemExit(f"{args.index} : aucune fiche officielle importée (python -m indexer import-fiches)")
    embedder = None if args.mode == "lexical" else searcher.embedder
    encode = functools.lru_cache(maxsize=None)(embedder.encode_query) if embedder else None
    labelled = {q.query: (Path(f).stem, q) for f in args.files for q in load_queries(f)}  # the last file wins
    queries = list(labelled.values())
    alone = {id(q): run_query(ranker, embedder, q.query, 10, mode=args.mode, encode=encode, source="sheets")
             for _, q in queries}
    print("| threshold | sheet answers changed | sheet losses | wrong fiche answers (in scope) | right fiche answers "
          "| fiche answers, no expected answer | net | hit@1 (in scope) |")
    print("|---|---|---|---|---|---|---|---|")
    for threshold in args.thresholds:
        changed, losses, wrong, right, unexpected, hit1, in_scope = [], [], [], [], [], 0, 0
        for name, q in queries:
            result = run_query(ranker, embedder, q.query, 10, mode=args.mode, encode=encode,
                               fiche_threshold=threshold)
            first = result.results[0].id if result.results else None
            before = alone[id(q)].results[0].id if alone[id(q)].results else None
            sheet_answer = result.answer if result.answer_kind == "sheet" else None
            if sheet_answer != alone[id(q)].answer:
                changed.append((name, q.query, f"{alone[id(q)].answer} -> {sheet_answer}"))
            if q.expected:
                in_scope += 1
                hit1 += first in q.expected
                if before in q.expected and first not in q.expected:
                    losses.append((name, q.query, first))
                if result.answer_kind == "fiche":
                    (right if result.answer in q.expected else wrong).append((name, q.query, result.answer))
            elif result.answer_kind == "fiche":
                unexpected.append((name, q.query, result.answer))
        print(f"| {threshold:g} | {len(changed)} | {len(losses)} | {len(wrong)} | {len(right)} | {len(unexpected)} | "
              f"{len(right) - len(wrong) - len(unexpected)} | {hit1 / max(1, in_scope):.4f} |")
        if args.show is not None and abs(args.show - threshold) < 1e-9:
            for label, rows in (("changée", changed), ("perdue", losses), ("fausse", wrong), ("juste", right),
                                ("hors champ", unexpected)):
                for name, text, got in rows:
                    print(f"    {label} [{name}] {got} : {text}")


if __name__ == "__main__":
    main()
