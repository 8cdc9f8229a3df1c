"""Choose the official fiches' answer decision with the fiches imported (never on a held-out set).

    python tools/fiches_tune.py tests/eval/dev.jsonl tests/eval/dev_extra.jsonl tests/eval/fiches_dev.jsonl \
        tests/eval/fiches_dev_oos.jsonl tests/eval/dev_stories.jsonl [--index index] [--mode hybrid] \
        [--show 0.45,2,3,0,no]

A query found in several files keeps the last file's expectation: fiches_dev_oos.jsonl gives the official fiche
that answers the counter sheets' out-of-scope questions of dev and dev_extra (or none).
Each query is embedded and ranked once in both tiers; then every rule of the grid (`FicheRule`: threshold, margin
over the best sheet's confidence, dense rank, dense lead over the best sheet, whether the sources of other sheets may
answer) is replayed through the policy (indexer/fiches_rank.py `combine`)
and compared with the counter sheets alone. Per rule: questions whose counter-sheet answer (or its absence) changed
and counter-sheet questions whose expected sheet was first without the fiches and no longer is (both must stay 0),
in-scope questions answered by a wrong fiche, questions answered by an expected fiche, questions of no expected
answer answered by a fiche, the net of the fiche answers (right minus wrong minus those of no expected answer), the
exposure and the hit@1 of the in-scope questions.

The exposure measures the failure the tuning sets rarely show: a wrong fiche taking the first place from the right
counter sheet when that sheet is first but not confident. For each question whose expected sheet is first, whose
best fiche is neither expected nor cited by that sheet and whose query does not name the sheet, it counts whether the
rule lets the fiche answer with the sheet's confidence at 1/6, 1/2 and 5/6 of the sheets' threshold (the mean).
The rule chosen has the best net minus exposure with no change and no loss (ties: higher threshold, larger margin,
stricter agreement: `ranked`), thresholds from 0.45 up: fiches_dev_oos.jsonl labels the questions whose best fiche
reaches 0.45 in hybrid or lexical. In hybrid, the overrule of an answering sheet by a fiche the query names is then
chosen on top of that rule (`overrule`). A leave-one-set-out check prints, for each tuning file, the rule chosen
without it and what that rule does on it.
"""

from __future__ import annotations

import argparse
import itertools
from dataclasses import dataclass, replace
from pathlib import Path

from indexer.evaluate import load_queries
from indexer.fiches_rank import FICHE_RULES, Evidence, FicheRule
from indexer.language import is_foreign
from indexer.search import MAX_DENSE_WORDS, _cited, fiche_evidence
from indexer.searcher import Searcher

THRESHOLDS = [0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85]
MARGINS = [1.0, 2.0, 3.0, 4.0, 6.0]
DENSE_TOPS = [0, 1, 2, 3]  # hybrid only: lexical has no dense ranking
DENSE_LEADS = [None, 0.0, 0.01, 0.02]  # hybrid only: how much closer the fiche's passage must be than the sheet's
LEVELS = (1 / 6, 1 / 2, 5 / 6)  # the unconfident sheet's confidence, as fractions of the sheets' threshold
COUNTS = ("changed", "overruled", "losses", "wrong", "right", "unexpected", "net", "exposure", "hit1")
OVERRULE_LEADS = [None, 0.0, 0.01, 0.02, 0.03, 0.05]  # hybrid: how much closer a named fiche must be to overrule


@dataclass
class Row:
    """One query ranked in both tiers, as `run_query` ranks it (top 10)."""
    name: str  # the tuning file
    query: str
    expected: list
    sheets: list
    sheet_confidence: float
    sheet_named: bool
    fiches: list
    fiche_confidence: float
    evidence: Evidence
    cited: list
    foreign: bool


def collect(searcher: Searcher, files: list[str], mode: str) -> tuple[list[Row], float]:
    ranker = searcher.refresh()
    tier = ranker.fiches
    if tier is None:
        raise SystemExit("aucune fiche officielle importée (python -m indexer import-fiches)")
    labelled = {q.query: (Path(f).stem, q) for f in files for q in load_queries(f)}  # the last file wins
    rows = []
    for name, q in labelled.values():
        analysis = ranker.analyzer.analyze(q.query)
        dense = " ".join(analysis.dense_text.split()[:MAX_DENSE_WORDS])
        vector = searcher.embedder.encode_query(dense) if mode != "lexical" and dense else None
        sheets, confidence, features = ranker.rank(analysis, vector, mode, 10)
        fiches, fiche_confidence, fiche_features = tier.rank(tier.analyzer.analyze(q.query), vector, mode, 10)
        evidence = fiche_evidence(ranker, sheets, features, fiches, fiche_features, vector is not None)
        rows.append(Row(name, q.query, list(q.expected), sheets, confidence, bool(features.get("named")), fiches,
                        fiche_confidence, evidence,
                        _cited(ranker, sheets[0].id) if sheets else [], is_foreign(q.query, ranker.french_words)))
    return rows, ranker.tuning.threshold(mode)


