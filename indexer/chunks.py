"""Sheets -> short chunks for embedding and lexical documents. Pure.

A chunk carries at most MAX_WORDS words of body after the sheet's title. The default model (multilingual-e5-small)
reads 512 tokens, "passage: " included, and French costs about 1.7 of its tokens per word: the longest chunk of the
shipped KB is 372 tokens (tests/test_model.py checks that every chunk fits). MiniLM reads 256 word pieces, which
80 words also fit; short chunks keep the passage shown to agents short and the dense match precise.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from indexer.sheets import Sheet

MAX_WORDS = 80
HEAD = "Titre"  # the pseudo-section holding title, keywords and summary
_SENTENCE = re.compile(r"(?<=[.!?;:])\s+|\n+")


@dataclass(frozen=True)
class Chunk:
    sheet: str
    section: str
    text: str  # what is embedded and indexed
    passage: str  # what an agent is shown as the matching passage

    def to_dict(self) -> dict:
        return {"sheet": self.sheet, "section": self.section, "text": self.text, "passage": self.passage}


def head_text(sheet: Sheet) -> str:
    """Title and keywords: the words agents use, weighted above the body in lexical search."""
    return ". ".join([sheet.title, ", ".join(sheet.keywords)])


def sheet_chunks(sheet: Sheet) -> list[Chunk]:
    summary = sheet.sections.get("En bref")
    head = head_text(sheet) + (". " + summary.text if summary else "")
    chunks = [Chunk(sheet.id, HEAD, head, summary.text if summary else sheet.title)]
    for section in sheet.sections.values():
        for piece in split_words(section.text, MAX_WORDS):
            chunks.append(Chunk(sheet.id, section.name, f"{sheet.title}. {section.name} : {piece}", piece))
    return chunks


def split_words(text: str, limit: int) -> list[str]:
    """Split at sentence or line ends into pieces of at most `limit` words (a longer sentence is cut)."""
    pieces: list[str] = []
    current: list[str] = []
    for sentence in _SENTENCE.split(text):
        words = sentence.split()
        while len(words) > limit:
            if current:
                pieces.append(" ".join(current))
                current = []
            pieces.append(" ".join(words[:limit]))
            words = words[limit:]
        if current and len(current) + len(words) > limit:
            pieces.append(" ".join(current))
            current = []
        current.extend(words)
    if current:
        pieces.append(" ".join(current))
    return pieces
