"""The Streamlit app through `AppTest`, over a tiny index built with the hash embedder (no model, no network)."""

import datetime as dt

import pytest
from indexer.build import rebuild
from indexer.embed import HashEmbedder
from indexer.kb import load_kb
from streamlit.testing.v1 import AppTest

from app_support import APP, EDITORS_PAGE, HTML_SHEET, TEST_KB, build_index, copy_kb, point_app_at
from assistant import editorial
from assistant.feedback import Store
from assistant.sheetinfo import french_date, is_stale, partner_contact, plain

CARTE_GRISE = "Immatriculer un véhicule d'occasion"


@pytest.fixture
def kb(tmp_path):
    return copy_kb(tmp_path / "kb")


@pytest.fixture
def db(tmp_path, monkeypatch, kb):
    index = tmp_path / "index"
    build_index(kb, index)
    return point_app_at(monkeypatch, tmp_path, kb, index)


def start(page=APP) -> AppTest:
    at = AppTest.from_file(page, default_timeout=30)
    at.run()
    assert not at.exception, at.exception
    return at


def search(at: AppTest, query: str) -> AppTest:
    at.text_input(key="query").input(query).run()
    assert not at.exception, at.exception
    return at


def stored(db, table: str) -> list[dict]:
    with Store(db) as store:
        return store.searches() if table == "searches" else store.feedback()


def texts(at: AppTest) -> str:
    return "\n".join(e.value for kind in ("markdown", "caption", "warning", "subheader", "success", "error")
                     for e in getattr(at, kind))


def test_empty_page_invites_a_search(db):
    at = start()
    assert at.title[0].value == "Quelle démarche ?"
    assert at.text_input(key="query").value == ""
    assert "Tapez la demande" in at.caption[0].value


def test_answer_card(db):
    at = search(start(), "immatriculer un véhicule")
    assert at.subheader[0].value == CARTE_GRISE
    shown = texts(at)
    for part in ("##### En bref", "##### Étapes", "##### Pièces à fournir", "##### Coût", "##### Délais",
                 "##### En cas de blocage", ":blue-badge[ANTS]", "Mis à jour le 1er novembre 2026"):
        assert part in shown
    assert "1. Se connecter au site de l'ANTS." in shown
    assert [c.label for c in at.checkbox] == ["Le certificat d'immatriculation barré par le vendeur",
                                             "Le code de cession remis par le vendeur",
                                             "Un justificatif de domicile de moins de 6 mois"]
    assert "service-public.fr/particuliers/vosdroits/F1050" in shown
    assert at.caption[0].value.startswith("Réponse en ") and at.caption[0].value.endswith(" ms")
    link = at.get("link_button")[0]
    assert link.proto.url == "https://immatriculation.ants.gouv.fr"
    handout = at.get("download_button")[0]
    assert handout.proto.label == "Imprimer pour l'usager"
    assert not at.warning  # the sheet is recent: no staleness warning


def test_no_answer(db):
    at = search(start(), "recette de la tarte aux pommes")
    assert "Aucune fiche ne correspond" in at.warning[0].value
    assert not at.subheader  # no card
    shown = texts(at)
    assert "Peut-être :" in shown and "reformulez" in shown and "sigle" in shown
    assert len(at.button) >= 1 and all(b.label == "Voir la fiche" for b in at.button)


def test_a_known_gap_says_where_to_direct(db, monkeypatch):
    from indexer.search import Ranker

    monkeypatch.setattr(Ranker, "confidence", lambda self, features, mode: 0.0)  # no sheet answers
    at = search(start(), "carte de séjour étudiant")
    assert "Pas de fiche pour ce sujet : Titre de séjour" in at.info[0].value
    assert "Orienter : Préfecture ou ANEF." in at.info[0].value
    assert not at.warning and "Fiches proches, au cas où :" in texts(at)


def test_clicking_a_candidate_shows_its_card(db):
    at = search(start(), "immatriculer un véhicule")
    at.button(key="show-cpam-carte-vitale").click().run()
    assert at.subheader[0].value == "Obtenir ou remplacer sa carte Vitale"
    assert "**" + CARTE_GRISE + "**" in texts(at)  # the best answer is now among the others


def test_partner_filter(db):
    at = start()
    assert at.selectbox(key="partner").options == ["Tous les partenaires", "ANTS", "Assurance Maladie", "CAF"]
    search(at, "carte vitale perdue")
    assert at.subheader[0].value == "Obtenir ou remplacer sa carte Vitale"
    at.selectbox(key="partner").set_value("cpam").run()
    assert at.subheader[0].value == "Obtenir ou remplacer sa carte Vitale"
    badges = [m.value for m in at.markdown if "-badge[" in m.value]
    assert badges == [":blue-badge[Assurance Maladie]"]  # no candidate from another partner
    at.selectbox(key="partner").set_value("ants").run()
    assert "Obtenir ou remplacer sa carte Vitale" not in texts(at)
    badges = [m.value for m in at.markdown if "-badge[" in m.value]
    assert badges and {b.split("[")[1] for b in badges} == {"ANTS]"}


