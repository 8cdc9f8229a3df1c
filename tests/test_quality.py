"""Search quality of the shipped KB and model must not fall below floors set from `python -m indexer eval`.

Floors sit a little under the measured figures (README, "Quality"), so a real regression fails and noise does not.
These assert quality only; timings are reported by the eval command, never asserted.
"""

from pathlib import Path

import pytest

from indexer.evaluate import evaluate, load_queries
from indexer.search import Searcher

pytestmark = pytest.mark.model
EVAL = Path(__file__).parent / "eval"


@pytest.fixture(scope="module")
def reports(real_index):
    searcher = Searcher(real_index)
    return {(name, mode): evaluate(searcher, load_queries(EVAL / f"{name}.jsonl"), mode, name).to_json()
            for name in ("dev", "heldout") for mode in ("hybrid", "dense", "lexical")}


@pytest.mark.parametrize("name, floors", [
    ("dev", {"hit@1": 0.96, "hit@5": 0.985, "mrr@10": 0.97, "oos_rejected": 0.7}),
    ("heldout", {"hit@1": 0.89, "hit@5": 0.98, "mrr@10": 0.92, "oos_rejected": 0.8}),
])
def test_hybrid_quality_floors(reports, name, floors):
    report = reports[(name, "hybrid")]
    for metric, floor in floors.items():
        assert report[metric] >= floor, f"{name} {metric} = {report[metric]} < {floor}"
    assert report["in_scope_unanswered"] <= 0.03


@pytest.mark.parametrize("name", ["dev", "heldout"])
def test_hybrid_beats_dense_and_lexical_alone(reports, name):
    hybrid = reports[(name, "hybrid")]["hit@1"]
    assert hybrid > reports[(name, "dense")]["hit@1"]
    assert hybrid >= reports[(name, "lexical")]["hit@1"]


def test_the_evaluation_set_covers_the_catalogue():
    dev, heldout = load_queries(EVAL / "dev.jsonl"), load_queries(EVAL / "heldout.jsonl")
    assert len(dev) + len(heldout) >= 300
    assert sum(1 for q in dev + heldout if not q.expected) >= 20
    counts = {}
    for q in dev + heldout:
        for sheet_id in q.expected:
            counts[sheet_id] = counts.get(sheet_id, 0) + 1
    assert len(counts) >= 80 and min(counts.values()) >= 3
