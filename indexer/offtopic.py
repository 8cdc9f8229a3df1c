"""Topics the KB knows it does not cover (kb/hors-champ.yaml): which one a query is about, and where to direct it.

Pure. An expression matches when its content words, stemmed, all appear in the query close together, in any
order (stopwords ignored, one other word allowed between them): "procuration de vote" matches "faire une
procuration pour le vote" and "voter par procuration", not a query that says "procuration" and, much later, "vote".
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from indexer.text import tokens


@dataclass(frozen=True)
class OffTopic:
    subject: str
    direction: str  # who handles it, shown to the agent
    expressions: tuple[tuple[str, ...], ...]  # stemmed content words of each expression

    def to_json(self) -> dict:
        return {"sujet": self.subject, "orienter": self.direction}


def compile_topic(subject: str, direction: str, expressions: list[str]) -> OffTopic:
    stems = tuple(dict.fromkeys(s for s in (tuple(tokens(e)) for e in expressions) if s))
    return OffTopic(subject, direction, stems)


SLACK = 1  # other words allowed among an expression's words


def contains(seq: list[str], part: tuple[str, ...]) -> bool:
    """Whether every stem of `part` occurs in some window of `seq` at most len(part) + SLACK long."""
    need = Counter(part)
    if len(part) == 1:
        return part[0] in seq
    width = len(part) + SLACK
    return any(not need - Counter(seq[i : i + width]) for i in range(max(1, len(seq) - len(part) + 1)))


def match(topics: list[OffTopic], stem_sequences: list[list[str]]) -> OffTopic | None:
    """The first topic one of whose expressions occurs in one of the query's stem sequences (typed, corrected)."""
    return Matcher(topics).match(stem_sequences)


class Matcher:
    """`match` for many queries: expressions indexed by their first stem, so a query only checks its candidates."""

    def __init__(self, topics: list[OffTopic]):
        self.by_stem: dict[str, list[tuple[int, tuple[str, ...]]]] = {}
        self.topics = topics
        for n, topic in enumerate(topics):
            for expression in topic.expressions:
                self.by_stem.setdefault(expression[0], []).append((n, expression))

    def match(self, stem_sequences: list[list[str]]) -> OffTopic | None:
        found = [n for seq in stem_sequences for s in set(seq) for n, expression in self.by_stem.get(s, ())
                 if contains(seq, expression)]
        return self.topics[min(found)] if found else None
