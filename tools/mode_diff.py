"""Where hybrid and lexical disagree: per query, which mode puts an expected sheet first, and what each ranks first.

    python tools/mode_diff.py tests/eval/dev.jsonl tests/eval/dev_extra.jsonl [--index index] [--all]

For each in-scope query of the files (tuning sets only: never run it on tests/eval/heldout*), the first three sheets
of each mode. A query is listed when lexical and hybrid differ on it, or (with --all) when hybrid misses it too.
Tags: "L+H-" lexical right and hybrid wrong (what the fusion broke), "L-H+" the reverse (what dense brought),
"L-H-" both wrong; then "D+" or "D-" for dense alone. Ends with the counts per set.
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

from indexer.evaluate import load_queries
from indexer.search import MODES
from indexer.searcher import Searcher


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("files", nargs="+")
    parser.add_argument("--index", default="index")
    parser.add_argument("--all", action="store_true", help="also list the queries both modes miss")
    args = parser.parse_args()
    searcher = Searcher(args.index, many_queries=True)
    counts: dict[str, Counter] = {}
    for path in args.files:
        name = Path(path).stem
        counts[name] = Counter()
        for q in load_queries(path):
            if not q.expected:
                continue
            results = {mode: searcher.search(q.query, top=3, mode=mode, wait=True) for mode in MODES}
            right = {mode: bool(r.results) and r.results[0].id in q.expected for mode, r in results.items()}
            tag = f"L{'+' if right['lexical'] else '-'}H{'+' if right['hybrid'] else '-'}"
            counts[name][tag] += 1
            if right["lexical"] == right["hybrid"] and (right["hybrid"] or not args.all):
                continue
            print(f"{tag} D{'+' if right['dense'] else '-'} {name}:{q.line} {q.query!r} attendu {'|'.join(q.expected)}")
            for mode, result in results.items():
                print(f"    {mode:8} {result.confidence:.2f} "
                      + " ".join(f"{h.id} {h.score:.2f}" for h in result.results))
    print()
    for name, c in counts.items():
        total = sum(c.values())
        print(f"{name}: {total} in scope, L+H- {c['L+H-']}, L-H+ {c['L-H+']}, L-H- {c['L-H-']}, "
              f"hybrid - lexical {(c['L-H+'] - c['L+H-']) / total:+.3f}")


if __name__ == "__main__":
    main()
