"""Understanding what the agent typed: typo correction against the KB's own words, glossary expansion, known gaps.

Pure. The output groups the query's words into *concepts*: one group per content word or glossary phrase, holding
every stem that may stand for it ("apl" -> apl, aid, personnalis, logement). Ranking scores the stems; the answer
threshold asks how much of the query's concepts the best sheet covers, and whether the query is about a known gap of
the KB (indexer/offtopic.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rapidfuzz import fuzz, process

from indexer.offtopic import Matcher, OffTopic
from indexer.phonetic import sound
from indexer.text import STOPWORDS, content_words, stem, words

MAX_PHRASE = 4  # longest glossary phrase looked up, in words
MIN_TYPO_LENGTH = 4
TYPO_CUTOFF = 85.0
SOUND_CUTOFF = 78.0  # letters a word spelled by ear shares with the KB word that sounds the same; lower, and
# conjugated forms fall onto other words ("pousser" -> "pouce", "pourrai" -> "pour")


@dataclass
class Concept:
    """One thing the agent asked about, and the ways a sheet may say it."""

    words: str  # as typed (folded)
    typed: list[tuple[str, ...]]  # stems as typed, and as corrected: each an alternative phrase
    expansions: list[tuple[str, ...]] = field(default_factory=list)  # glossary equivalents, weighted lower

    @property
    def stems(self) -> set[str]:
        return {s for phrase in self.typed + self.expansions for s in phrase}


@dataclass
class Analysis:
    query: str
    concepts: list[Concept] = field(default_factory=list)
    corrections: dict[str, str] = field(default_factory=dict)
    expansions: list[str] = field(default_factory=list)
    off_topic: OffTopic | None = None  # the known gap of the KB the query is about (kb/hors-champ.yaml)

    @property
    def dense_text(self) -> str:
        """The query for the embedding model: as typed, plus corrections and expansions."""
        extra = list(self.corrections.values()) + self.expansions
        return " ".join([self.query, *extra]) if extra else self.query


class Analyzer:
    """`rare`: KB words that only a few sheets' keywords hold, often a misspelling an editor listed ("chaumage" on
    the unemployment benefit's sheet; `indexer.build.rare_words`). Known, they would never be corrected, and the
    other sheets that say the word right ("s'inscrire au chômage") would not be found through them. So a rare word
    gets the KB word that sounds the same, as an unknown word would; by sound only, since letters alone would take a
    real word for a slip of another ("pere" for "perte"). The word as typed stays an alternative: the sheets listing
    it still match it. Nor is a rare word what a typo is corrected to: "pasport" is "passeport", not the listed
    "passport"; "vieille" is not the listed "vieillese"."""

    def __init__(self, vocabulary: list[str], glossary: dict[str, list[str]], gaps: Matcher | None = None,
                 rare: frozenset[str] | set[str] = frozenset()):
        self.vocabulary = sorted(set(vocabulary))
        self.gaps = gaps or Matcher([])
        self._known = set(self.vocabulary)
        self._rare = set(rare) & self._known
        self._targets = [w for w in self.vocabulary if w not in self._rare]  # what a correction may give
        self._sounds: dict[str, list[str]] = {}
        for w in self._targets:
            if len(w) >= MIN_TYPO_LENGTH and w not in STOPWORDS:
                self._sounds.setdefault(sound(w), []).append(w)
        self.glossary: dict[tuple[str, ...], list[str]] = {}
        for term, expansions in glossary.items():
            key = tuple(words(term))
            if key:  # "chômage" and "chomage" are one key: their equivalents once each, in order
                listed = self.glossary.setdefault(key, [])
                listed.extend(e for e in expansions if e not in listed)

    def correct(self, word: str) -> str | None:
        """The KB word the agent probably meant, or None when the word is known or nothing is close."""
        if word in STOPWORDS or len(word) < MIN_TYPO_LENGTH or word.isdigit():
            return None
        if word in self._rare:
            return self._alike(word)
        if word in self._known:
            return None
        return self._close(word) or self._alike(word)

    def _close(self, word: str) -> str | None:
        """The KB word closest in letters (a slip: "permi de conduir")."""
        match = process.extractOne(word, self._targets, scorer=fuzz.ratio, score_cutoff=TYPO_CUTOFF)
        return match[0] if match else None

    def _alike(self, word: str) -> str | None:
        """Spelled as it sounds ("chaumage", "inpots"): a KB word with the same sound, the closest in letters."""
        alike = process.extractOne(word, self._sounds.get(sound(word), []), scorer=fuzz.ratio,
                                   score_cutoff=SOUND_CUTOFF)
        return alike[0] if alike else None

    def analyze(self, query: str) -> Analysis:
        # Known gaps are looked for as typed: a typo "correction" can turn a word the KB does not know into one of
        # their expressions ("lecteur de carte" -> "carte d'électeur").
        analysis = Analysis(query, off_topic=self.gaps.match(query))
        typed = words(query)
        fixed = []
        for w in typed:
            correction = self.correct(w)
            if correction:
                analysis.corrections[w] = correction
            fixed.append(correction or w)
        i = 0
        while i < len(fixed):
            phrase = self._phrase_at(fixed, i) or self._phrase_at(typed, i)
            if phrase:
                n, expansions = phrase
                key = tuple(stem(w) for w in fixed[i : i + n] if w not in STOPWORDS) or tuple(stem(w) for w in fixed[i : i + n])
                alternatives = [tuple(stem(w) for w in content_words(e)) for e in expansions]
                analysis.expansions.extend(expansions)
                analysis.concepts.append(Concept(" ".join(typed[i : i + n]), [key], [a for a in alternatives if a]))
                i += n
                continue
            w = fixed[i]
            if w not in STOPWORDS and (len(w) > 1 or w.isdigit()):
                alternatives = [(stem(w),)] + ([(stem(typed[i]),)] if typed[i] != w else [])
                analysis.concepts.append(Concept(typed[i], alternatives))
            i += 1
        return analysis

    def _phrase_at(self, seq: list[str], i: int) -> tuple[int, list[str]] | None:
        for n in range(min(MAX_PHRASE, len(seq) - i), 0, -1):
            expansions = self.glossary.get(tuple(seq[i : i + n]))
            if expansions and not (n == 1 and seq[i] in STOPWORDS):  # "pas", "as": everyday words first
                return n, expansions
        return None