def decide(row: Row, rule: FicheRule, sheet_threshold: float, sheet_confidence: float | None = None):
    """The policy's decision for a row (the same call as `run_query`); another sheet confidence for the exposure."""
    decision = rule.decide(row.sheets, row.sheet_confidence if sheet_confidence is None else sheet_confidence,
                           sheet_threshold, row.fiches, row.fiche_confidence, lambda sid: row.cited, 10,
                           row.sheet_named, row.evidence)
    if decision.answer and row.foreign:
        return None, "", decision.results
    return decision.answer, decision.tier, decision.results


def replay(rows: list[Row], rule: FicheRule, sheet_threshold: float, show: bool = False) -> dict:
    counts = dict.fromkeys(COUNTS, 0.0)
    in_scope = 0
    for row in rows:
        answer, kind, results = decide(row, rule, sheet_threshold)
        first = results[0].id if results else None
        before = row.sheets[0].id if row.sheets else None
        alone = before if row.sheets and row.sheet_confidence >= sheet_threshold and not row.foreign else None
        labels = []
        if alone is not None and kind == "fiche":
            labels.append("écartée")  # an answering sheet overruled by a fiche the query names
        elif (answer if kind == "sheet" else None) != alone:
            labels.append("changée")
        if row.expected:
            in_scope += 1
            counts["hit1"] += first in row.expected
            if before in row.expected and first not in row.expected:
                labels.append("perdue")
            if kind == "fiche":
                labels.append("juste" if answer in row.expected else "fausse")
        elif kind == "fiche":
            labels.append("hors champ")
        for label in labels:
            counts[{"changée": "changed", "écartée": "overruled", "perdue": "losses", "juste": "right",
                    "fausse": "wrong", "hors champ": "unexpected"}[label]] += 1
            if show:
                print(f"    {label} [{row.name}] {answer or first} : {row.query}")
        if (before in row.expected and row.fiches and row.fiches[0].id not in row.expected and not row.sheet_named
                and row.fiches[0].id not in {h.id for h in row.cited}):
            fires = [decide(row, rule, sheet_threshold, level * sheet_threshold)[1] == "fiche" for level in LEVELS]
            counts["exposure"] += sum(fires) / len(LEVELS)
            if show and any(fires):
                print(f"    exposée [{row.name}] {row.fiches[0].id} sur {before} : {row.query}")
    counts["net"] = counts["right"] - counts["wrong"] - counts["unexpected"]
    counts["hit1"] /= max(1, in_scope)
    return counts


def agreement(rows: list[Row], sheet_threshold: float, threshold: float, top: int) -> str:
    """How often the dense ranking puts the best fiche among its first `top`, for best fiches of confidence at least
    `threshold`: right ones and wrong ones where no sheet answers, and wrong ones over a right first sheet."""
    groups: dict[str, list[bool]] = {"right": [], "wrong": [], "over a right sheet": []}
    for row in rows:
        if not row.fiches or row.fiche_confidence < threshold or (row.sheets and row.sheet_named):
            continue
        agrees = row.evidence.dense_above is not None and row.evidence.dense_above < top
        first, right = row.fiches[0].id, row.fiches[0].id in row.expected
        if not (row.sheets and row.sheet_confidence >= sheet_threshold) and row.expected:
            groups["right" if right else "wrong"].append(agrees)
        if (row.sheets and row.sheets[0].id in row.expected and not right
                and first not in {h.id for h in row.cited}):
            groups["over a right sheet"].append(agrees)
    return ", ".join(f"{name} {sum(v)} of {len(v)}" for name, v in groups.items())


def grid(mode: str) -> list[FicheRule]:
    tops, leads = (DENSE_TOPS, DENSE_LEADS) if mode == "hybrid" else ([0], [None])
    return [FicheRule(t, m, d, lead, others)
            for t, m, d, lead, others in itertools.product(THRESHOLDS, MARGINS, tops, leads, (True, False))]


def ranked(table: dict[FicheRule, dict]) -> list[FicheRule]:
    """The rules with no change and no loss, best first: net minus exposure; ties: higher threshold, larger margin,
    stricter agreement (1 before 2 before 3, none last; a larger lead, none last; the sources of other sheets kept
    out)."""
    allowed = [r for r, c in table.items() if not c["changed"] and not c["losses"]]
    return sorted(allowed, reverse=True, key=lambda r: (round(table[r]["net"] - table[r]["exposure"], 9), r.threshold,
                                                        r.margin, -(r.dense_top or 99),
                                                        -1 if r.dense_lead is None else r.dense_lead,
                                                        not r.sources_of_others))


def choose(table: dict[FicheRule, dict]) -> FicheRule:
    return ranked(table)[0]


