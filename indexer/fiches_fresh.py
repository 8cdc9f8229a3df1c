"""Freshness of the counter sheets against the official fiches they cite.

A sheet whose `sources` cite a fiche (…/vosdroits/Fxxxx) that the imported feed says changed after the sheet's
`updated` date may no longer be true: `validate` warns at the line of that source, and the editors' page lists them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from indexer.fiches_corpus import FeedError, fiche_dates
from indexer.fiches_rank import FICHE_ID
from indexer.kb import KnowledgeBase, load_kb
from indexer.sheets import Problem


@dataclass(frozen=True)
class StaleCitation:
    sheet: str  # sheet id
    path: str
    line: int  # line of the source entry in the sheet's front matter
    fiche: str  # Fxxxx
    fiche_title: str
    fiche_changed: str  # the feed's modified date (ISO)
    sheet_updated: str  # the sheet's `updated` (ISO)

    def to_problem(self) -> Problem:
        return Problem(self.path, self.line,
                       f"la fiche officielle {self.fiche} « {self.fiche_title} » a changé le {self.fiche_changed}, "
                       f"après la vérification de cette fiche ({self.sheet_updated})",
                       "relire la fiche officielle, mettre la fiche à jour puis la date « updated »", "warning")


def stale_in(kb: KnowledgeBase, dates: dict[str, tuple[str, str]]) -> list[StaleCitation]:
    """Every (sheet, cited fiche) where the fiche changed after the sheet's `updated`. `dates`: fiche_dates()."""
    found = []
    for sheet in kb.sheets:
        lines = _source_lines(sheet.path)
        for url in sheet.sources:
            match = FICHE_ID.search(url)
            if not match or match.group(1) not in dates:
                continue
            changed, title = dates[match.group(1)]
            if changed > sheet.updated:
                found.append(StaleCitation(sheet.id, sheet.path, lines.get(url, 1), match.group(1), title, changed,
                                           sheet.updated))
    return found


def stale_citations(kb: KnowledgeBase, fiches_dir: str | Path) -> list[Problem]:
    """`validate`'s warnings (nothing when no corpus was imported; a warning when it cannot be read)."""
    try:
        dates = fiche_dates(fiches_dir)
    except FeedError as exc:
        return [Problem(str(Path(fiches_dir)), 0, str(exc), severity="warning")]
    return [s.to_problem() for s in stale_in(kb, dates)]


def stale_sheets(kb_dir: str | Path, fiches_dir: str | Path) -> list[dict]:
    """For the editors' page: the sheets to re-check, most recent fiche change first, as plain rows."""
    try:
        dates = fiche_dates(fiches_dir)
    except FeedError:
        return []
    if not dates:
        return []
    rows = [s.__dict__ for s in stale_in(load_kb(kb_dir), dates)]
    return sorted(rows, key=lambda r: (r["fiche_changed"], r["sheet"]), reverse=True)


def _source_lines(path: str) -> dict[str, int]:
    """The 1-based line of each URL in the sheet's front matter (first occurrence)."""
    lines: dict[str, int] = {}
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return lines
    for n, line in enumerate(text.splitlines()[1:], 2):
        if line.strip() == "---":
            break
        for part in line.replace('"', " ").replace("'", " ").split():
            if part.startswith("https://"):
                lines.setdefault(part, n)
    return lines
