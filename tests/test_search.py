"""Ranking on the tiny KB with the deterministic embedder."""

import dataclasses
import itertools

import numpy as np
import pytest

from conftest import TINY_KB
from indexer.chunks import dense_text, sheet_chunks
from indexer.kb import load_kb
from indexer.search import Tuning
from indexer.searcher import Searcher


@pytest.fixture
def searcher(index):
    return Searcher(index)


@pytest.mark.parametrize("query, expected", [
    ("immatriculer un véhicule", "ants-carte-grise-occasion"),
    ("carte grise", "ants-carte-grise-occasion"),
    ("cart grisse", "ants-carte-grise-occasion"),  # typos
    ("APL", "caf-aide-logement"),  # acronym through the glossary
    ("aide personnalisee au logement", "caf-aide-logement"),  # no accents
    ("carte vitale perdue", "cpam-carte-vitale"),
    ("secu", "cpam-carte-vitale"),
])
def test_hybrid_ranks_the_right_sheet_first(searcher, query, expected):
    result = searcher.search(query)
    assert result.results[0].id == expected and result.results[0].section


@pytest.mark.parametrize("query, expected", [
    ("immatriculer un véhicule", "ants-carte-grise-occasion"),
    ("APL", "caf-aide-logement"),
    ("carte vitale perdue", "cpam-carte-vitale"),
])
def test_confident_queries_get_an_answer(searcher, query, expected):
    assert searcher.search(query).answer == expected


def test_out_of_scope_gets_no_answer_but_still_neighbours(searcher):
    result = searcher.search("recette de la tarte aux pommes")
    assert result.answer is None
    assert result.to_json()["answer"] is None


def test_results_are_unique_sheets_even_when_top_exceeds_the_index(searcher):
    result = searcher.search("carte", top=50)
    ids = [h.id for h in result.results]
    assert len(ids) == len(set(ids)) <= 3


def test_partner_filter(searcher):
    result = searcher.search("carte", partner="cpam")
    assert [h.partner for h in result.results] == ["cpam"]


@pytest.mark.parametrize("mode", ["hybrid", "dense", "lexical"])
def test_every_mode_ranks_the_obvious_sheet_first(searcher, mode):
    assert searcher.search("carte vitale perdue volée", mode=mode).results[0].id == "cpam-carte-vitale"


def test_unknown_mode_is_refused(searcher):
    with pytest.raises(ValueError):
        searcher.search("x", mode="magic")


def test_json_contract(searcher):
    data = searcher.search("APL").to_json()
    assert set(data) == {"query", "answer", "results"}
    assert set(data["results"][0]) == {"id", "kind", "title", "partner", "score", "section"}
    assert data["results"][0]["kind"] == "sheet"


def test_sheet_content_is_served_from_the_index(searcher):
    sheet = searcher.sheet("ants-carte-grise-occasion")
    assert sheet.steps[0] == "Se connecter au site de l'ANTS."
    assert searcher.partners()["ants"]["short"] == "ANTS"


def test_amounts_and_years_unknown_to_the_kb_do_not_weigh_on_the_decision(searcher):
    ranker = searcher.refresh()

    def features(query):
        return ranker.features(ranker.analyzer.analyze(query), "caf-aide-logement", None, 0.0)

    plain = features("aide au logement")
    assert features("aide au logement 1200 1966 846A") == plain
    # a number the KB does contain is part of what the query asks (the tiny KB's "34 00")
    assert features("aide au logement 34")["length"] > plain["length"]


def test_a_sheet_named_in_full_among_other_words_is_a_feature_of_the_decision(searcher):
    ranker = searcher.refresh()

    def named(query):
        return ranker.features(ranker.analyzer.analyze(query), "cpam-carte-vitale", None, 0.0)["named"]

    title = searcher.sheet("cpam-carte-vitale").title
    assert named(f"Bonjour, ma mère de 80 ans ne retrouve plus rien chez elle. {title} ?") == 1.0
    assert named("carte") == 0.0  # one word of a name is not the name
    assert named("tarte aux pommes") == 0.0


def test_a_request_that_is_a_sheet_name_word_for_word_names_that_sheet(searcher, index):
    ranker = searcher.refresh()
    everywhere = np.ones(len(ranker.ids), dtype=bool)

    def named(query, allowed=everywhere):
        scores = ranker.named_scores(ranker.analyzer.analyze(query), allowed)
        return {ranker.ids[i] for i in np.flatnonzero(scores)}

    assert named("acheter une voiture d'occasion") == {"ants-carte-grise-occasion"}  # one of its keywords
    assert named("Voiture d'occasion : acheter") == {"ants-carte-grise-occasion"}  # any order, stopwords aside
    assert named("carte vitale perdue") == {"cpam-carte-vitale"}
    assert named("Obtenir ou remplacer sa carte Vitale") == {"cpam-carte-vitale"}  # its title
    assert named("cart grise") == {"ants-carte-grise-occasion"}  # as corrected
    assert named("carte vitale") == set()  # part of a name is not the name
    assert named("acheter une voiture d'occasion rouge") == set()  # nor a name among other words
    assert named("aide personnalisée au logement") == set()  # nor what the glossary says for "APL"
    assert named("carte vitale perdue", ranker.partner_of == "caf") == set()  # the partner filter holds
    result = searcher.search("acheter une voiture d'occasion", top=3)
    bonus = Tuning().w_named
    assert result.results[0].id == "ants-carte-grise-occasion" and result.results[0].score > bonus
    assert Searcher(index, tuning=dataclasses.replace(Tuning(), w_named=0.0)).search(
        "acheter une voiture d'occasion", top=3).results[0].score == pytest.approx(result.results[0].score - bonus)


