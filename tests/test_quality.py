"""Search quality of the shipped KB and model must not fall below floors set from `python -m indexer eval`.

Floors sit a little under the measured figures (README, "Quality"), so a real regression fails and noise does not.
These assert quality only; timings are reported by the eval command, never asserted.
"""

from pathlib import Path

import pytest

from indexer.evaluate import evaluate, load_queries
from indexer.searcher import Searcher

pytestmark = pytest.mark.model
EVAL = Path(__file__).parent / "eval"
SETS = ("dev", "dev_extra", "dev_agents", "heldout", "heldout_b", "heldout_c", "heldout_d", "heldout_e", "heldout_f")


@pytest.fixture(scope="module")
def reports(real_index):
    searcher = Searcher(real_index)
    return {(name, mode): evaluate(searcher, load_queries(EVAL / f"{name}.jsonl"), mode, name).to_json()
            for name in SETS for mode in ("hybrid", "dense", "lexical")}


@pytest.mark.parametrize("name, floors, most_unanswered", [
    ("dev", {"hit@1": 0.975, "hit@5": 0.99, "mrr@10": 0.98, "oos_rejected": 0.92}, 0.015),
    ("dev_extra", {"hit@1": 0.91, "hit@5": 0.97, "mrr@10": 0.935, "oos_rejected": 0.92}, 0.035),
    ("dev_agents", {"hit@1": 0.94, "hit@5": 0.98, "mrr@10": 0.96, "oos_rejected": 0.9}, 0.045),
    ("heldout", {"hit@1": 0.92, "hit@5": 0.99, "mrr@10": 0.95, "oos_rejected": 0.93}, 0.025),
    ("heldout_b", {"hit@1": 0.94, "hit@5": 0.99, "mrr@10": 0.96, "oos_rejected": 0.95}, 0.025),
    ("heldout_c", {"hit@1": 0.93, "hit@5": 0.98, "mrr@10": 0.96, "oos_rejected": 0.9}, 0.03),
    ("heldout_d", {"hit@1": 0.955, "hit@5": 0.99, "mrr@10": 0.97, "oos_rejected": 0.9}, 0.02),
    # out of scope rejected: 0.9322 and 0.9138 since the decision's refit of December 2026 (threshold 0.29 -> 0.23,
    # chosen on the tuning sets), which answers one more in-scope question on heldout_c, _d and _e
    ("heldout_e", {"hit@1": 0.95, "hit@5": 0.99, "mrr@10": 0.97, "oos_rejected": 0.93}, 0.02),
    ("heldout_f", {"hit@1": 0.94, "hit@5": 0.99, "mrr@10": 0.97, "oos_rejected": 0.91}, 0.015),
])
def test_hybrid_quality_floors(reports, name, floors, most_unanswered):
    report = reports[(name, "hybrid")]
    for metric, floor in floors.items():
        assert report[metric] >= floor, f"{name} {metric} = {report[metric]} < {floor}"
    assert report["in_scope_unanswered"] <= most_unanswered


@pytest.mark.parametrize("name, floor", [
    ("dev", 0.87), ("dev_extra", 0.72), ("dev_agents", 0.86), ("heldout", 0.88), ("heldout_b", 0.77),
    ("heldout_c", 0.80), ("heldout_d", 0.83), ("heldout_e", 0.79), ("heldout_f", 0.84),
])
def test_dense_retrieval_alone_understands_french(reports, name, floor):
    """multilingual-e5-small alone, one dense passage per sheet (every chunk embedded: 0.70-0.85 on the held-out
    sets; MiniLM, the default before 0.3.0: 0.51-0.64)."""
    assert reports[(name, "dense")]["hit@1"] >= floor


@pytest.mark.parametrize("name", SETS)
def test_hybrid_beats_dense_and_lexical_alone(reports, name):
    hybrid = reports[(name, "hybrid")]["hit@1"]
    assert hybrid > reports[(name, "dense")]["hit@1"]
    # measured: 0 to +0.043 on eight sets, -0.007 on heldout (one query of 149): never more than one query behind
    assert hybrid >= reports[(name, "lexical")]["hit@1"] - 0.01


def test_the_evaluation_set_covers_the_catalogue():
    queries = [q for name in SETS for q in load_queries(EVAL / f"{name}.jsonl")]
    assert len(queries) >= 1750
    assert sum(1 for q in queries if not q.expected) >= 450
    counts = {}
    for q in queries:
        for sheet_id in q.expected:
            counts[sheet_id] = counts.get(sheet_id, 0) + 1
    assert len(counts) >= 80 and min(counts.values()) >= 6


def test_held_out_sets_share_no_query_with_the_tuning_sets():
    def folded(name):
        return {" ".join(q.query.lower().split()) for q in load_queries(EVAL / f"{name}.jsonl")}

    tuning = folded("dev") | folded("dev_extra") | folded("dev_agents")
    for held_out in ("heldout", "heldout_b", "heldout_c", "heldout_d", "heldout_e", "heldout_f"):
        assert not tuning & folded(held_out), held_out
