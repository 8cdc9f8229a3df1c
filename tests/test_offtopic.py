"""Known gaps of the KB (kb/hors-champ.yaml): matching, validation, and what the search and the CLI say."""

import dataclasses
import json

from indexer.cli import main
from indexer.kb import load_kb
from indexer.offtopic import Matcher, compile_topic
from indexer.search import Ranker, Result, Tuning
from indexer.searcher import Searcher

VOTE = compile_topic("Élections", "Mairie", ["procuration de vote", "listes électorales"])


def gap_problems(kb):
    return [p for p in load_kb(kb).problems if p.path.endswith("hors-champ.yaml")]


def about(query):
    return Matcher([VOTE]).match(query)


def test_expression_matches_its_words_close_together_ignoring_small_words_and_accents():
    assert about("faire une procuration pour le vote de dimanche") is VOTE
    assert about("inscription sur les listes electorales") is VOTE
    assert about("vote par procuration") is VOTE  # any order
    assert about("procuration urgente pour le vote") is VOTE  # one word between
    assert about("procuration pour le courrier") is None
    assert about("procuration pour le courrier des voisins, puis le vote") is None  # too far apart
    assert about("J'ai perdu ma procuration. Le vote est dimanche") is None  # one sentence ends, another begins
    assert about("Il a perdu sa procuration ; vote dimanche ?") is None
    assert about("Une procuration de vote ? Oui.") is VOTE and about("procuration\nvote") is None
    assert Matcher([compile_topic("Urssaf", "Urssaf", ["autoentrepreneur.urssaf.fr"])]).match(
        "sur autoentrepreneur.urssaf.fr hier") is not None  # the dots of an address end no sentence


def test_a_one_word_expression_must_be_typed_as_such():
    visa = Matcher([compile_topic("Visa", "Consulat", ["visa", "ccas"])])
    assert visa.match("demande de visa").subject == "Visa" and visa.match("les visas").subject == "Visa"
    assert visa.match("je vis en couple") is None  # "vis" shares the stem of "visa"
    assert visa.match("rendez-vous au CCAS").subject == "Visa"


def test_tiny_kb_topics_are_loaded(kb):
    loaded = load_kb(kb)
    assert gap_problems(kb) == []
    assert loaded.off_topics == [{"subject": "Titre de séjour", "direction": "Préfecture ou ANEF.",
                                  "expressions": ["carte de séjour", "titre de séjour"]}]


def test_an_expression_a_sheet_covers_is_dropped_with_a_warning_on_its_line(kb):
    (kb / "hors-champ.yaml").write_text("- sujet: Voiture\n  expressions:\n    - carte grise\n    - fourrière\n"
                                        "  orienter: Ailleurs\n", encoding="utf-8")
    loaded = load_kb(kb)
    [warning] = gap_problems(kb)
    assert not warning.is_error and warning.path.endswith("hors-champ.yaml") and warning.line == 3 and "ants-carte-grise-occasion" in warning.message
    assert loaded.off_topics[0]["expressions"] == ["fourrière"]


def test_an_expression_with_a_negation_is_dropped_with_a_warning_on_its_line(kb):
    # Stopwords drop "sans": "divorcer sans juge" would find "je passe devant le juge pour mon divorce", the opposite
    (kb / "hors-champ.yaml").write_text("- sujet: Divorce\n  expressions:\n    - divorce à l'amiable\n"
                                        "    - divorcer sans juge\n  orienter: Avocat\n", encoding="utf-8")
    loaded = load_kb(kb)
    [warning] = gap_problems(kb)
    assert not warning.is_error and warning.line == 4 and "négation" in warning.message
    assert loaded.off_topics[0]["expressions"] == ["divorce à l'amiable"]
    gaps = Matcher([compile_topic(t["subject"], t["direction"], t["expressions"]) for t in loaded.off_topics])
    assert gaps.match("je passe devant le juge pour mon divorce") is None
    assert gaps.match("un divorce à l'amiable").subject == "Divorce"


def test_incomplete_topic_and_bad_yaml_are_errors_with_lines(kb):
    (kb / "hors-champ.yaml").write_text("- sujet: A\n  orienter: B\n  expressions: [xylophone]\n- sujet: C\n  orienter: D\n",
                                        encoding="utf-8")
    [error] = gap_problems(kb)
    assert error.line == 4 and "incomplet" in error.message
    (kb / "hors-champ.yaml").write_text("- sujet: A\n  orienter: [B\n", encoding="utf-8")
    [error] = gap_problems(kb)
    assert "YAML invalide" in error.message and error.line >= 2


def test_the_file_is_optional(kb):
    (kb / "hors-champ.yaml").unlink()
    assert gap_problems(kb) == [] and load_kb(kb).off_topics == []


def test_search_names_the_gap_and_where_to_direct_when_it_does_not_answer(index):
    strict = Tuning()
    decision = tuple((mode, weights + (("off_topic", -50.0),), bias, threshold)
                     for mode, weights, bias, threshold in strict.decision)
    searcher = Searcher(index, tuning=dataclasses.replace(strict, decision=decision))
    result = searcher.search("renouveler ma carte de séjour")
    assert result.answer is None and result.redirect.subject == "Titre de séjour"
    assert result.to_json()["hors_champ"] == {"sujet": "Titre de séjour", "orienter": "Préfecture ou ANEF."}
    assert result.results  # neighbours stay as suggestions
    no_accents = searcher.search("renouveler ma carte de sejour")
    assert no_accents.redirect is not None
    other = searcher.search("carte vitale perdue")
    assert other.off_topic is None and "hors_champ" not in other.to_json()


def test_known_gap_without_searching(index):
    searcher = Searcher(index)
    assert searcher.known_gap("carte de séjour étudiant").subject == "Titre de séjour"
    assert searcher.known_gap("carte grise perdue") is None


def test_a_gap_is_not_shown_when_a_sheet_answers():
    result = Result("q", "cpam-carte-vitale", [], 0.9, "hybrid", "b", off_topic=VOTE)
    assert result.redirect is None and "hors_champ" not in result.to_json()


def test_cli_prints_where_to_direct(index, capsys, monkeypatch):
    monkeypatch.setattr(Ranker, "confidence", lambda self, features, mode: 0.0)  # never sure enough to answer
    assert main(["search", "--index", str(index), "titre de séjour expiré"]) == 0
    assert "Pas de fiche pour ce sujet : Titre de séjour. Orienter : Préfecture ou ANEF." in capsys.readouterr().out
    assert main(["search", "--index", str(index), "--json", "titre de séjour expiré"]) == 0
    assert json.loads(capsys.readouterr().out)["hors_champ"]["sujet"] == "Titre de séjour"