def test_search_logged_once_per_query_and_masked(db):
    at = search(start(), "immatriculer un véhicule, rappeler au 06 12 34 56 78")
    at.checkbox[0].check().run()
    at.button(key="show-cpam-carte-vitale").click().run()
    search(at, "recette de la tarte aux pommes")
    rows = stored(db, "searches")
    assert [(r["query"], r["answer"]) for r in rows] == [
        ("immatriculer un véhicule, rappeler au [TÉLÉPHONE]", "ants-carte-grise-occasion"),
        ("recette de la tarte aux pommes", None),
    ]
    assert 0.0 <= rows[1]["confidence"] <= 1.0


def test_checklist_starts_empty_for_each_new_search(db):
    at = search(start(), "immatriculer un véhicule")
    at.checkbox[0].check().run()
    assert at.checkbox[0].value
    search(at, "carte grise d'occasion")
    assert at.subheader[0].value == CARTE_GRISE and not at.checkbox[0].value


def test_positive_feedback_is_stored(db):
    at = search(start(), "immatriculer un véhicule")
    at.button(key="yes-ants-carte-grise-occasion").click().run()
    assert "Merci" in at.success[0].value
    [row] = stored(db, "feedback")
    assert (row["query"], row["sheet"], row["useful"], row["reason"]) == (
        "immatriculer un véhicule", "ants-carte-grise-occasion", 1, None)
    assert dt.datetime.fromisoformat(row["ts"]).tzinfo is not None


def test_negative_feedback_with_reason_and_masked_comment(db):
    at = search(start(), "carte grise pour 1 85 05 78 006 084 36")
    at.button(key="no-ants-carte-grise-occasion").click().run()
    at.radio(key="reason-ants-carte-grise-occasion").set_value("outdated")
    at.text_area(key="comment-ants-carte-grise-occasion").input("le tarif a changé, usager joignable au 0612345678")
    at.button(key="send-ants-carte-grise-occasion").click().run()
    assert not at.exception
    [row] = stored(db, "feedback")
    assert row["query"] == "carte grise pour [NIR]"
    assert (row["useful"], row["reason"]) == (0, "outdated")
    assert row["comment"] == "le tarif a changé, usager joignable au [TÉLÉPHONE]"


def test_sheet_html_is_shown_as_text_and_old_sheet_warned(tmp_path, monkeypatch):
    kb = copy_kb(tmp_path / "kb", {"caf/caf-prime-naissance.md": HTML_SHEET})
    build_index(kb, tmp_path / "index")
    point_app_at(monkeypatch, tmp_path, kb, tmp_path / "index")
    at = search(start(), "prime à la naissance")
    assert at.subheader[0].value == "Demander la prime à la naissance"
    assert any("<script>window.__pwned = 1</script>" in m.value for m in at.markdown)
    assert not any(m.proto.allow_html for m in [*at.markdown, *at.caption])
    assert "Fiche non vérifiée depuis plus de 12 mois" in at.warning[0].value


def test_missing_index_says_how_to_build_it(tmp_path, monkeypatch):
    point_app_at(monkeypatch, tmp_path, TEST_KB, tmp_path / "nowhere")
    at = AppTest.from_file(APP, default_timeout=30).run()
    assert "Aucun index de recherche" in at.error[0].value
    assert at.code[0].value == "python -m indexer rebuild"


def test_rebuild_is_served_without_restart(tmp_path, kb, db):
    at = search(start(), "prime à la naissance")
    assert "Aucune fiche ne correspond" in at.warning[0].value
    (kb / "caf" / "caf-prime-naissance.md").write_text(HTML_SHEET, encoding="utf-8")
    rebuild(kb, tmp_path / "index", HashEmbedder(), "hash")
    search(at, "prime à la naissance ")  # the same request, submitted again
    assert at.subheader[0].value == "Demander la prime à la naissance"


