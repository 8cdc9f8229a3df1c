"""Official fiches (XML, schema Publication 3.3) -> documents of kind "fiche"; malformed input gets a reason."""

from pathlib import Path

import pytest

from indexer.chunks import sheet_chunks
from indexer.fiches import FicheError, FicheIgnored, parse_fiche
from indexer.fiches_rank import cited_fiches
from indexer.sheets import Sheet

FIXTURES = Path(__file__).parent / "data" / "fiches"


def fiche(name: str) -> Sheet:
    return parse_fiche((FIXTURES / f"{name}.xml").read_bytes(), f"{name}.xml")


def minimal(body: str = "", kind: str = "Fiche d'information", fid: str = "F123", date: str = "modified 2026-01-02",
            title: str = "Un titre") -> str:
    return (f'<?xml version="1.0" encoding="UTF-8"?><Publication xmlns:dc="http://purl.org/dc/elements/1.1/" '
            f'ID="{fid}" type="{kind}"><dc:title>{title}</dc:title><dc:date>{date}</dc:date>'
            f'<dc:description>Résumé.</dc:description>{body}</Publication>')


def test_an_information_fiche_becomes_a_document_with_every_part():
    doc = fiche("F1050")
    assert (doc.id, doc.kind, doc.partner) == ("F1050", "fiche", "service-public")
    assert doc.title == "Carte grise d'un véhicule acheté d'occasion"
    assert doc.breadcrumb == ["Transports", "Carte grise (certificat d'immatriculation)"]
    assert doc.updated == "2026-11-20"
    assert doc.source_url == "https://www.service-public.fr/particuliers/vosdroits/F1050" == doc.sources[0]
    assert doc.steps == ["Se connecter avec FranceConnect.", "Saisir le code de cession remis par le vendeur.",
                         "Payer la taxe et imprimer le certificat provisoire."]
    assert list(doc.sections) == ["En bref", "Démarche", "Pièces justificatives"]
    assert "- Un justificatif de domicile" in doc.sections["Pièces justificatives"].markdown
    assert "**À noter** :" in doc.sections["Pièces justificatives"].markdown
    # the same téléservice cited twice is listed once; the form keeps its cerfa number
    assert [(s["type"], s["cerfa"]) for s in doc.services] == [("Téléservice", ""), ("Formulaire", "15776*02")]
    assert doc.where[0]["label"] == "France Services" and doc.where[0]["url"].startswith("https://lannuaire.")
    assert doc.related == [{"id": "F11475", "title": "Quand la carte grise arrive-t-elle ?"}]


def test_cases_are_titled_sub_sections_kept_out_of_the_section_text_shown_but_indexed():
    doc = fiche("F1050")
    assert [(c["section"], c["block"], c["title"]) for c in doc.cases] == [
        ("Démarche", 0, "Le vendeur est un particulier"), ("Démarche", 0, "Le vendeur est un garage")]
    assert "garage" not in doc.sections["Démarche"].markdown
    assert "garage" in doc.sections["Démarche"].text
    assert "\\*\\*" not in doc.cases[1]["markdown"] and "**s'il est habilité**" not in doc.cases[1]["markdown"]


def test_question_and_how_to_fiches_read_their_situations_as_cases():
    question = fiche("F12006")
    assert question.title.startswith("Qui peut toucher") and question.steps == []
    assert [c["title"] for c in question.cases] == ["Vous êtes locataire", "Vous êtes étudiant"]
    assert "rattaché" in question.sections["Situations"].text
    how_to = fiche("F99001")
    assert how_to.breadcrumb == ["Logement"] and len(how_to.cases) == 2


def test_a_fiche_chunks_like_a_sheet_and_round_trips_through_json():
    doc = fiche("F1050")
    chunks = sheet_chunks(doc)
    assert chunks[0].text.startswith("Carte grise d'un véhicule acheté d'occasion")
    assert any("garage" in c.text for c in chunks)
    assert Sheet.from_dict(doc.to_dict()) == doc


def test_counter_sheets_keep_their_defaults():
    data = fiche("F2209").to_dict()
    data.update(kind="sheet", breadcrumb=[], cases=[])
    assert not Sheet.from_dict(data).is_fiche


def test_markdown_special_characters_in_fiche_text_stay_text():
    doc = parse_fiche(minimal("<Texte><Paragraphe># pas un titre *ni* [un lien](x) $1$</Paragraphe></Texte>"), "F123.xml")
    assert doc.sections["Informations"].markdown == r"\# pas un titre \*ni\* \[un lien\](x) \$1\$"
    assert doc.sections["Informations"].text == "# pas un titre *ni* [un lien](x) $1$"


@pytest.mark.parametrize("text, reason", [
    ("<Publication", "XML mal formé, ligne 1"),
    ('<?xml version="1.0"?><!DOCTYPE p [<!ENTITY x "y">]><Publication ID="F1">&x;</Publication>', "DTD ou entités"),
    ('<Fiche ID="F1"/>', "élément racine « Fiche »"),
    (minimal(fid="R123"), "identifiant de fiche absent ou invalide"),
    (minimal(fid="F124"), "le fichier F123.xml contient la fiche F124"),
    (minimal(title=""), "titre (dc:title) absent"),
    (minimal(date="2026-01-02"), "dc:date"),
    (minimal(date="modified 2026-13"), "dc:date"),
])
def test_malformed_fiches_are_refused_with_a_reason(text, reason):
    with pytest.raises(FicheError) as refused:
        parse_fiche(text, "F123.xml")
    assert reason in str(refused.value)


