"""Sheets -> short chunks for lexical search and the passages shown to agents, and what the model embeds. Pure.

A chunk carries at most MAX_WORDS words of body after the sheet's title: BM25 indexes each chunk, and the best
one is the passage an agent sees. The model does not embed chunks one by one: a sheet has one dense passage,
its title, keywords and summary (`dense_text`), which every chunk of the sheet shares (the build embeds each
distinct text once). Measured on the tuning sets with multilingual-e5-small (`python tools/passages.py
tests/eval/dev.jsonl tests/eval/dev_extra.jsonl`), that one passage finds the right sheet first more often than
every chunk embedded (dense hit@1 0.896 / 0.748 against 0.843 / 0.644) for 25,000 tokens instead of 138,000: body
sections, which often read alike from one sheet to the next, outscore the right sheet's head. The model reads
512 tokens, "passage: " included (the longest dense passage of the shipped KB is 407; tests/test_model.py checks).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from indexer.sheets import Sheet

MAX_WORDS = 80
PASSAGES = "sheet-head"  # what is embedded (part of a build's content digest): one passage per sheet
HEAD = "Titre"  # the pseudo-section holding title, keywords and summary
_SENTENCE = re.compile(r"(?<=[.!?;:])\s+|\n+")


@dataclass(frozen=True)
class Chunk:
    sheet: str
    section: str
    text: str  # what lexical search indexes
    passage: str  # what an agent is shown as the matching passage
    dense: str  # what the model embeds: the sheet's `dense_text`, the same for all its chunks

    def to_dict(self) -> dict:
        return {"sheet": self.sheet, "section": self.section, "text": self.text, "passage": self.passage}


def head_text(sheet: Sheet) -> str:
    """Title and keywords: the words agents use, weighted above the body in lexical search."""
    return ". ".join([sheet.title, ", ".join(sheet.keywords)])


def dense_text(sheet: Sheet) -> str:
    """The sheet's one dense passage: title, keywords (how people say it) and summary (what it is about)."""
    summary = sheet.sections.get("En bref")
    return head_text(sheet) + (". " + summary.text if summary else "")


def sheet_chunks(sheet: Sheet) -> list[Chunk]:
    summary = sheet.sections.get("En bref")
    dense = dense_text(sheet)
    chunks = [Chunk(sheet.id, HEAD, dense, summary.text if summary else sheet.title, dense)]
    for section in sheet.sections.values():
        for piece in split_words(section.text, MAX_WORDS):
            chunks.append(Chunk(sheet.id, section.name, f"{sheet.title}. {section.name} : {piece}", piece, dense))
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
