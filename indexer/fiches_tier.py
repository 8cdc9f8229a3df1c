"""What the official fiches' tier indexes: every section for BM25, one dense passage per fiche. Pure.

The ~2,900 fiches of the particuliers feed make about 38,000 section chunks. Embedding them all with
multilingual-e5-small (about 400 tokens per CPU-second) would take hours on 2 cores, for a signal that weighs
`Tuning.w_dense` in the fusion. The dense signal of a fiche is its "situation" instead: title, alternative titles,
breadcrumb (theme › dossier), description, and the headings of its chapters and cases: what the fiche is about,
in the words a question uses, at most DENSE_WORDS words (about 170 model tokens). BM25 still reads the full text.

Layout in the tier's build: the first len(fiches) chunks are the fiches' head chunks (the "Titre" chunk of
`sheet_chunks`, one per fiche, in fiche order); vector i (FAISS id i) is the dense passage of chunk i; the section
chunks follow, without vectors. Lexical indexing is the same as for counter sheets (same chunks, same tokens).
"""

from __future__ import annotations

from indexer.chunks import Chunk, sheet_chunks
from indexer.fiches import BODY, SITUATIONS, SUMMARY
from indexer.sheets import Sheet

DENSE_WORDS = 96
_GENERIC = {SUMMARY, BODY, SITUATIONS, "Cas", "Situation"}


def fiche_passage(fiche: Sheet) -> str:
    """The one passage embedded for a fiche: what it is about, not all it says."""
    parts = [fiche.title]
    if fiche.keywords:
        parts.append(", ".join(fiche.keywords))
    if fiche.breadcrumb:
        parts.append(" › ".join(fiche.breadcrumb))
    if fiche.description:
        parts.append(fiche.description)
    headings: list[str] = []
    for name in [*fiche.sections, *(c.get("title", "") for c in fiche.cases)]:
        name = name.split(" (")[0].strip() if name.startswith(tuple(_GENERIC)) else name.strip()
        if name and name not in _GENERIC and name not in headings:
            headings.append(name)
    if headings:
        parts.append("Sommaire : " + " ; ".join(headings))
    text = " ".join(p if p.rstrip()[-1:] in ".?!:" else p + "." for p in (p.strip() for p in parts) if p)
    return " ".join(text.split()[:DENSE_WORDS])


def tier_chunks(fiches: list[Sheet]) -> tuple[list[Chunk], list[str]]:
    """The tier's chunks (heads first, then sections) and the dense passages of the first len(fiches) chunks."""
    heads, sections = [], []
    for fiche in fiches:
        chunks = sheet_chunks(fiche)
        heads.append(chunks[0])
        sections.extend(chunks[1:])
    return heads + sections, [fiche_passage(f) for f in fiches]
