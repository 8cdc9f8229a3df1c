"""What the agent takes in at a glance: how sure the answer is, which sheets are close, the citizen's situation words
in the sheet, short summaries of long sections, links between sheets. Pure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from indexer.search import Hit, Tuning
from indexer.text import STOPWORDS, fold, stem
from rapidfuzz import fuzz

SURE_MARGIN = 0.15  # above the answer threshold by this much (the editors' low-confidence margin)
TOP = Tuning().top_score  # scores are fused reciprocal ranks: a sheet first everywhere scores this (0.433 shipped)
SURE_SCORE = 0.81 * TOP  # the best sheet's own score must reach this: calibrated confidence alone misses wrong ones
CLOSE_RATIO = 0.9  # a second sheet scoring this close to the first: show both (neuf / occasion, CNI / Vitale)
PLAUSIBLE_RATIO = 0.6  # candidates scoring below this share of the best one are noise
PLAUSIBLE_FLOOR = 0.5 * TOP  # and below this score, whatever the best one (a query about nothing in the KB)
# On the labelled queries of tests/eval (dev, heldout_d/e/f; 724 answered, 21 wrongly, multilingual-e5-small, score
# fusion), these flag 16 of the 21 wrong answers "à vérifier" and 7 % of all answers; 44 get two sheets side by side,
# the right one beside 10 wrong answers. `python docs/trust.py` recomputes these figures.


@dataclass(frozen=True)
class Trust:
    sure: bool
    label: str  # what the agent reads
    detail: str  # what it means, in one sentence


def _runner_up_ratio(hits: list[Hit]) -> float:
    if len(hits) < 2 or hits[0].score <= 0:
        return 0.0
    return hits[1].score / hits[0].score


def trust(confidence: float, threshold: float, hits: list[Hit]) -> Trust:
    """The confidence of an answered search in words: sure only when calibrated confidence, the best sheet's own
    score and its lead over the next sheet all agree."""
    top = hits[0].score if hits else 0.0
    if confidence >= threshold + SURE_MARGIN and top >= SURE_SCORE and _runner_up_ratio(hits) < CLOSE_RATIO:
        return Trust(True, "Réponse sûre", "La demande correspond clairement à cette fiche.")
    return Trust(False, "À vérifier",
                 "La demande pourrait correspondre à une autre fiche : vérifiez le titre avec l'usager.")


def close_pair(hits: list[Hit], answer: str | None) -> list[Hit]:
    """Two sheets to offer side by side, or nothing: the runner-up scores almost as high as the answer."""
    if answer is None or not hits or hits[0].id != answer:
        return []
    if any(getattr(hit, "kind", "sheet") != "sheet" for hit in hits[:2]):  # scores of two tiers do not compare
        return []
    return hits[:2] if _runner_up_ratio(hits) >= CLOSE_RATIO else []


def plausible(hits: list[Hit], best: float | None = None, limit: int = 3) -> list[Hit]:
    """Candidates worth a look: near enough to the best score, at most `limit`."""
    if not hits:
        return []
    top = best if best is not None else hits[0].score
    # An official fiche placed among the first results was put there by the ranking policy (e.g. the fiche the
    # answering sheet cites): its score is on another scale, its place is what counts.
    return [h for n, h in enumerate(hits)
            if (getattr(h, "kind", "sheet") == "fiche" and n < limit)
            or h.score >= max(PLAUSIBLE_FLOOR, PLAUSIBLE_RATIO * top)][:limit]


# ---- situation words -------------------------------------------------------------------------------------------

_WORD = re.compile(r"[^\W_]+(?:['’-][^\W_]+)*", re.UNICODE)
_PROTECTED = re.compile(r"\[[^\]]*\]\([^)]*\)|<https?://[^>]*>|`[^`]*`|https?://\S+|:\w+-?\w*\[[^\]]*\]")


def situation_words(query: str, title: str) -> set[str]:
    """The query's meaningful words (folded) that the title does not already say: the citizen's situation."""
    said = {stem(w) for w in _folded_words(title)}
    return {w for w in _folded_words(query) if len(w) >= 4 and w not in STOPWORDS and stem(w) not in said}


def _folded_words(text: str) -> list[str]:
    return [fold(part) for m in _WORD.finditer(text) for part in re.split(r"['’-]", m.group(0)) if part]


def _same_word(a: str, b: str) -> bool:
    """Same word up to inflection: same stem, or one is the other plus at most two letters (hérité / héritée)."""
    if stem(a) == stem(b):
        return True
    short, long_ = sorted((a, b), key=len)
    return len(short) >= 5 and long_.startswith(short) and len(long_) - len(short) <= 2


@lru_cache(maxsize=65536)  # the words of the cards, whatever the request: folded and stemmed once
def _parts(word: str) -> tuple[tuple[str, str], ...]:
    """The parts of 4 letters or more of a word (l'allocation, peut-être), folded, each with its stem."""
    folded = (fold(p) for p in re.split(r"['’-]", word) if p)
    return tuple((p, stem(p)) for p in folded if len(p) >= 4)


@lru_cache(maxsize=8192)  # the sections of the cards shown: indexed once, looked up at every request
def _vocabulary(text: str) -> tuple[dict[str, frozenset[str]], dict[str, tuple[tuple[str, str], ...]]]:
    """The words of `text` by the stem of each of their parts, and by the first five letters of their parts of
    five letters or more (for `_same_word`'s prefix rule): (part, word) pairs."""
    by_stem: dict[str, set[str]] = {}
    by_head: dict[str, list[tuple[str, str]]] = {}
    for word in set(_WORD.findall(text)):
        for part, part_stem in _parts(word):
            by_stem.setdefault(part_stem, set()).add(word)
            if len(part) >= 5:
                by_head.setdefault(part[:5], []).append((part, word))
    return ({k: frozenset(v) for k, v in by_stem.items()}, {k: tuple(v) for k, v in by_head.items()})


def _marked(text: str, stems: set[str]) -> set[str]:
    """The words of `text` with a part that is the same word (`_same_word`) as one of `stems`: looked up in the
    text's cached vocabulary, a few dictionary reads per wanted word however long the text."""
    by_stem, by_head = _vocabulary(text)
    found: set[str] = set()
    for wanted in stems:
        found.update(by_stem.get(stem(wanted), ()))
        if len(wanted) >= 5:  # a shorter word can be neither side of the prefix rule
            found.update(word for part, word in by_head.get(wanted[:5], ()) if _same_word(part, wanted))
    return found


def highlight(markdown: str, stems: set[str]) -> str:  # `stems`: situation_words()
    """Mark the situation words in Markdown (`:orange-background[mot]`), never inside links, code or directives."""
    return _highlight(markdown, stems, _PROTECTED, ":orange-background[{}]")


def _highlight(text: str, stems: set[str], protected: re.Pattern, marker: str) -> str:
    """`marker` (with {} for the word) around the situation words of `text`, outside the `protected` spans."""
    marked = _marked(text, stems) if stems else set()
    if not marked:  # most sections of a card say none of the request's words: nothing to split
        return text
    out, last = [], 0
    for span in protected.finditer(text):
        out.append(_mark(text[last:span.start()], marked, marker))
        out.append(span.group(0))
        last = span.end()
    out.append(_mark(text[last:], marked, marker))
    return "".join(out)


def _mark(text: str, marked: set[str], marker: str) -> str:
    return _WORD.sub(lambda m: marker.format(m.group(0)) if m.group(0) in marked else m.group(0), text)


_HTML_PROTECTED = re.compile(r"<a\b[^>]*>.*?</a>|<code>.*?</code>|<[^>]+>|&#?\w+;", re.DOTALL)


def highlight_html(html: str, stems: set[str]) -> str:
    """Mark the situation words in rendered HTML (`<mark>`): in its text only, never in tags, links, code or
    entities. The HTML is already escaped; the marks add no text."""
    return _highlight(html, stems, _HTML_PROTECTED, "<mark>{}</mark>")


def prepare(text: str, markdown: bool = False) -> None:
    """Index a section's words ahead of the first request that shows it (HTML, or Markdown as `mentions` reads it)."""
    _vocabulary(_unprotected(text) if markdown else text)


def mentions(markdown: str, stems: set[str]) -> bool:
    """Does this text contain one of the situation words?"""
    return bool(stems) and bool(_marked(_unprotected(markdown), stems))


@lru_cache(maxsize=8192)
def _unprotected(markdown: str) -> str:
    return _PROTECTED.sub(" ", markdown)


# ---- short summaries ------------------------------------------------------------------------------------------

_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")


def blocks(markdown: str) -> list[tuple[str, str]]:
    """A section as ("item" | "text", Markdown) blocks: list items and paragraphs, continuation lines joined."""
    result: list[tuple[str, str]] = []
    for line in markdown.splitlines():
        if not line.strip():
            result.append(("gap", ""))
        elif _ITEM.match(line):
            result.append(("item", _ITEM.sub("", line, count=1).strip()))
        elif result and result[-1][0] in ("item", "text"):
            result[-1] = (result[-1][0], f"{result[-1][1]} {line.strip()}")
        else:
            result.append(("text", line.strip()))
    return [b for b in result if b[0] != "gap"]


def shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    return re.sub(r"\s+\S*$", "", text[:limit]).rstrip(" ,;:") + " …"


def summary(markdown: str, items: int = 2, limit: int = 110) -> tuple[list[str], int]:
    """The first blocks of a section, each cut to `limit` characters, and how many blocks are left out."""
    parts = [text for _, text in blocks(markdown)]
    return [shorten(p, limit) for p in parts[:items]], max(0, len(parts) - items)


# ---- links between sheets ----------------------------------------------------------------------------------------

_REFERENCE = re.compile(r"(fiche\s+«\s*)([^»]{3,120}?)(\s*»)", re.IGNORECASE)


def link_sheets(markdown: str, titles: dict[str, str], link) -> str:
    """Turn « fiche « Titre » » mentions into links to that sheet (`link(sheet_id)` gives the URL).

    The quoted words are matched against the sheet titles, tolerant of shortening ("espace privé MSA");
    a mention that matches no title well stays plain text.
    """
    if "fiche" not in markdown.lower():
        return markdown
    candidates = _folded(tuple(titles.items()))

    def replace(m: re.Match) -> str:
        best = _best_title(fold(m.group(2)), candidates)
        return m.group(0) if best is None else f"{m.group(1)}[{m.group(2)}]({link(best)}){m.group(3)}"

    return _REFERENCE.sub(replace, markdown)


@lru_cache(maxsize=8)  # the titles of one index: folded once, not at every mention
def _folded(titles: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((sid, fold(title)) for sid, title in titles))


@lru_cache(maxsize=4096)
def _best_title(wanted: str, candidates: tuple[tuple[str, str], ...]) -> str | None:
    best, score = None, 0.0
    for sid, title in candidates:
        s = max(fuzz.token_set_ratio(wanted, title), fuzz.partial_ratio(wanted, title) - 5)
        if s > score:
            best, score = sid, s
    return best if score >= 80 else None
