"""What the official fiches' tier embeds (one passage per fiche), and negation in names and known gaps."""

from pathlib import Path

from indexer.fiches import parse_fiche
from indexer.fiches_tier import DENSE_WORDS, fiche_passage, tier_chunks
from indexer.negation import affirmed_tokens, negates, without_missing
from indexer.offtopic import Matcher, compile_topic
from indexer.text import tokens

FIXTURES = Path(__file__).parent / "data" / "fiches"


def fiches():
    return [parse_fiche(p.read_bytes(), p.name) for p in sorted(FIXTURES.glob("F*.xml"))]


def test_a_fiche_is_embedded_once_by_what_it_is_about():
    doc = next(f for f in fiches() if f.id == "F2209")
    passage = fiche_passage(doc)
    assert passage.startswith(doc.title)
    assert doc.description in passage
    assert "Sommaire : Quand faire la demande ; Coût" in passage  # chapter headings, generic names left out
    assert "deux mois" not in passage  # the body is for BM25 only
    assert len(passage.split()) <= DENSE_WORDS


def test_the_tier_puts_one_head_per_fiche_first_then_every_section():
    docs = fiches()
    chunks, passages = tier_chunks(docs)
    assert [c.sheet for c in chunks[: len(docs)]] == [d.id for d in docs]
    assert all(c.section == "Titre" for c in chunks[: len(docs)])
    assert passages == [fiche_passage(d) for d in docs]
    # every section chunk of every fiche is still there for BM25
    assert {(c.sheet, c.section) for c in chunks[len(docs):]} >= {(d.id, s) for d in docs for s in d.sections}


def test_words_after_a_negation_are_not_what_a_keyword_is_about():
    assert negates("je n'ai pas de titre de séjour") and negates("AME sans titre de séjour")
    assert not negates("renouveler son titre de séjour")
    assert affirmed_tokens("sans titre de séjour") == []
    assert affirmed_tokens("compte ameli sans carte vitale") == tokens("compte ameli")
    assert affirmed_tokens("rsa pas versé") == tokens("rsa")


def test_a_known_gap_said_as_missing_is_not_the_subject():
    gaps = Matcher([compile_topic("Titre de séjour", "Préfecture", ["titre de séjour"])])
    assert gaps.match("titre de séjour étudiant") is not None
    assert gaps.match("je ne peux pas renouveler mon titre de séjour") is not None
    assert gaps.match("AME sans titre de séjour") is None
    assert gaps.match("je n'ai pas de titre de séjour, comment me soigner") is None
    assert "revenu" not in without_missing("Aucun revenu, je vis chez ma sœur")


def test_a_known_gap_is_covered_only_by_a_sheet_name_that_is_that_expression(kb):
    from indexer.kb import load_kb

    gaps = kb / "hors-champ.yaml"
    gaps.write_text(gaps.read_text(encoding="utf-8").replace(
        "[carte de séjour, titre de séjour]", "[carte de séjour, titre de séjour, changement de titulaire, voiture]"),
        encoding="utf-8")
    loaded = load_kb(kb)
    kept = loaded.off_topics[0]["expressions"]
    # "changement de titulaire" is a keyword of ants-carte-grise-occasion: covered, dropped with a warning;
    # "voiture" is only part of its keyword "acheter une voiture d'occasion": a gap of its own, kept
    assert "changement de titulaire" not in kept and "voiture" in kept
    assert any("changement de titulaire" in w.message and w.severity == "warning" for w in loaded.warnings)
