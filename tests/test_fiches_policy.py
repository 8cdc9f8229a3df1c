"""Adding the official fiches never changes which counter sheet answers, whether one does, nor the sheets' order."""

import shutil
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from indexer.fiches_import import import_fiches
from indexer.fiches_rank import combine
from indexer.search import MODES, Searcher

FIXTURES = Path(__file__).parent / "data" / "fiches"


class H:
    def __init__(self, id):
        self.id = id


def assert_sheets_unchanged(alone_answer, alone_sheets: list[str], answer, kind: str, results: list[str],
                            sheet_ids: set[str]):
    """`alone_*`: the counter sheets searched without the fiches; the rest: both tiers."""
    sheets = [r for r in results if r in sheet_ids]
    assert sheets == alone_sheets[:len(sheets)], "les fiches ont changé l'ordre des fiches guichet"
    if alone_answer is not None:
        assert (answer, kind, results[0]) == (alone_answer, "sheet", alone_answer)
    else:
        assert answer is None or kind == "fiche"
    if alone_sheets and (answer is None or kind == "fiche"):
        assert alone_sheets[0] in results[:2]  # the best sheet stays in view: first or second


ids = st.lists(st.integers(0, 30), unique=True, max_size=12)


@settings(max_examples=500, deadline=None)
@given(sheets=ids, fiches=ids, cites=st.dictionaries(st.integers(0, 30), ids), confidences=st.tuples(
    st.floats(0, 1), st.floats(0, 1), st.floats(0, 1), st.floats(0, 1)), top=st.integers(2, 10), named=st.booleans())
def test_the_policy_keeps_the_counter_sheets_as_they_are_alone(sheets, fiches, cites, confidences, top, named):
    sheet_hits, fiche_hits = [H(f"s{i}") for i in sheets], [H(f"F{i}") for i in fiches]
    sheet_confidence, sheet_threshold, fiche_confidence, fiche_threshold = confidences
    alone = sheet_hits[0].id if sheet_hits and sheet_confidence >= sheet_threshold else None
    decision = combine(sheet_hits[:top], sheet_confidence, sheet_threshold, fiche_hits[:top], fiche_confidence,
                       fiche_threshold, lambda sid: [H(f"F{i}") for i in cites.get(int(sid[1:]), [])], top, named)
    results = [h.id for h in decision.results]
    assert len(results) == len(set(results)) <= top
    assert_sheets_unchanged(alone, [h.id for h in sheet_hits[:top]], decision.answer, decision.tier, results,
                            {h.id for h in sheet_hits})


@pytest.fixture
def imported(kb, tmp_path, embedder) -> Path:
    feed = tmp_path / "feed"
    shutil.copytree(FIXTURES, feed)
    import_fiches(feed, tmp_path / "fiches", kb, tmp_path / "index", embedder, "hash")
    return tmp_path / "index"


QUERIES = [
    "acheter une voiture d'occasion carte grise",  # a sheet answers; the fiche it cites comes next
    "carte grise d'un véhicule acheté d'occasion",  # the cited fiche's title in full
    "renouvellement titre de séjour",  # a known gap of the sheets: the fiche answers
    "titre de séjour expiré, il veut immatriculer un véhicule d'occasion",  # a known gap and a sheet named
    "j'ai une carte de séjour, qui peut toucher l'aide personnalisée au logement",  # a fiche's title, a known gap
    "qui peut toucher l'APL quand on est étudiant",
    "je déménage, que faire pour la carte grise et l'aide au logement",
    "carte vitale perdue",
    "horaires de la piscine municipale",  # nothing confident
    "tengo una tarjeta de residencia",  # another language: never an answer
]


@pytest.mark.parametrize("mode", MODES)
def test_with_the_fiches_imported_the_counter_sheets_rank_and_answer_as_alone(imported, mode):
    searcher = Searcher(imported)
    sheet_ids = {s.id for s in searcher.sheets()}
    for query in QUERIES:
        alone = searcher.search(query, top=5, mode=mode, source="sheets", wait=True)
        both = searcher.search(query, top=5, mode=mode, source="all", wait=True)
        assert {h.kind for h in alone.results} <= {"sheet"}
        assert_sheets_unchanged(alone.answer, [h.id for h in alone.results], both.answer, both.answer_kind,
                                [h.id for h in both.results], sheet_ids)


def test_a_query_naming_an_unconfident_sheet_gets_no_fiche_answer(imported):
    result = Searcher(imported).search("titre de séjour expiré, il veut immatriculer un véhicule d'occasion",
                                       mode="lexical")
    assert result.results[0].id == "ants-carte-grise-occasion" and result.answer_kind != "fiche"
