"""Starting fast: what a command imports, and the app answering lexically while the model loads."""

from __future__ import annotations

import subprocess
import sys
import threading

import numpy as np
import pytest

from indexer.build import rebuild
from indexer.embed import HashEmbedder, ModelError
from indexer.searcher import Searcher
from tests.conftest import ROOT

HEAVY = ("torch", "sentence_transformers", "transformers", "onnxruntime", "onnx")


def imported_after(code: str) -> set[str]:
    """The heavy modules a fresh interpreter has imported after running `code`."""
    probe = code + f"\nimport sys\nprint('HEAVY:', *(m for m in {HEAVY!r} if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    return set(done.stdout.rsplit("HEAVY:", 1)[1].split())


def test_importing_the_package_and_help_load_no_model_library():
    code = ("import indexer, indexer.cli, indexer.search, indexer.searcher, indexer.build, indexer.embed\n"
            "from indexer.cli import main\n"
            "try:\n    main(['--help'])\nexcept SystemExit:\n    pass")
    assert imported_after(code) == set()


def test_validate_and_lexical_search_load_no_model_library(index):
    code = (f"from indexer.cli import main\n"
            f"assert main(['validate', '--kb', {str(ROOT / 'tests' / 'data' / 'kb')!r}]) == 0\n"
            f"assert main(['search', '--index', {str(index)!r}, '--mode', 'lexical', 'carte grise']) == 0")
    assert imported_after(code) == set()


class SlowEmbedder(HashEmbedder):
    """The hash embedder, whose loading waits until the test lets it finish."""

    def __init__(self, release: threading.Event):
        assert release.wait(60)
        super().__init__()


@pytest.fixture
def slow_index(kb, tmp_path, monkeypatch):
    """An index whose model (the hash embedder under another name) loads only when `release` is set."""
    path = tmp_path / "slow-index"
    rebuild(kb, path, HashEmbedder(), "slow")
    release = threading.Event()
    monkeypatch.setattr("indexer.searcher.make_embedder",
                        lambda spec: SlowEmbedder(release) if spec == "slow" else pytest.fail(spec))
    return path, release


def test_a_warming_searcher_answers_lexically_until_the_model_is_ready(slow_index):
    path, release = slow_index
    searcher = Searcher(path, warm_up=True)
    early = searcher.search("carte grise")
    assert not searcher.dense_ready and early.mode == "lexical"
    assert early.to_json() == searcher.search("carte grise", mode="lexical").to_json()
    release.set()
    assert searcher.wait_ready(60)
    later = searcher.search("carte grise")
    assert later.mode == "hybrid" and later.results


def test_a_caller_may_wait_for_the_model(slow_index):
    path, release = slow_index
    searcher = Searcher(path, warm_up=True)
    threading.Timer(0.2, release.set).start()
    result = searcher.search("carte grise", wait=True)
    assert result.mode == "hybrid" and searcher.dense_ready


def test_without_warm_up_the_model_loads_at_the_first_query_that_needs_it(slow_index):
    path, release = slow_index
    searcher = Searcher(path)
    assert searcher.search("carte grise", mode="lexical").mode == "lexical"
    assert not searcher.dense_ready  # lexical search loads no model
    release.set()
    assert searcher.search("carte grise").mode == "hybrid"


def test_a_model_that_fails_to_load_leaves_lexical_search_and_says_why(kb, tmp_path, monkeypatch):
    path = tmp_path / "index"
    rebuild(kb, path, HashEmbedder(), "broken")

    def fail(spec):
        raise ModelError("les poids du modèle ne correspondent pas à l'empreinte attendue")

    monkeypatch.setattr("indexer.searcher.make_embedder", fail)
    searcher = Searcher(path, warm_up=True)
    assert not searcher.wait_ready(60)
    assert isinstance(searcher.model_error, ModelError)
    assert searcher.search("carte grise").mode == "lexical"
    with pytest.raises(ModelError, match="empreinte"):
        searcher.search("carte grise", wait=True)


def test_query_vectors_come_from_encode_query(index, embedder):
    class Marked(type(embedder)):
        def encode_query(self, text: str) -> np.ndarray:
            self.queries = getattr(self, "queries", []) + [text]
            return super().encode_query(text)

    marked = Marked()
    Searcher(index, marked).search("carte grise perdue")
    assert len(marked.queries) == 1 and "carte" in marked.queries[0]
    assert marked.calls == 1  # encode_query of the hash embedder embeds as a passage: one text, never a batch


