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
    rows = query_times(str(index), read_queries(queries), ["hybrid", "lexical"], rounds=2, certain=True)
    assert [(r["mode"], r["queries"]) for r in rows] == [("hybrid", 2), ("lexical", 2)]
    assert rows[0]["certain"] == 1 and rows[1]["certain"] == 0  # the certain query is not embedded
    assert query_times(str(index), ["carte grise occasion"], ["hybrid"])[0]["certain"] == 0  # every query embedded
    assert "hybrid" in format_query_times(rows, "test")


def test_an_unreadable_query_file_names_its_line(tmp_path):
    import pytest

    from indexer.bench import read_queries

    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"query": "apl"}\n{"requete": "rsa"}\n', encoding="utf-8")
    with pytest.raises(ValueError, match="bad.jsonl:2"):
        read_queries(bad)


def test_the_cli_searches_as_the_app_with_certain(index, capsys):
    import json

    from indexer.cli import main

    query = "immatriculer un véhicule d'occasion"
    assert main(["search", "--index", str(index), "--json", "--top", "50", query]) == 0
    every = json.loads(capsys.readouterr().out)
    assert main(["search", "--index", str(index), "--json", "--top", "50", "--certain", query]) == 0
    certain = json.loads(capsys.readouterr().out)
    assert certain["answer"] == every["answer"] == "ants-carte-grise-occasion"
    assert [h["id"] for h in certain["results"]] == ["ants-carte-grise-occasion"]  # keywords alone: the one sheet
    assert len(every["results"]) > 1  # the model ranks every sheet


def test_certain_keywords_skip_the_model_only_when_the_screen_could_not_change():
    from assistant.glance import CLOSE_RATIO, SURE_SCORE, settled
    from indexer.search import Hit

    def hits(*scores):
        return [Hit(f"s{n}", "", "", score, "", "") for n, score in enumerate(scores)]

    bonus = 0.03
    assert settled(hits(SURE_SCORE + 0.05), bonus)  # alone, and sure whatever the model adds
    assert settled(hits(SURE_SCORE + 0.05, 0.1), bonus)
    assert not settled(hits(SURE_SCORE + 0.05, CLOSE_RATIO * (SURE_SCORE + 0.05) - bonus / 2), bonus)  # could pair
    assert not settled(hits(SURE_SCORE - bonus / 2), bonus)  # the model could make it "sure"
    assert settled(hits(SURE_SCORE - 2 * bonus), bonus)  # "à vérifier" whatever the model adds
    assert not settled([], bonus)