def overrule(rows: list[Row], base: FicheRule, sheet_threshold: float) -> FicheRule:
    """The overrule of an answering sheet by a fiche the query names (`FicheRule.overrules`), on top of the chosen
    rule: for each dense lead, what it does; chosen: the best net with no sheet answer otherwise changed and no
    loss; ties: no overrule, then the larger lead. Every overrule of the chosen lead is listed."""
    table = {lead: replay(rows, replace(base, overrule_lead=lead), sheet_threshold) for lead in OVERRULE_LEADS}
    print("| overrule lead | sheet answers overruled | right fiche answers | wrong | no expected answer | losses "
          "| net |")
    print("|---|---|---|---|---|---|---|")
    for lead, c in table.items():
        print(f"| {'-' if lead is None else f'{lead:g}'} | {c['overruled']:g} | {c['right']:g} | {c['wrong']:g} | "
              f"{c['unexpected']:g} | {c['losses']:g} | {c['net']:g} |")
    allowed = [lead for lead, c in table.items() if not c["changed"] and not c["losses"]]
    lead = max(allowed, key=lambda x: (table[x]["net"], x is None, x or 0.0))
    rule = replace(base, overrule_lead=lead)
    print(f"overrule chosen: {rule}")
    for row in rows:
        answer, kind, _ = decide(row, rule, sheet_threshold)
        if kind == "fiche" and row.sheets and row.sheet_confidence >= sheet_threshold and not row.foreign:
            label = "juste" if answer in row.expected else ("hors champ" if not row.expected else "fausse")
            print(f"    {label} [{row.name}] {row.sheets[0].id} -> {answer} (lead {row.evidence.dense_lead:+.3f}) : "
                  f"{row.query}")
    return rule


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("files", nargs="+")
    parser.add_argument("--index", default="index")
    parser.add_argument("--mode", default="hybrid", choices=("hybrid", "lexical", "dense"))
    parser.add_argument("--top", type=int, default=25, help="rules printed")
    parser.add_argument("--show", help="list the answers, losses and exposures of one rule: "
                                       "THRESHOLD,MARGIN,TOP[,LEAD[,no]] (no: the sources of other sheets kept out)")
    args = parser.parse_args()
    searcher = Searcher(args.index, many_queries=True)
    rows, sheet_threshold = collect(searcher, args.files, args.mode)
    rules = grid(args.mode)
    table = {rule: replay(rows, rule, sheet_threshold) for rule in rules}
    print(f"{len(table)} rules; the {args.top} best by the choice's order (no sheet answer changed, no sheet loss):")
    print("| threshold | margin | dense top | dense lead | sources of other sheets | wrong fiche answers (in scope) "
          "| right fiche answers | fiche answers, no expected answer | net | exposure | hit@1 (in scope) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for rule in ranked(table)[:args.top]:
        c = table[rule]
        print(f"| {rule.threshold:g} | {rule.margin:g} | {rule.dense_top or '-'} | "
              f"{'-' if rule.dense_lead is None else f'{rule.dense_lead:g}'} | "
              f"{'yes' if rule.sources_of_others else 'no'} | {c['wrong']:g} | {c['right']:g} | {c['unexpected']:g} "
              f"| {c['net']:g} | {c['exposure']:.2f} | {c['hit1']:.4f} |")
    chosen, current = choose(table), FICHE_RULES[args.mode]
    for label, rule in (("chosen", chosen), ("FICHE_RULES", current)):
        c = table.get(rule) or replay(rows, rule, sheet_threshold)
        print(f"{label}: {rule} net {c['net']:g}, exposure {c['exposure']:.2f}, right {c['right']:g}, wrong "
              f"{c['wrong']:g}, no expected answer {c['unexpected']:g}, losses {c['losses']:g}")
    if args.mode == "hybrid":
        print(f"best fiches at {current.threshold:g} or more among the dense ranking's first {current.dense_top}: "
              + agreement(rows, sheet_threshold, current.threshold, current.dense_top))
    names = sorted({row.name for row in rows})
    total = dict.fromkeys(("net", "exposure", "right", "wrong", "unexpected", "losses"), 0.0)
    for name in names:  # the rule chosen without one tuning file, on that file
        rest, held = [r for r in rows if r.name != name], [r for r in rows if r.name == name]
        rule = choose({rule: replay(rest, rule, sheet_threshold) for rule in rules})
        c = replay(held, rule, sheet_threshold)
        for key in total:
            total[key] += c[key]
        print(f"  without {name}: {rule} -> on it net {c['net']:g}, exposure {c['exposure']:.2f}, right "
              f"{c['right']:g}, wrong {c['wrong']:g}, no expected answer {c['unexpected']:g}, losses {c['losses']:g}")
    print("  leave-one-set-out total: " + ", ".join(f"{k} {v:g}" for k, v in total.items()))
    if args.mode == "hybrid":
        overrule(rows, chosen, sheet_threshold)
    if args.show:
        parts = args.show.split(",") + ["", ""]
        rule = FicheRule(float(parts[0]), float(parts[1]), int(parts[2]), float(parts[3]) if parts[3] else None,
                         parts[4] != "no")
        replay(rows, rule, sheet_threshold, show=True)


if __name__ == "__main__":
    main()
