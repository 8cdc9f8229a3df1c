"""Ranking policy over the two tiers: the counter sheets first, the official fiches under them. Pure.

- A counter sheet answers (its decision is confident): it is the answer, and the official fiche its `sources`
  cite that is closest to the query comes next, then the other sheets, the sheet's other cited fiches and the
  other fiches. Two exceptions. The query is about a known gap of
  the counter sheets (kb/hors-champ.yaml: no sheet covers that subject, "renouveler mon titre de séjour" is not
  the AME sheet's subject even though it says "sans titre de séjour") and the best fiche is confident, more than
  the sheet, and not cited by it: the fiche answers, unless the query names the sheet (its title or a keyword in
  full). Likewise when the query says the best fiche's title in full
  and not the sheet's title or keywords ("Congé pour enfant malade dans le secteur privé" is not a France Travail
  question, however many of its words that sheet has).
- Otherwise, when the best fiche is confident: the best sheet answers if it cites that fiche (the two agree),
  else the fiche is the answer, with the best counter sheet second.
- Otherwise there is no answer; suggestions alternate, a counter sheet first: sheet, fiche, sheet, fiche…

A fiche that is merely more confident than an answering sheet does not overrule it: a long situation shares many
words with some fiche (they are long), and on the tuning sets that rule took more right sheets away than it
corrected wrong ones.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass

FICHES_TIER = "fiches"  # sub-folder of a build holding the official fiches' own index (same layout as a build)
FICHE_ID = re.compile(r"/vosdroits/(F\d{1,6})(?:[/?#]|$)")
# Answer threshold of the fiche tier, per mode (the decision model is the sheets' one, `Tuning.decision`, with the
# known-gap signal left out: the gaps are the counter sheets', often covered by a fiche).
# 0.7: refitted with the fiches imported by tools/fiches_tune.py on the tuning sets (tests/eval/dev.jsonl,
# dev_extra.jsonl, fiches_dev.jsonl), hybrid (multilingual-e5-small, one dense passage per fiche, score fusion) and
# lexical: the lowest threshold at which no counter-sheet question of those sets loses its first place (0.65 loses
# one in hybrid, two in lexical). Dense alone was not refitted (0.75).
FICHE_THRESHOLDS = {"hybrid": 0.7, "lexical": 0.7, "dense": 0.75}


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
            cited: Callable[[str], list], top: int, known_gap: bool = False, fiche_named: bool = False,
            sheet_named: bool = False) -> Decision:
    """The two tiers' hits and confidences -> the answer and the results list.

    `cited(sheet_id)` gives Hit objects for the fiches a sheet cites (found in the fiche tier), in its order;
    `known_gap`: the query is about a subject the counter sheets are known not to cover; `fiche_named`: the query
    says the best fiche's title in full, and not the best sheet's title or keywords; `sheet_named`: the query says
    the best sheet's title or a keyword in full (then it asks about that sheet, even when it mentions a known gap:
    "he has a titre de séjour and wants to keep driving with his foreign licence")."""
    fiche_ok = bool(fiche_hits) and fiche_confidence >= fiche_threshold
    if sheet_hits:
        first = sheet_hits[0]
        cites = cited(first.id)
        agrees = fiche_ok and fiche_hits[0].id in {h.id for h in cites}
        overruled = fiche_ok and not agrees and (fiche_named or (known_gap and not sheet_named
                                                                    and fiche_confidence > sheet_confidence))
        if (sheet_confidence >= sheet_threshold and not overruled) or agrees:
            # the cited fiche the query is closest to comes next; the sheet's other citations after the other sheets
            ranked = {h.id: n for n, h in enumerate(fiche_hits)}
            cites = sorted(cites, key=lambda h: ranked.get(h.id, len(ranked)))
            rest = [h for h in fiche_hits if h.id not in {c.id for c in cites}]
            confidence = max(sheet_confidence, fiche_confidence if agrees else 0.0)
            return Decision(first.id, ([first] + cites[:1] + sheet_hits[1:] + cites[1:] + rest)[:top], confidence,
                            "sheet")
    if fiche_ok:  # the best counter sheet stays in view, second
        results = fiche_hits[:1] + sheet_hits[:1] + fiche_hits[1:] + sheet_hits[1:]
        return Decision(fiche_hits[0].id, results[:top], fiche_confidence, "fiche")
    mixed = [h for pair in zip(sheet_hits, fiche_hits) for h in pair]
    longer = sheet_hits[len(fiche_hits):] or fiche_hits[len(sheet_hits):]
    return Decision(None, (mixed + longer)[:top], max(sheet_confidence, fiche_confidence), "")


def names_fiche(sheet: dict[str, float], fiche: dict[str, float]) -> bool:
    """The fiche's title says what the query asks, the sheet's does not: the query says the best fiche's title in
    full and not the best sheet's name, or it is short (four concepts at most), every concept of it is in the
    fiche's title and less than half in the sheet's title and keywords; and the fiche's title explains more of the
    query than the sheet's."""
    said = fiche.get("named", 0.0) > sheet.get("named", 0.0) or \
        (fiche.get("head_coverage", 0.0) >= 0.999 and fiche.get("length", 9.0) <= math.log1p(4)
         and sheet.get("head_coverage", 0.0) < 0.5)
    return said and fiche.get("head_coverage", 0.0) > sheet.get("head_coverage", 0.0)
