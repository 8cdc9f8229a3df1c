"""Negation in titles and keywords. Pure.

Stopwords drop "sans" and "pas", so the keyword "sans titre de séjour" of the AME sheet would otherwise name that
sheet for the question "titre de séjour", which asks for the opposite. A title or keyword's words that follow a
negation word are negated; they say what the sheet is about only for a query that negates too.
"""

from __future__ import annotations

import re

from indexer.text import STOPWORDS, fold, stem, words

NEGATIONS = frozenset({"sans", "pas", "aucun", "aucune", "jamais", "ni"})


def negates(text: str) -> bool:
    """Whether the text says a negation word."""
    return any(w in NEGATIONS for w in words(text))


def affirmed_tokens(text: str) -> list[str]:
    """The lexical tokens of a title or keyword that no negation word before them negates."""
    out: list[str] = []
    for word in words(text):
        if word in NEGATIONS:
            break
        if word not in STOPWORDS and (len(word) > 1 or word.isdigit()):
            out.append(stem(word))
    return out


# "sans X", "aucun X", "ni X", "pas de X": X (up to four words) is what the text says is missing, not its subject
_MISSING = re.compile(r"\b(?:sans|aucune?|ni|pas\s+(?:de|des|du|d'))\s*(?:[a-z0-9'-]+\s*){1,4}")


def without_missing(text: str) -> str:
    """The text (folded) without what it says is missing: "AME sans titre de séjour" -> "ame , "."""
    return _MISSING.sub(" , ", fold(text))