def test_a_name_that_negates_is_said_only_by_a_request_that_negates(kb, embedder, tmp_path):
    from indexer.build import rebuild

    path = kb / "cpam" / "cpam-carte-vitale.md"
    path.write_text(path.read_text(encoding="utf-8").replace("sécu]", "sécu, soins sans carte vitale]"), encoding="utf-8")
    rebuild(kb, tmp_path / "built", embedder, "hash")
    ranker = Searcher(tmp_path / "built").refresh()
    everywhere = np.ones(len(ranker.ids), dtype=bool)

    def named(query):
        return {ranker.ids[i] for i in np.flatnonzero(ranker.named_scores(ranker.analyzer.analyze(query), everywhere))}

    assert named("soins sans carte vitale") == {"cpam-carte-vitale"}
    assert named("soins carte vitale") == set()  # stopwords drop "sans": without it, the opposite request


@pytest.mark.parametrize("fusion", ["rrf", "score"])
def test_both_fusions_rank_the_obvious_sheet_first_within_the_top_score(index, fusion):
    tuning = dataclasses.replace(Tuning(), fusion=fusion)
    result = Searcher(index, tuning=tuning).search("carte vitale perdue volée", top=10)
    assert result.results[0].id == "cpam-carte-vitale"
    assert 0 < result.results[0].score <= tuning.top_score * (1 + 1e-6)  # float32 scores
    assert [h.score for h in result.results] == sorted((h.score for h in result.results), reverse=True)


def test_score_fusion_keeps_a_sheet_only_the_lowest_of_one_ranking_saw(index):
    """Scaled to [0, 1], the lowest cosine adds 0: that sheet is still a result, last."""
    result = Searcher(index, tuning=dataclasses.replace(Tuning(), fusion="score")).search("carte grise", top=50)
    assert len(result.results) == 3 and result.results[0].id == "ants-carte-grise-occasion"


def test_every_chunk_of_a_sheet_shares_its_one_dense_passage():
    for sheet in load_kb(TINY_KB).sheets:
        chunks = sheet_chunks(sheet)
        assert len(chunks) > 1 and {c.dense for c in chunks} == {dense_text(sheet)}
        assert sheet.title in dense_text(sheet) and all(k in dense_text(sheet) for k in sheet.keywords)
        assert len({c.text for c in chunks}) == len(chunks)  # lexical search keeps one document per chunk


def test_the_tuning_rule_prefers_a_flat_top_to_a_lone_peak():
    from tools.tune import GRID, _robust_choice

    shape = tuple(len(v) for v in GRID.values())
    table = {p: (0.80, 0.80) for p in itertools.product(*(range(n) for n in shape))}
    peak, plateau = (0,) * len(shape), (0, 1, 1, 1, 2) + (1,) * (len(shape) - 5)  # inside every axis but fusion
    table[peak] = (0.95, 0.95)  # a lone peak: its neighbours are poor
    for axis in range(1, len(plateau)):  # a plateau: the point and all its neighbours are good
        for step in (-1, 0, 1):
            point = plateau[:axis] + (plateau[axis] + step,) + plateau[axis + 1:]
            table[point] = (0.92, 0.92)
    assert _robust_choice(table) == plateau


def test_keywords_embedded_as_queries_are_cached_apart_from_the_same_text_as_a_passage(tmp_path):
    """tools/passages.py --keywords: a text's query vector ("query: " in e5) never stands for its passage vector."""
    import numpy as np

    from indexer.build import embed_with_cache
    from indexer.embed import HashEmbedder
    from indexer.store import IndexStore
    from tools.passages import keyword_texts, query_vectors

    class AsQuery(HashEmbedder):  # a query vector unlike the passage vector of the same text
        def encode_query(self, text):
            return -super().encode_query(text)

    store, embedder = IndexStore(tmp_path / "index"), AsQuery()
    sheets = load_kb(TINY_KB).sheets
    owners, texts = keyword_texts(sheets)
    assert len(texts) == sum(len(set([s.title, *s.keywords])) for s in sheets)
    assert set(owners) == {s.id for s in sheets} and texts[0] == sheets[0].title
    queries = query_vectors(texts, embedder, store)
    assert np.allclose(queries, -embedder.encode(texts))
    passages, fresh = embed_with_cache(texts, embedder, store, progress=False)
    assert fresh == len(set(texts)) and np.allclose(passages, embedder.encode(texts))
    assert np.allclose(query_vectors(texts, embedder, store), queries)  # from the cache, still the query vectors
