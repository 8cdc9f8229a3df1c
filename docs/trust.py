"""The figures behind the card's "réponse sûre" / "à vérifier" and the two-sheets view (assistant/glance.py), on
the labelled queries of tests/eval, over `index/` (build it first: `python -m indexer rebuild`).

    python docs/trust.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]

from assistant import glance  # noqa: E402
from indexer.searcher import Searcher  # noqa: E402

FILES = ("dev.jsonl", "heldout_d.jsonl", "heldout_e.jsonl", "heldout_f.jsonl")


def main() -> int:
    searcher = Searcher(ROOT / "index")
    threshold = searcher.tuning.threshold()
    answered = wrong = unsure = wrong_unsure = pairs = rescued = 0
    for name in FILES:
        for line in (ROOT / "tests" / "eval" / name).read_text(encoding="utf-8").splitlines():
            case = json.loads(line)
            expected = set(case.get("expected") or [])
            result = searcher.search(case["query"], top=6)
            if not expected or result.answer is None:
                continue
            answered += 1
            is_wrong = result.answer not in expected
            sure = glance.trust(result.confidence, threshold, result.results).sure
            pair = glance.close_pair(result.results, result.answer)
            wrong += is_wrong
            unsure += not sure
            wrong_unsure += is_wrong and not sure
            pairs += bool(pair)
            rescued += is_wrong and bool(expected & {h.id for h in pair})
    print(f"{answered} réponses, {wrong} fausses ; « à vérifier » : {unsure} ({unsure / answered:.0%}), dont "
          f"{wrong_unsure} des {wrong} fausses ; deux fiches côte à côte : {pairs}, la bonne à côté pour {rescued} "
          "des fausses")
    return 0


if __name__ == "__main__":
    sys.exit(main())