def test_editors_page_renders(db):
    app = search(start(), "immatriculer un véhicule")
    app.button(key="no-ants-carte-grise-occasion").click().run()
    app.radio(key="reason-ants-carte-grise-occasion").set_value("incomplete")
    app.button(key="send-ants-carte-grise-occasion").click().run()
    search(app, "recette de la tarte aux pommes")
    at = start(EDITORS_PAGE)
    assert at.title[0].value == "Rédaction des fiches"
    assert [m.label for m in at.metric] == ["Fiches", "À revoir (> 12 mois)", "Erreurs de validation", "Recherches",
                                           "Taux de réponse"]
    assert [m.value for m in at.metric] == ["3", "0", "0", "2", "50%"]
    sheets, weak, negative = (at.dataframe[i].value for i in range(3))
    assert list(sheets["Fiche"]) == ["ants-carte-grise-occasion", "caf-aide-logement", "cpam-carte-vitale"]
    assert list(sheets["Index"]) == ["à jour"] * 3
    assert list(sheets["Avis négatifs"]) == [1, 0, 0]
    assert list(weak["Recherche"]) == ["recette de la tarte aux pommes"]
    assert list(weak["Sujet hors champ"]) == [""]
    assert list(negative["Raison"]) == ["incomplète"]
    assert at.tabs[1].label == "Sans réponse (1)" and at.tabs[2].label == "Avis négatifs (1)"
    assert len(at.get("vega_lite_chart")) == 3  # searches per day, answer rate, top sheets


def test_editors_see_which_unanswered_searches_are_known_gaps(db, monkeypatch):
    from indexer.search import Ranker

    monkeypatch.setattr(Ranker, "confidence", lambda self, features, mode: 0.0)  # nothing is answered
    search(start(), "renouveler ma carte de séjour")
    weak = start(EDITORS_PAGE).dataframe[1].value
    assert list(weak["Recherche"]) == ["renouveler ma carte de séjour"]
    assert list(weak["Sujet hors champ"]) == ["Titre de séjour"]


def test_editors_rebuild_button(tmp_path, kb, db):
    (kb / "caf" / "caf-prime-naissance.md").write_text(HTML_SHEET, encoding="utf-8")
    at = start(EDITORS_PAGE)
    assert "modifiée, à reconstruire" not in str(at.dataframe[-1].value)
    assert "absente de l'index" in list(at.dataframe[-1].value["Index"])
    at.button(key="rebuild").click().run()
    assert "Index reconstruit" in at.success[0].value
    assert list(at.dataframe[-1].value["Index"]) == ["à jour"] * 4
    search(start(), "prime à la naissance")  # the search page serves the new build


def test_editors_rebuild_refused_shows_file_and_line(tmp_path, kb, db):
    (kb / "caf" / "caf-rsa.md").write_text("---\nid: caf-rsa\ntitle: RSA\npartner: caf\n---\n\n## En bref\nx\n",
                                           encoding="utf-8")
    at = start(EDITORS_PAGE)
    assert "3 erreur(s)" in at.error[0].value
    at.button(key="rebuild").click().run()
    assert "Index inchangé" in at.error[0].value
    assert "caf-rsa.md:" in at.code[0].value and "Étapes" in at.code[0].value
    assert "refusée : " in " ".join(at.dataframe[-1].value["Validation"])


def test_sheet_helpers():
    assert french_date("2026-11-01") == "1er novembre 2026" and french_date("2026-08-15") == "15 août 2026"
    assert is_stale("2025-11-25", dt.date(2026, 11, 26)) and not is_stale("2025-11-26", dt.date(2026, 11, 26))
    partners = {"ants": {"short": "ANTS", "phone": "34 00"}, "msa": {"short": "MSA", "contact": "Voir msa.fr."}}
    assert partner_contact(partners, "ants") == "Ligne ANTS : 34 00"
    assert partner_contact(partners, "msa") == "Voir msa.fr."
    assert partner_contact(partners, "x") is None
    assert plain("[ANTS](https://ants.gouv.fr) et <https://caf.fr>") == "ANTS (https://ants.gouv.fr) et https://caf.fr"


def test_editorial_rows_flag_stale_and_changed_sheets(tmp_path):
    kb_dir = copy_kb(tmp_path / "kb", {"caf/caf-prime-naissance.md": HTML_SHEET})
    kb = load_kb(kb_dir, dt.date(2026, 11, 26))
    served = {s.id: s.digest for s in kb.sheets} | {"cpam-carte-vitale": "old"}
    del served["caf-aide-logement"]
    rows = editorial.sheet_rows(kb, served, kb.partners, {"caf-aide-logement": {"total": 2, "negative": 1}},
                                dt.date(2026, 11, 26))
    by_id = {r["Fiche"]: r for r in rows}
    assert by_id["cpam-carte-vitale"]["Index"] == "modifiée, à reconstruire"
    assert by_id["caf-aide-logement"]["Index"] == "absente de l'index"
    assert (by_id["caf-aide-logement"]["Avis"], by_id["caf-aide-logement"]["Avis négatifs"]) == (2, 1)
    assert by_id["ants-carte-grise-occasion"]["Validation"] == "valide"
    assert [r["Fiche"] for r in editorial.stale_rows(rows)] == ["caf-prime-naissance"]
