"""Search quality on a JSON Lines query set: hit@1, hit@5, MRR@10, out-of-scope handling, latency."""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass, field
from pathlib import Path

from indexer.searcher import Searcher


@dataclass
class Query:
    query: str
    expected: list[str]  # [] = out of scope: no answer should be given
    line: int


@dataclass
class Report:
    name: str
    mode: str
    queries: int = 0
    in_scope: int = 0
    out_of_scope: int = 0
    hit1: int = 0  # the answer (or, when none is given, the first result) is expected
    hit5: int = 0
    rr10: float = 0.0
    rejected: int = 0  # out-of-scope queries given no answer
    unanswered: int = 0  # in-scope queries given no answer
    wrong_answer: int = 0  # in-scope queries whose answer is not expected
    times: list[float] = field(default_factory=list)
    misses: list[str] = field(default_factory=list)
    confidences: list[tuple[bool, float]] = field(default_factory=list)  # (in scope?, confidence) per query

    def at_threshold(self, threshold: float) -> tuple[float, float]:
        """(out-of-scope rejected, in-scope unanswered) had the answer threshold been `threshold`."""
        oos = [c < threshold for in_scope, c in self.confidences if not in_scope]
        ins = [c < threshold for in_scope, c in self.confidences if in_scope]
        return self.rate(sum(oos), len(oos)), self.rate(sum(ins), len(ins))

    def rate(self, count: float, total: int) -> float:
        return count / total if total else 0.0

    def to_json(self) -> dict:
        ms = sorted(t * 1000 for t in self.times)
        return {
            "set": self.name, "mode": self.mode, "queries": self.queries, "in_scope": self.in_scope,
            "out_of_scope": self.out_of_scope,
            "hit@1": round(self.rate(self.hit1, self.in_scope), 4),
            "hit@5": round(self.rate(self.hit5, self.in_scope), 4),
            "mrr@10": round(self.rate(self.rr10, self.in_scope), 4),
            "oos_rejected": round(self.rate(self.rejected, self.out_of_scope), 4),
            "in_scope_unanswered": round(self.rate(self.unanswered, self.in_scope), 4),
            "wrong_answer": round(self.rate(self.wrong_answer, self.in_scope), 4),
            "p50_ms": round(statistics.median(ms), 2) if ms else 0.0,
            "p95_ms": round(ms[min(len(ms) - 1, int(0.95 * len(ms)))], 2) if ms else 0.0,
        }


def load_queries(path: str | Path) -> list[Query]:
    queries = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            queries.append(Query(str(data["query"]), [str(e) for e in data["expected"]], n))
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}:{n}: ligne invalide ({exc}) : attendu {{\"query\": …, \"expected\": […]}}") from exc
    return queries


def evaluate(searcher: Searcher, queries: list[Query], mode: str = "hybrid", name: str = "",
             source: str = "all") -> Report:
    """`source`: search both tiers (all), the counter sheets only, or the official fiches only."""
    report = Report(name, mode)
    searcher.clear_cache()
    searcher.search("échauffement", mode=mode, source=source)  # warm caches: the table reports warm per-query time
    for q in queries:
        result = searcher.search(q.query, top=10, mode=mode, source=source)
        report.queries += 1
        report.times.append(result.timings["total"])
        report.confidences.append((bool(q.expected), result.confidence))
        ranked = [h.id for h in result.results]
        if not q.expected:
            report.out_of_scope += 1
            if result.answer is None:
                report.rejected += 1
            else:
                report.misses.append(f"hors champ mais réponse {result.answer} ({result.confidence:.2f}) : {q.query}")
            continue
        report.in_scope += 1
        if result.answer is None:
            report.unanswered += 1
        elif result.answer not in q.expected:
            report.wrong_answer += 1
        if ranked and ranked[0] in q.expected:
            report.hit1 += 1
        else:
            got = ranked[0] if ranked else "rien"
            report.misses.append(f"attendu {'|'.join(q.expected)}, obtenu {got} ({result.confidence:.2f}) : {q.query}")
        if set(ranked[:5]) & set(q.expected):
            report.hit5 += 1
        for rank, sid in enumerate(ranked[:10], 1):
            if sid in q.expected:
                report.rr10 += 1 / rank
                break
        if result.answer is None and ranked and ranked[0] in q.expected:
            report.misses.append(f"bonne fiche {ranked[0]} mais sans réponse ({result.confidence:.2f}) : {q.query}")
    return report


SWEEP = [0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5]
COLUMNS = ("set", "mode", "queries", "hit@1", "hit@5", "mrr@10", "oos_rejected", "in_scope_unanswered", "p50_ms", "p95_ms")


def format_table(reports: list[Report]) -> str:
    """A Markdown table, one row per (set, mode): paste it as is in the README."""
    rows = [[str(r.to_json()[c]) for c in COLUMNS] for r in reports]
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def format_sweep(reports: list[Report], thresholds: list[float]) -> str:
    """Out-of-scope rejected / in-scope unanswered at other answer thresholds: the trade-off the threshold picks."""
    lines = ["| set | mode | " + " | ".join(f"t={t:g}" for t in thresholds) + " |", "|" + "---|" * (len(thresholds) + 2)]
    for r in reports:
        cells = [f"{oos:.2f} / {una:.3f}" for oos, una in (r.at_threshold(t) for t in thresholds)]
        lines.append(f"| {r.name} | {r.mode} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