def test_a_billion_laughs_is_refused_without_expansion():
    bomb = ('<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
            '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]><Publication ID="F123">&c;</Publication>')
    with pytest.raises(FicheError, match="DTD ou entités"):
        parse_fiche(bomb, "F123.xml")


def test_publications_that_are_not_fiches_are_ignored_not_errors():
    with pytest.raises(FicheIgnored, match="Recherche guidée"):
        parse_fiche(minimal(kind="Recherche guidée"), "F123.xml")
    for kind in ("Fiche Question-réponse conditionnée", "Fiche Comment faire si - simulateur"):
        assert parse_fiche(minimal("<Texte><Paragraphe>Texte.</Paragraphe></Texte>", kind=kind), "F123.xml").is_fiche


def test_cited_fiches_are_read_from_service_public_addresses():
    assert cited_fiches(["https://www.service-public.fr/particuliers/vosdroits/F1050",
                         "https://www.ameli.fr", "https://www.service-public.fr/particuliers/vosdroits/F1050",
                         "https://www.service-public.fr/particuliers/vosdroits/F12006?x=1",
                         "https://www.service-public.fr/particuliers/vosdroits/F12006123x"]) == ["F1050", "F12006"]


class H:
    def __init__(self, id):
        self.id = id


def ids(decision):
    return [h.id for h in decision.results]


def test_policy_a_confident_sheet_answers_and_its_closest_cited_fiche_comes_next():
    from indexer.fiches_rank import combine

    cites = {"s1": [H("F2"), H("F1")]}
    decision = combine([H("s1"), H("s2")], 0.9, 0.3, [H("F1"), H("F9")], 0.95, 0.5,
                       lambda sid: cites.get(sid, []), top=10)
    assert (decision.answer, decision.tier) == ("s1", "sheet")
    assert ids(decision) == ["s1", "F1", "s2", "F2", "F9"]


def test_policy_fiche_answers_when_no_sheet_does_and_the_best_sheet_stays_second():
    from indexer.fiches_rank import combine

    decision = combine([H("s1"), H("s2")], 0.1, 0.3, [H("F1"), H("F9")], 0.8, 0.5, lambda sid: [], top=3)
    assert (decision.answer, decision.tier, ids(decision)) == ("F1", "fiche", ["F1", "s1", "F9"])


def test_policy_an_unconfident_sheet_citing_the_confident_fiche_stays_unanswered_the_fiche_answers():
    from indexer.fiches_rank import combine

    decision = combine([H("s1")], 0.1, 0.3, [H("F1")], 0.8, 0.5, lambda sid: [H("F1")], top=5)
    assert (decision.answer, decision.tier, ids(decision), decision.confidence) == ("F1", "fiche", ["F1", "s1"], 0.8)


def test_policy_no_fiche_overrules_an_answering_sheet_and_a_named_sheet_keeps_its_place():
    from indexer.fiches_rank import combine

    assert combine([H("s1")], 0.31, 0.3, [H("F1")], 0.99, 0.5, lambda sid: [], top=5).answer == "s1"
    # the query names the sheet, which is not confident: no fiche answers, the sheet stays first
    named = combine([H("s1"), H("s2")], 0.2, 0.3, [H("F1")], 0.9, 0.5, lambda sid: [], top=5, sheet_named=True)
    assert (named.answer, ids(named)) == (None, ["s1", "F1", "s2"])
    # no counter sheet at all (a partner filter): the fiche answers
    assert combine([], 0.0, 0.3, [H("F1")], 0.9, 0.5, lambda sid: [], top=5, sheet_named=True).answer == "F1"


def test_policy_nothing_confident_alternates_suggestions_sheet_first():
    from indexer.fiches_rank import combine

    decision = combine([H("s1"), H("s2"), H("s3")], 0.1, 0.3, [H("F1")], 0.4, 0.5, lambda sid: [], top=5)
    assert (decision.answer, ids(decision)) == (None, ["s1", "F1", "s2", "s3"])


def test_policy_a_fiche_must_beat_a_plausible_sheet_by_its_confidence():
    from indexer.fiches_rank import combine

    # the best sheet is not confident (0.25 < 0.3) but plausible: a fiche at 0.7 is under 0.5 + 0.25
    close = combine([H("s1"), H("s2")], 0.25, 0.3, [H("F1")], 0.7, 0.5, lambda sid: [], top=5)
    assert (close.answer, ids(close)) == (None, ["s1", "F1", "s2"])
    # the same fiche over an implausible sheet answers, the sheet second
    far = combine([H("s1"), H("s2")], 0.02, 0.3, [H("F1")], 0.7, 0.5, lambda sid: [], top=5)
    assert (far.answer, far.tier, ids(far)) == ("F1", "fiche", ["F1", "s1", "s2"])
    # and a very confident fiche beats the plausible sheet
    assert combine([H("s1")], 0.25, 0.3, [H("F1")], 0.8, 0.5, lambda sid: [], top=5).answer == "F1"
