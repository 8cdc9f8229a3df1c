"""Ranking policy over the two tiers: the counter sheets first, the official fiches under them. Pure.

- A counter sheet answers (its decision is confident): it is the answer, and the official fiches its `sources`
  cite come next, then the other sheets, then the other fiches.
- Otherwise the best official fiche is the answer if the fiche tier's decision is confident.
- Otherwise there is no answer; the tier whose best result is the more confident is listed first.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

FICHES_TIER = "fiches"  # sub-folder of a build holding the official fiches' own index (same layout as a build)
FICHE_ID = re.compile(r"/vosdroits/(F\d{1,6})(?:[/?#]|$)")
# Answer threshold of the fiche tier, per mode (the decision model is the sheets' one, `Tuning.decision`, with the
# known-gap signal left out: the gaps are the counter sheets', often covered by a fiche). Chosen on
# tests/eval/fiches_dev.jsonl and the out-of-scope questions of the tuning sets (see the README's fiches section).
FICHE_THRESHOLDS = {"hybrid": 0.5, "lexical": 0.5, "dense": 0.5}


def cited_fiches(sources: list[str]) -> list[str]:
    """Fiche ids (Fxxxx) of the service-public.fr pages a counter sheet cites, in its order, once each."""
    ids: list[str] = []
    for url in sources:
        match = FICHE_ID.search(url)
        if match and match.group(1) not in ids:
            ids.append(match.group(1))
    return ids


@dataclass
class Decision:
    answer: str | None
    results: list  # Hit objects, best first
    confidence: float
    tier: str  # "sheet", "fiche" or "" (no answer)


def combine(sheet_hits: list, sheet_confidence: float, sheet_threshold: float,
            fiche_hits: list, fiche_confidence: float, fiche_threshold: float,
            cited: Callable[[str], list], top: int) -> Decision:
    """The two tiers' hits and confidences -> the answer and the results list.

    `cited(sheet_id)` gives Hit objects for the fiches a sheet cites (found in the fiche tier), in its order."""
    if sheet_hits and sheet_confidence >= sheet_threshold:
        first = sheet_hits[0]
        cites = [h for h in cited(first.id)]
        cite_ids = {h.id for h in cites}
        rest = [h for h in fiche_hits if h.id not in cite_ids]
        return Decision(first.id, ([first] + cites + sheet_hits[1:] + rest)[:top], sheet_confidence, "sheet")
    if fiche_hits and fiche_confidence >= fiche_threshold:
        return Decision(fiche_hits[0].id, (fiche_hits + sheet_hits)[:top], fiche_confidence, "fiche")
    if fiche_hits and (not sheet_hits or fiche_confidence > sheet_confidence):
        return Decision(None, (fiche_hits + sheet_hits)[:top], fiche_confidence, "")
    return Decision(None, (sheet_hits + fiche_hits)[:top], sheet_confidence, "")
