"""How a French word sounds, roughly: a key shared by the spellings of one pronunciation.

Pure. Typo correction compares letters, so it misses spellings that are far in letters but sound alike, the most
common ones at a counter: "chaumage" (chômage), "inpots" (impôts), "alocassion" (allocation), "rembourcemant"
(remboursement). `sound` maps each to the key of the right word; the analyzer uses it when letter comparison finds
nothing (indexer/query.py).
"""

from __future__ import annotations

import re

from indexer.text import fold

_VOWELS = "aeiouy"
# Ordered rewrites on the folded word. Upper-case letters are sounds already settled, so later rules leave them.
_RULES: tuple[tuple[re.Pattern[str], str], ...] = tuple((re.compile(p), r) for p, r in (
    (r"sch", "C"),
    (r"ch", "C"),
    (r"ph", "f"),
    (r"h", ""),
    (r"eau|au", "o"),
    (r"qu|ck|cq", "k"),
    (r"gu(?=[eiy])", "g"),
    (r"g(?=[eiy])", "j"),
    (r"c(?=[eiy])", "s"),
    (r"c", "k"),
    (r"tion", "sion"),
    (r"(?:ai|ei)n(?![aeiouy])", "I"),
    (r"[iuy][nm](?![aeiouynm])", "I"),
    (r"[ae][nm](?![aeiouynm])", "A"),
    (r"y", "i"),
    (r"ai|ei|e[rzt]$", "e"),
    (r"(.)\1+", r"\1"),
    (r"[stxdp]$", ""),
    (r"e$", ""),
))


def sound(word: str) -> str:
    """The sound key of one word: "chaumage" and "chômage" -> "Comaj"; "inpots" and "impôts" -> "Ipo"."""
    key = fold(word)
    for pattern, replacement in _RULES:
        key = pattern.sub(replacement, key)
    return key
