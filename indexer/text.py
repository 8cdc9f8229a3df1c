"""French text normalisation for lexical search: accents, elisions, stopwords, stemming.

Pure functions. Accents are folded *before* stemming so that "sécurité" and "securite" meet.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import Stemmer
from bm25s.stopwords import STOPWORDS_FRENCH

_LIGATURES = str.maketrans({"œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae", "’": "'", "ʼ": "'", "`": "'"})
# l'usager, d'identité, qu'il, jusqu'à, lorsqu'on… (after folding, so only ASCII apostrophes remain)
_ELISION = re.compile(r"\b(?:l|d|j|m|n|s|t|c|qu|jusqu|lorsqu|puisqu|quoiqu)'", re.IGNORECASE)
_TOKEN = re.compile(r"[a-z0-9]+")
_PARTICLE = re.compile(r"(?<=[a-z])-(?:ci|la)\b")  # ce mois-ci, celui-là: not "ci" (carte d'identité)


def fold(text: str) -> str:
    """Lower-case, drop accents and ligatures: 'Sécurité sociale' -> 'securite sociale'."""
    text = text.translate(_LIGATURES)
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


# Words that carry no meaning for finding a procedure, on top of the usual French stopwords.
_EXTRA_STOPWORDS = """
a aux ca cela cet cette comme comment dois doit donc dont elle est-ce etre faire fait faut il ils
je j la le les lors meme mes mon ne ou peut peux plus pour quand quel quelle quelles quels quoi sans
si sont tout toute toutes tous tres veux voudrais voudrait souhaite bonjour merci svp stp besoin aide-moi
l d qu n s t c m y est avoir ai a as avons avez ont suis es sommes etes
""".split()
STOPWORDS = frozenset({fold(w) for w in STOPWORDS_FRENCH} | set(_EXTRA_STOPWORDS))

_stemmer = Stemmer.Stemmer("french")


def words(text: str) -> list[str]:
    """Folded words, elisions removed, stopwords kept: the surface vocabulary used for typo correction."""
    return _TOKEN.findall(_ELISION.sub(" ", _PARTICLE.sub("", fold(text))))


def content_words(text: str) -> list[str]:
    """Folded words without stopwords (single letters dropped, digits kept)."""
    return [w for w in words(text) if w not in STOPWORDS and (len(w) > 1 or w.isdigit())]


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    return _stemmer.stemWord(word)


def tokens(text: str) -> list[str]:
    """The lexical tokens of a text: folded, elisions removed, stopwords removed, stemmed."""
    return [stem(w) for w in content_words(text)]
