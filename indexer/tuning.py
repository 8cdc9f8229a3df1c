"""The fusion, its weights and the answer decision of `indexer.search`, fitted by tools/tune.py on the tuning sets."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Tuning:
    """The fusion, its weights and the answer decision, fitted by tools/tune.py on the tuning sets (tests/eval/dev*)."""

    rrf_k: float = 2.0  # reciprocal rank fusion only
    w_head: float = 1.0  # BM25 on title + keywords
    w_body: float = 0.2  # BM25 on body chunks
    w_full: float = 1.0  # BM25 on whole sheets, title and keywords counted twice
    w_dense: float = 1.0  # cosine on the sheets' dense passages
    w_named: float = 0.5  # the request is, word for word, a counter sheet's title or one of its keywords
    expansion_weight: float = 1.0  # glossary equivalents vs words as typed
    dense_k: int = 200  # chunks fetched from FAISS
    fusion: str = "score"  # "rrf": weighted reciprocal ranks; "score": weighted scores, each ranking's scaled to [0, 1]
    # Answer decision per mode: (weights over `Ranker.features`, bias, threshold) of a logistic model fitted on
    # the tuning sets (tests/eval/dev*.jsonl) by tools/tune.py; the threshold stays as far as it can inside both error
    # budgets (2 % of in-scope queries unanswered, 90 % of out-of-scope ones rejected). Below it there is no answer,
    # only suggestions (and where to direct, for a known gap). Fitted with multilingual-e5-small (the default model),
    # one dense passage per sheet.
    decision: tuple[tuple[str, tuple[tuple[str, float], ...], float, float], ...] = (
        ("hybrid", (("coverage", 2.44), ("head_coverage", 2.561), ("cosine", 0.659), ("unknown", -1.688),
                    ("length", 2.218), ("head_score", 2.244), ("off_topic", -4.062), ("named", 2.052)), -7.343, 0.23),
        ("lexical", (("coverage", 2.285), ("head_coverage", 2.722), ("unknown", -1.579), ("length", 2.297),
                     ("head_score", 2.323), ("off_topic", -4.097), ("named", 2.08)), -6.979, 0.23),
        ("dense", (("cosine", 6.925),), -6.033, 0.48),
    )

    @property
    def top_score(self) -> float:
        """The fused score of a document ranked first by every ranking: the scale of `Hit.score` (a document named
        word for word by the request gets `w_named` more)."""
        total = self.w_head + self.w_body + self.w_full + self.w_dense
        return total if self.fusion == "score" else total / (self.rrf_k + 1)

    def threshold(self, mode: str = "hybrid") -> float:
        return next(d[3] for d in self.decision if d[0] == mode)
