"""Topics the KB knows it does not cover (kb/hors-champ.yaml): which one a query is about, and where to direct it.

Pure. A query and an expression are compared through `match_keys`: a multi-word expression matches when its content
words, stemmed, all appear in the query close together, in any order (stopwords ignored, one other word allowed
between them): "procuration de vote" matches "faire une procuration pour le vote" and "voter par procuration", not a
query that says "procuration" and, much later, "vote", nor one whose words end a sentence and begin the next ("…reprendre
son travail. Son médecin…" is not "médecine du travail"). A one-word expression must be typed as such (plural allowed):
stems of short words collide ("visa" and "je vis", "vae" and "il va").
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from indexer.negation import without_missing
from indexer.text import content_words, tokens

SLACK = 1  # other words allowed among an expression's words
SENTENCE_END = re.compile(r"[.!?;]+(?=\s|$)|\n+")  # not the dots of an address ("autoentrepreneur.urssaf.fr")


@dataclass(frozen=True)
class OffTopic:
    subject: str
    direction: str  # who handles it, shown to the agent
    expressions: tuple[tuple[str, ...], ...]  # `expression_key` of each expression

    def to_json(self) -> dict:
        return {"sujet": self.subject, "orienter": self.direction}


def _word_key(word: str) -> str:
    return "=" + (word[:-1] if word.endswith("s") and len(word) > 3 else word)


def expression_key(text: str) -> tuple[str, ...]:
    """Stems of a multi-word expression; the marked word itself for a one-word expression; () if no content word."""
    words = content_words(text)
    return (_word_key(words[0]),) if len(words) == 1 else tuple(tokens(text))


def match_keys(text: str) -> list[str]:
    """What expressions are looked for in: the text's stems, then its words (marked, never mistaken for stems)."""
    return tokens(text) + [_word_key(w) for w in content_words(text)]


def compile_topic(subject: str, direction: str, expressions: list[str]) -> OffTopic:
    keys = tuple(dict.fromkeys(k for k in (expression_key(e) for e in expressions) if k))
    return OffTopic(subject, direction, keys)


def contains(keys: list[str], part: tuple[str, ...]) -> bool:
    """Whether every key of `part` occurs in some window of `keys` at most len(part) + SLACK long."""
    if len(part) == 1:
        return part[0] in keys
    if not set(part) <= set(keys):
        return False
    need = Counter(part)
    width = len(part) + SLACK
    # a window holding the whole expression can always be moved to start on one of its words
    return any(not need - Counter(keys[i : i + width]) for i, k in enumerate(keys) if k in need)


class Matcher:
    """Expressions indexed by their first key, so that a query only checks its candidates."""

    def __init__(self, topics: list[OffTopic]):
        self.by_key: dict[str, list[tuple[int, tuple[str, ...]]]] = {}
        self.topics = topics
        for n, topic in enumerate(topics):
            for expression in topic.expressions:
                self.by_key.setdefault(expression[0], []).append((n, expression))

    def match(self, text: str) -> OffTopic | None:
        """The first topic (in file order) one of whose expressions occurs in `text`."""
        found = []
        for sentence in SENTENCE_END.split(text):
            keys = match_keys(without_missing(sentence))  # "sans titre de séjour" is not about getting one
            found += [n for k in set(keys) for n, expression in self.by_key.get(k, ()) if contains(keys, expression)]
        return self.topics[min(found)] if found else None
