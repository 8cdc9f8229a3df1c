"""Ranking policy over the two tiers: the counter sheets first, the official fiches under them. Pure.

- A query that names an official fiche (its title in full) and not the best counter sheet, whose fiche that sheet
  does not cite, the dense ranking putting the fiche first and the query clearly closer to it than to the sheet
  (hybrid only, `FicheRule.overrules`): the fiche is the answer, the best sheet second, even when that sheet
  answers. "Porter plainte" is about the fiche of that title, not the lost-papers sheet that mentions a complaint.
- Otherwise a counter sheet answers (its own decision, the same as without the fiches, is confident): it is the
  answer, and the official fiche its `sources` cite that is closest to the query comes next, then the best fiche if
  the query says its title in full, then the other sheets, the sheet's other cited fiches and the other fiches.
- Otherwise, when the best fiche is confident by a margin over the best counter sheet (its confidence reaches the
  fiche threshold plus a multiple of the sheet's own confidence), the dense signal agrees (hybrid: it puts the
  fiche among its first three, and the query is closer to the fiche's passage than to the best sheet's), no other
  counter sheet than the best cites that fiche (it would be a procedure the sheets know and ranked lower) and the
  query does not name the best counter sheet (its title or a keyword in full): the fiche is the answer, with the
  best counter sheet second.
- Otherwise there is no answer; suggestions alternate, a counter sheet first: sheet, fiche, sheet, fiche…

Adding the fiches never changes the order of the counter sheets among the results, and changes which counter sheet
answers, or whether one does, only through the overrule (tests/test_fiches_policy.py). The counter sheets' hit@1 can
drop when the right sheet is first but not confident and a fiche answers: the margin makes that rarer, the more
plausible the sheet, and the dense agreement rarer still; or when a right sheet is overruled, which asks for the
fiche's name and a dense lead that no right sheet of the tuning sets gave up. A query that names a sheet asks about
it even when that sheet is not confident ("il a sa carte de séjour depuis dix mois, pourra-t-il encore conduire avec
son permis tunisien ?" is about the foreign licence sheet, not a residence permit fiche): then no fiche answers
either, and the sheet stays first.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

FICHES_TIER = "fiches"  # sub-folder of a build holding the official fiches' own index (same layout as a build)
FICHE_ID = re.compile(r"/vosdroits/(F\d{1,6})(?:[/?#]|$)")
FICHE_URL = "https://www.service-public.fr/particuliers/vosdroits/{}"  # a fiche's page, from its id


@dataclass(frozen=True)
class Evidence:
    """What the rule reads of both tiers about the best fiche, besides the confidences."""
    dense_above: float | None = None  # fiches the dense ranking puts above it (None: not measured)
    dense_lead: float | None = None  # its cosine minus the best sheet's (None: no query vector, or no sheet)
    source_of_another: bool = False  # counter sheets cite it, the best one does not
    source_of_best: bool = False  # the best counter sheet cites it
    fiche_named: bool = False  # the query says its title in full


@dataclass(frozen=True)
class FicheRule:
    """When the best official fiche answers, no counter sheet answering: its confidence (the sheets' decision model
    over the fiche tier's features, the known-gap signal left out) reaches `threshold` plus `margin` times the best
    counter sheet's confidence, and the evidence agrees (`agrees`):

    - `dense_top`: the dense ranking puts it among its first `dense_top` fiches. This keeps out a fiche that the words
      of a long situation put first (a lawyer, a landlord, an illness told on the way) while the passage of the fiche
      is not what the whole query is closest to: on the tuning sets in hybrid, of the best fiches at 0.45 or more,
      the dense ranking puts among its first three 95 of the 98 right ones, 9 of the 18 wrong ones (in scope, no
      sheet answering) and 14 of the 24 wrong ones first over a right counter sheet (tools/fiches_tune.py).
    - `dense_lead`: the query is closer to the fiche's passage than to the best counter sheet's, by at least this
      cosine (both tiers embed one passage per document with the same model). A right fiche answers a question the
      sheets do not cover, so its passage is clearly the closer one; a wrong fiche that takes the first place from
      the right sheet is about as close as that sheet.
    - `sources_of_others`: whether a fiche that a counter sheet other than the best one cites may answer. Such a
      fiche is a source of a procedure the sheets know, and their ranking put another sheet first."""

    threshold: float
    margin: float = 1.0
    dense_top: int = 0  # 0: no agreement asked (lexical: there is no dense ranking; dense: it is the only one)
    dense_lead: float | None = None  # None: not asked
    sources_of_others: bool = True
    overrule_lead: float | None = None  # None: no fiche overrules an answering sheet (see `overrules`)

    def agrees(self, evidence: Evidence) -> bool:
        """Whether the evidence about the best fiche passes the rule's dense rank, dense lead and sources (a dense
        lead that could not be measured, no query vector or no sheet, passes)."""
        dense_above, dense_lead = evidence.dense_above, evidence.dense_lead
        return ((self.dense_top == 0 or (dense_above is not None and dense_above < self.dense_top))
                and (self.dense_lead is None or dense_lead is None or dense_lead >= self.dense_lead)
                and (self.sources_of_others or not evidence.source_of_another))

    def overrules(self, evidence: Evidence, sheet_named: bool) -> bool:
        """Whether the best fiche takes the answer from a counter sheet that answers: the query says the fiche's title
        in full and not the sheet's names, the sheet does not cite the fiche, the dense ranking puts the fiche first
        and the query is closer to its passage than to the sheet's by at least `overrule_lead`. "Porter plainte" is
        about the fiche of that title, not about the lost-papers sheet that mentions a complaint."""
        return (self.overrule_lead is not None and evidence.fiche_named and not sheet_named
                and not evidence.source_of_best and evidence.dense_above == 0
                and evidence.dense_lead is not None and evidence.dense_lead >= self.overrule_lead)

    def decide(self, sheet_hits: list, sheet_confidence: float, sheet_threshold: float, fiche_hits: list,
               fiche_confidence: float, cited: Callable[[str], list], top: int, sheet_named: bool,
               evidence: Evidence) -> Decision:
        """`combine` under this rule: the one call of the search and of the tuning tool."""
        return combine(sheet_hits, sheet_confidence, sheet_threshold, fiche_hits, fiche_confidence, self.threshold,
                       cited, top, sheet_named, self.margin, self.agrees(evidence),
                       self.overrules(evidence, sheet_named), evidence.fiche_named)


# Refitted with the fiches imported by tools/fiches_tune.py on the tuning sets (tests/eval/dev.jsonl, dev_extra,
# fiches_dev, fiches_dev_oos, dev_stories), multilingual-e5-small with one dense passage per fiche and score fusion:
# the best net of fiche answers (right minus wrong minus answers to questions of no expected answer) minus the
# exposure (wrong fiches that would take the first place from a right counter sheet that is not confident), with
# no counter-sheet loss, from 0.45 up; with the sheets' decision of `indexer.tuning` (hybrid 0.23). Keeping the
# sources of other sheets out removes one wrong fiche answer in hybrid and one answer to a question of no expected
# answer in lexical; the dense lead of 0 changes nothing on the tuning sets (a tie, taken as the stricter rule).
# The overrule (hybrid: a fiche the query names, 0.03 closer than the answering sheet) was chosen after the rule, by
# the same tool: three right answers over wrong sheets, no loss; 0 to 0.03 tie, the larger lead is taken.
# Dense alone was not refitted.
FICHE_RULES = {"hybrid": FicheRule(0.45, 2.0, 3, 0.0, False, 0.03), "lexical": FicheRule(0.6, 1.0, 0, None, False),
               "dense": FicheRule(0.75, 1.0)}


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
            cited: Callable[[str], list], top: int, sheet_named: bool = False, margin: float = 1.0,
            fiche_agrees: bool = True, fiche_overrules: bool = False, fiche_named: bool = False) -> Decision:
    """The two tiers' hits and confidences -> the answer and the results list.

    `cited(sheet_id)` gives Hit objects for the fiches a sheet cites (found in the fiche tier), in its order;
    `sheet_named`: the query says the best sheet's title or a keyword in full; `margin`: how much of the best sheet's
    confidence the fiche must add to its threshold; `fiche_agrees`: the best fiche passes `FicheRule.agrees`;
    `fiche_overrules`: it passes `FicheRule.overrules` (then it answers even over an answering sheet); `fiche_named`:
    the query says the best fiche's title in full (under an answering sheet, it comes third)."""
    if fiche_hits and fiche_overrules:
        results = fiche_hits[:1] + sheet_hits[:1] + fiche_hits[1:] + sheet_hits[1:]  # the best sheet stays second
        return Decision(fiche_hits[0].id, results[:top], fiche_confidence, "fiche")
    if sheet_hits and sheet_confidence >= sheet_threshold:
        first, cites = sheet_hits[0], cited(sheet_hits[0].id)
        # the cited fiche the query is closest to comes next; the sheet's other citations after the other sheets
        ranked = {h.id: n for n, h in enumerate(fiche_hits)}
        cites = sorted(cites, key=lambda h: ranked.get(h.id, len(ranked)))
        rest = [h for h in fiche_hits if h.id not in {c.id for c in cites}]
        # a fiche the query names, that the sheet does not cite, stays in view: right after the sheet's own fiche
        named = rest[:1] if fiche_named and rest and rest[0] is fiche_hits[0] else []
        return Decision(first.id, ([first] + cites[:1] + named + sheet_hits[1:] + cites[1:] + rest[len(named):])[:top],
                        sheet_confidence, "sheet")
    # An official fiche takes the answer only over a counter sheet it clearly beats: the more plausible the best
    # sheet (its decision's probability, below the sheets' threshold here), the more confident the fiche must be.
    plausible = sheet_confidence if sheet_hits else 0.0
    if (fiche_hits and fiche_agrees and fiche_confidence >= fiche_threshold + margin * plausible
            and not (sheet_hits and sheet_named)):
        results = fiche_hits[:1] + sheet_hits[:1] + fiche_hits[1:] + sheet_hits[1:]  # the best sheet stays second
        return Decision(fiche_hits[0].id, results[:top], fiche_confidence, "fiche")
    mixed = [h for pair in zip(sheet_hits, fiche_hits) for h in pair]
    longer = sheet_hits[len(fiche_hits):] or fiche_hits[len(sheet_hits):]
    return Decision(None, (mixed + longer)[:top], max(sheet_confidence, fiche_confidence), "")
