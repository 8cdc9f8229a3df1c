"""What the editors' view shows about each sheet: is it valid, is it served, how old, what agents said. Pure.

The knowledge base on disk and the index in service can differ (a sheet edited but not rebuilt, a sheet refused
for an error while its previous version is still served): the table says which, so nobody edits in the dark.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from pathlib import PurePath

from indexer.kb import KnowledgeBase
from indexer.sheets import Problem

from assistant.sheetinfo import STALE_DAYS, age_days, partner_label


def validation_status(problems: list[Problem]) -> str:
    errors = sum(p.is_error for p in problems)
    warnings = len(problems) - errors
    if errors:
        return f"refusée : {errors} erreur(s)"
    if warnings:
        return f"valide, {warnings} avertissement(s)"
    return "valide"


def index_status(sheet_id: str, digest: str | None, served: dict[str, str]) -> str:
    """How the served index compares with the sheet on disk (`served` is the manifest's id -> digest)."""
    if sheet_id not in served:
        return "absente de l'index"
    if digest is None:
        return "ancienne version en service"
    return "à jour" if served[sheet_id] == digest else "modifiée, à reconstruire"


def sheet_rows(kb: KnowledgeBase, served: dict[str, str], partners: dict[str, dict],
               feedback: dict[str, dict[str, int]], today: dt.date | None = None) -> list[dict]:
    """One row per sheet file of the KB, sheets refused for errors included."""
    by_path: dict[str, list[Problem]] = defaultdict(list)
    for problem in kb.problems:
        by_path[problem.path].append(problem)
    rows = []
    for sheet in kb.sheets:
        counts = feedback.get(sheet.id, {})
        rows.append({
            "Fiche": sheet.id,
            "Titre": sheet.title,
            "Partenaire": partner_label(partners, sheet.partner),
            "Validation": validation_status(by_path.get(sheet.path, [])),
            "Index": index_status(sheet.id, sheet.digest, served),
            "Mise à jour": sheet.updated,
            "Âge (jours)": age_days(sheet.updated, today),
            "Avis": counts.get("total", 0),
            "Avis négatifs": counts.get("negative", 0),
        })
    valid_paths = {s.path for s in kb.sheets}
    for path, problems in by_path.items():
        if path in valid_paths or not path.endswith(".md") or not any(p.is_error for p in problems):
            continue
        sheet_id = PurePath(path).stem
        counts = feedback.get(sheet_id, {})
        rows.append({
            "Fiche": sheet_id, "Titre": path, "Partenaire": partner_label(partners, PurePath(path).parent.name),
            "Validation": validation_status(problems), "Index": index_status(sheet_id, None, served),
            "Mise à jour": None, "Âge (jours)": None,
            "Avis": counts.get("total", 0), "Avis négatifs": counts.get("negative", 0),
        })
    return sorted(rows, key=lambda r: r["Fiche"])


def stale_rows(rows: list[dict]) -> list[dict]:
    """Sheets not checked for more than 12 months, oldest first."""
    stale = [r for r in rows if r["Âge (jours)"] is not None and r["Âge (jours)"] > STALE_DAYS]
    return sorted(stale, key=lambda r: -r["Âge (jours)"])



def worklist(negative: list[dict], weak: list[dict], handled: set[str], titles: dict[str, str],
             reasons: dict[str, str]) -> list[dict]:
    """The answers most likely wrong, for an editor to look at, minus those already handled.

    Negative feedback first (the agent said so; the sheet that should have come out when given), then searches
    left unanswered or answered with low confidence (most frequent first). Each item has a stable `key` for
    `Store.mark_handled`.
    """
    items = []
    for n in negative:
        key = f"feedback:{n['id']}"
        if key in handled:
            continue
        expected = titles.get(n.get("expected") or "", n.get("expected") or "")
        detail = f"Avis négatif : {reasons.get(n['reason'], n['reason'] or 'sans raison')}"
        if expected:
            detail += f" · aurait dû sortir : « {expected} »"
        if n.get("comment"):
            detail += f" · « {n['comment']} »"
        items.append({"key": key, "query": n["query"], "sheet": titles.get(n["sheet"], n["sheet"]),
                      "detail": detail, "expected": expected, "ts": n["ts"]})
    for w in weak:
        key = f"query:{w['query'].lower()}"
        if key in handled:
            continue
        unanswered = w["unanswered"] == w["count"]
        detail = ("Sans réponse" if unanswered else f"Confiance faible ({w['confidence']:.2f})") + \
            f" · {w['count']} fois"
        items.append({"key": key, "query": w["query"], "sheet": "", "detail": detail, "expected": "",
                      "ts": w["last"]})
    return items
