from indexer.query import Analyzer
from indexer.text import stem, tokens

VOCABULARY = ["permis", "conduire", "carte", "grise", "casier", "judiciaire", "logement", "chomage", "impots",
              "allocation", "ministre"]
GLOSSARY = {"apl": ["aide personnalisée au logement"], "carte grise": ["certificat d'immatriculation"],
            "pas": ["prélèvement à la source"]}


def analyzer():
    return Analyzer(VOCABULARY, GLOSSARY)


def test_typos_are_corrected_against_the_kb_vocabulary():
    analysis = analyzer().analyze("permi de conduir")
    assert analysis.corrections == {"permi": "permis", "conduir": "conduire"}
    assert analysis.concepts[0].typed == [(stem("permis"),), (stem("permi"),)]  # the correction, then as typed


def test_unrelated_words_are_not_forced_onto_the_vocabulary():
    assert analyzer().analyze("tarte aux pommes").corrections == {}


def test_words_spelled_as_they_sound_are_corrected():
    # too far in letters for typo correction, but they sound like a KB word
    analysis = analyzer().analyze("inscrit au chaumage, les inpots et l'alocassion")
    assert analysis.corrections == {"chaumage": "chomage", "inpots": "impots", "alocassion": "allocation"}


def test_sound_alike_words_far_in_letters_are_left_alone():
    # "pourrai" sounds like "pour", "pousser" like "pouce": other words, and a stopword is never a correction
    assert Analyzer(VOCABULARY + ["pour", "pouce"], GLOSSARY).analyze("je pourrai pousser").corrections == {}


def test_a_misspelling_one_sheet_lists_still_means_the_word_for_every_sheet():
    # A sheet lists "chaumage" among its keywords: the word is in the KB, but rare (`indexer.build.rare_words`),
    # so it is corrected like an unknown word, and stays an alternative for the sheet that lists it.
    rare = Analyzer(VOCABULARY + ["chaumage"], GLOSSARY, rare={"chaumage"})
    analysis = rare.analyze("s'inscrire au chaumage")
    assert analysis.corrections == {"chaumage": "chomage"}
    assert analysis.concepts[-1].typed == [(stem("chomage"),), (stem("chaumage"),)]
    assert "chomage" in analysis.dense_text
    assert Analyzer(VOCABULARY + ["chaumage"], GLOSSARY).analyze("au chaumage").corrections == {}  # a known word


def test_a_rare_word_is_corrected_by_its_sound_only_and_is_never_a_correction():
    rare = Analyzer(VOCABULARY + ["perte", "pere", "passeport", "passport"], GLOSSARY, rare={"pere", "passport"})
    assert rare.analyze("mon pere").corrections == {}  # close in letters to "perte", another word: left alone
    assert rare.analyze("pasport").corrections == {"pasport": "passeport"}  # not the listed "passport"
    assert Analyzer(VOCABULARY + ["passport"], GLOSSARY).analyze("pasport").corrections == {"pasport": "passport"}


def test_glossary_terms_spelled_two_ways_expand_once():
    # "chômage" and "chomage" are one term once folded: the model reads each equivalent once, not twice
    glossary = {"chômage": ["allocation chômage", "are"], "chomage": ["allocation chômage", "are", "arce"]}
    analysis = Analyzer(VOCABULARY, glossary).analyze("chomage")
    assert analysis.expansions == ["allocation chômage", "are", "arce"]
    assert analysis.dense_text == "chomage allocation chômage are arce"


def test_glossary_expands_acronyms_and_phrases():
    analysis = analyzer().analyze("APL")
    assert analysis.expansions == ["aide personnalisée au logement"]
    assert analysis.concepts[0].expansions == [tuple(tokens("aide personnalisée au logement"))]
    phrase = analyzer().analyze("ma carte grise")
    assert [c.words for c in phrase.concepts] == ["carte grise"]
    assert "certificat d'immatriculation" in phrase.dense_text


def test_everyday_stopwords_are_not_read_as_acronyms():
    assert analyzer().analyze("je n'arrive pas à me connecter").expansions == []


def test_empty_and_symbol_only_queries():
    assert analyzer().analyze("").concepts == []
    assert analyzer().analyze("?!…").concepts == []


def test_the_query_benchmark_reads_evaluation_files_and_times_every_mode(index, tmp_path):
    from indexer.bench import format_query_times, query_times, read_queries

    queries = tmp_path / "queries.jsonl"
    queries.write_text('{"query": "immatriculer un véhicule d\'occasion", "expected": []}\n\naide au logement étudiant\n',
                       encoding="utf-8")
    assert read_queries(queries) == ["immatriculer un véhicule d'occasion", "aide au logement étudiant"]
    rows = query_times(str(index), read_queries(queries), ["hybrid", "lexical"], rounds=2)
    assert [(r["mode"], r["queries"]) for r in rows] == [("hybrid", 2), ("lexical", 2)]
    assert "hybrid" in format_query_times(rows, "test")


def test_an_unreadable_query_file_names_its_line(tmp_path):
    import pytest

    from indexer.bench import read_queries

    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"query": "apl"}\n{"requete": "rsa"}\n', encoding="utf-8")
    with pytest.raises(ValueError, match="bad.jsonl:2"):
        read_queries(bad)


