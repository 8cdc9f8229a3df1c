"""The Streamlit app through `AppTest`, over a tiny index built with the hash embedder (no model, no network)."""

import datetime as dt
import re
import socket
import threading
from html import escape, unescape

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
    at.text_input(key="q").input(query).run()
    assert not at.exception, at.exception
    return at


def stored(db, table: str) -> list[dict]:
    with Store(db) as store:
        return store.searches() if table == "searches" else store.feedback()


def texts(at: AppTest) -> str:
    """Everything the page shows as text: Markdown elements and the cards' HTML blocks."""
    return "\n".join([*(e.value for kind in ("markdown", "caption", "warning", "subheader", "success", "error")
                         for e in getattr(at, kind)), *blocks(at)])


def blocks(at: AppTest) -> list[str]:
    """The HTML blocks of the page (the cards' static parts), the page's own style and script left out."""
    return [e.proto.body for e in at.get("html") if not e.proto.body.startswith("<style>")]


def h2(title: str) -> str:
    """A card's title as the page gives it: a level-2 heading, the title escaped."""
    return f"<h2>{escape(title)}</h2>"


def sections(at: AppTest) -> list[str]:
    """The card's sections, in order, as the agent reads them on the disclosures."""
    return [unescape(s) for s in re.findall(r"<summary><h3>(.*?)</h3></summary>", "".join(blocks(at)))]


def ticks_or_none(at: AppTest):
    """The documents checklist of the card (one widget: the documents the citizen already has), if any."""
    return next((g for g in at.button_group if g.key.startswith("docs-")), None)


def ticks(at: AppTest):
    checklist = ticks_or_none(at)
    assert checklist is not None, "pas de liste de pièces à cocher"
    return checklist


def test_empty_page_invites_a_search(db):
    at = start()
    assert at.title[0].value == "Quelle démarche ?"
    assert at.text_input(key="q").value == ""
    assert "Tapez la demande" in texts(at)


def test_the_server_sends_without_delay_from_a_sessions_first_run(db):
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)  # as Streamlit binds its own: protocol 0, Nagle on
    with listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        at = start()  # the script runs in this process: this listener stands for Streamlit's (tests/test_nodelay.py)
        assert listener.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
    assert at.session_state["tcp_no_delay"] >= 1


def test_answer_card(db):
    at = search(start(), "immatriculer un véhicule")
    shown = texts(at)
    assert h2(CARTE_GRISE) in shown
    for part in ("<h3>En bref</h3>", "<h3>Pièces à fournir (3)</h3>", "<h3>Coût</h3>", "<h3>Délais</h3>",
                 '<span class="fs-badge fs-blue" title="Agence nationale des titres sécurisés (ANTS)">ANTS</span>',
                 '<span class="fs-badge fs-gray">Fiche guichet</span>', "Réponse sûre",
                 "Mise à jour le 1er novembre 2026"):
        assert part in shown, part
    assert re.search(r"<details open><summary><h3>Étapes</h3></summary><ol>\s*<li>Se connecter au site de "
                     r"l'ANTS.</li>", shown)  # the steps are open, as a numbered list
    assert ticks(at).options == ["Le certificat d'immatriculation barré par le vendeur",
                                 "Le code de cession remis par le vendeur",
                                 "Un justificatif de domicile de moins de 6 mois"]
    assert ticks(at).value == []
    assert 'href="https://www.service-public.fr/particuliers/vosdroits/F1050"' in shown
    assert "Réponse en" not in shown and " ms" not in shown  # timings go to the logs, not to the agent
    assert sections(at) == ["Étapes", "Pièces à fournir (3)", "Coût", "Délais", "Qui est concerné",
                            "Cas particuliers", "En cas de blocage", "Sources"]
    assert ('<a class="fs-button" href="https://immatriculation.ants.gouv.fr" target="_blank" '
            'rel="noopener noreferrer">Service en ligne') in shown
    assert not at.get("download_button")  # printing opens the browser's print, nothing to download
    [frame] = printed(at)
    assert "Imprimer pour l&#x27;usager" in frame or "Imprimer pour l'usager" in frame
    assert "ants-carte-grise-occasion" not in shown  # internal ids are never shown
    assert not at.warning  # the sheet is recent: no staleness warning


def printed(at: AppTest) -> list[str]:
    """The HTML of the print buttons on the page (each holds the page it prints)."""
    return [e.proto.srcdoc for e in at.get("iframe") if "print" in e.proto.srcdoc]


def test_situation_words_are_highlighted_and_marked_on_tabs(db):
    at = search(start(), "immatriculer un véhicule hérité de mon père")
    shown = texts(at)
    assert "Véhicule <mark>hérité</mark> : joindre l'acte de décès." in shown
    assert "Cas particuliers ★" in sections(at)


def test_unsure_answer_says_so(db, monkeypatch):
    from indexer.search import Ranker

    monkeypatch.setattr(Ranker, "confidence", lambda self, features, mode: 0.35)  # answered, barely
    at = search(start(), "immatriculer un véhicule")
    assert h2(CARTE_GRISE) in texts(at)
    assert "À vérifier" in texts(at) and "Réponse sûre" not in texts(at)


def test_two_close_sheets_side_by_side(db, monkeypatch):
    from assistant import glance

    monkeypatch.setattr(glance, "CLOSE_RATIO", 0.1)  # in the tiny KB, carte Vitale and carte grise score 3.2 / 0.48
    at = search(start(), "carte vitale perdue")
    shown = texts(at)
    assert "laquelle correspond à l&#x27;usager ?</h2>" in shown
    assert "<h2>Obtenir" not in shown and "<h3>Obtenir ou remplacer sa carte Vitale</h3>" in shown  # no card yet
    assert [b.label for b in at.button if b.key.startswith("pick-")] == [
        "Voir la fiche Obtenir ou remplacer sa carte Vitale", "Voir la fiche " + CARTE_GRISE]
    at.button(key="pick-ants-carte-grise-occasion").click().run()
    assert h2(CARTE_GRISE) in texts(at)
    assert at.query_params["fiche"] == "ants-carte-grise-occasion"


def test_no_answer(db):
    at = search(start(), "recette de la tarte aux pommes")
    assert "Aucune fiche ne correspond" in at.warning[0].value
    assert "<h2>" not in texts(at) and not ticks_or_none(at)  # no card
    shown = texts(at)
    assert "reformulez" in shown and "sigle" in shown
    assert not [b for b in at.button if b.key.startswith("show-")]  # nothing scores near enough to be offered
    [frame] = printed(at)
    assert "recette de la tarte aux pommes" in frame and "Imprimer une page d" in frame


def test_a_known_gap_says_where_to_direct(db, monkeypatch):
    from indexer.search import Ranker

    monkeypatch.setattr(Ranker, "confidence", lambda self, features, mode: 0.0)  # no sheet answers
    at = search(start(), "carte de séjour étudiant")
    assert "Pas de fiche pour ce sujet : Titre de séjour" in at.info[0].value
    assert "Orienter : Préfecture ou ANEF." in at.info[0].value
    assert not at.warning and "Fiches proches, au cas où" in texts(at)
    [frame] = printed(at)
    assert "Préfecture ou ANEF." in frame


def test_clicking_a_candidate_shows_its_card(db):
    at = search(start(), "carte")  # carte Vitale first, carte grise a plausible second (3.2 / 2.07 in the tiny KB)
    button = at.button(key="show-ants-carte-grise-occasion")
    assert button.label == "Voir la fiche " + CARTE_GRISE  # a distinct name for each
    button.click().run()
    assert h2(CARTE_GRISE) in texts(at)
    assert "Réponse sûre" not in texts(at)  # the agent chose it: the search's confidence does not apply
    assert at.query_params["fiche"] == "ants-carte-grise-occasion"
    assert "Voir la fiche Obtenir ou remplacer sa carte Vitale" in [b.label for b in at.button]


def test_stable_links_reopen_the_search_and_the_sheet(db):
    at = AppTest.from_file(APP, default_timeout=30)
    at.query_params["q"] = "carte vitale perdue"
    at.query_params["fiche"] = "ants-carte-grise-occasion"
    at.run()
    assert not at.exception, at.exception
    assert at.text_input(key="q").value == "carte vitale perdue"
    assert h2(CARTE_GRISE) in texts(at)  # the sheet the agent had opened, not the search's answer
    only_sheet = AppTest.from_file(APP, default_timeout=30)
    only_sheet.query_params["fiche"] = "caf-aide-logement"
    only_sheet.run()
    assert "<h2>Demander une aide au logement" in texts(only_sheet)


def test_partner_filter_says_it_is_on_and_offers_to_search_everywhere(db):
    at = start()
    assert at.selectbox(key="partenaire").options == ["Tous les partenaires", "Partenaire : ANTS",
                                                      "Partenaire : Assurance Maladie", "Partenaire : CAF"]
    search(at, "carte vitale perdue")
    at.selectbox(key="partenaire").set_value("cpam").run()
    assert "Filtre actif : seulement les fiches Assurance Maladie." in texts(at)
    at.selectbox(key="partenaire").set_value("caf").run()
    assert "**Aucune fiche pour CAF** avec cette demande — chercher partout ?" in texts(at)
    assert "<h2>Obtenir ou remplacer" not in texts(at)
    at.button(key="everywhere").click().run()
    assert at.selectbox(key="partenaire").value is None
    assert "<h2>Obtenir ou remplacer sa carte Vitale" in texts(at)


def test_the_address_carries_the_partner_by_its_id(db):
    at = search(start(), "carte vitale perdue")
    at.selectbox(key="partenaire").set_value("cpam").run()
    assert at.query_params["partenaire"] == "cpam"  # not its label "Partenaire : Assurance Maladie"
    at.button(key="everywhere").click().run()
    assert "partenaire" not in at.query_params
    link = AppTest.from_file(APP, default_timeout=30)
    link.query_params["q"], link.query_params["partenaire"] = "carte vitale perdue", "CAF"
    link.run()
    assert not link.exception and link.selectbox(key="partenaire").value == "caf"
    assert "**Aucune fiche pour CAF** avec cette demande — chercher partout ?" in texts(link)
    assert link.query_params["partenaire"] == "caf"
    unknown = AppTest.from_file(APP, default_timeout=30)
    unknown.query_params["partenaire"] = "Partenaire : MSA"  # a link of an older version, or a partner gone
    unknown.run()
    assert not unknown.exception and unknown.selectbox(key="partenaire").value is None
    assert "partenaire" not in unknown.query_params


def test_recent_searches_of_the_session(db):
    at = search(start(), "immatriculer un véhicule")
    search(at, "carte vitale perdue")
    assert at.button_group(key="again").options == ["carte vitale perdue", "immatriculer un véhicule"]
    at.button_group(key="again").set_value("immatriculer un véhicule").run()
    assert at.text_input(key="q").value == "immatriculer un véhicule"
    assert h2(CARTE_GRISE) in texts(at)


def test_search_logged_once_per_query_and_masked(db):
    at = search(start(), "immatriculer un véhicule, rappeler au 06 12 34 56 78")
    ticks(at).set_value([0]).run()
    search(at, "carte")
    at.button(key="show-ants-carte-grise-occasion").click().run()
    search(at, "recette de la tarte aux pommes")
    rows = stored(db, "searches")
    assert [(r["query"], r["answer"]) for r in rows] == [
        ("immatriculer un véhicule, rappeler au [TÉLÉPHONE]", "ants-carte-grise-occasion"),
        ("carte", "cpam-carte-vitale"),
        ("recette de la tarte aux pommes", None),
    ]
    assert 0.0 <= rows[2]["confidence"] <= 1.0


def test_personal_data_typed_is_masked_in_the_box_and_the_address(db):
    at = search(start(), "je m'appelle Jean Dupont, 06 12 34 56 78, carte vitale perdue")
    assert at.text_input(key="q").value == "je m'appelle [NOM], [TÉLÉPHONE], carte vitale perdue"
    assert at.query_params["q"] == "je m'appelle [NOM], [TÉLÉPHONE], carte vitale perdue"
    assert "06 12 34 56 78" not in " ".join(texts(at))
    assert h2("Obtenir ou remplacer sa carte Vitale") in texts(at)  # the request itself is still searched


def test_a_link_carrying_personal_data_opens_masked(db):
    at = AppTest.from_file(APP, default_timeout=30)
    at.query_params["q"] = "carte vitale perdue jean.dupont@example.fr"
    at.run()
    assert not at.exception, at.exception
    assert at.text_input(key="q").value == "carte vitale perdue [EMAIL]"
    assert at.query_params["q"] == "carte vitale perdue [EMAIL]"


def test_checklist_starts_empty_for_each_new_search_and_ticks_print_first(db):
    at = search(start(), "immatriculer un véhicule")
    ticks(at).set_value([2]).run()
    assert ticks(at).value == [2]
    [frame] = printed(at)
    assert frame.index("justificatif de domicile") < frame.index("certificat d&amp;#x27;immatriculation")
    search(at, "carte grise d'occasion")
    assert h2(CARTE_GRISE) in texts(at) and ticks(at).value == []


def test_positive_feedback_is_stored(db):
    at = search(start(), "immatriculer un véhicule")
    at.button_group(key="useful-ants-carte-grise-occasion").set_value("yes").run()
    assert "Merci" in at.success[0].value
    [row] = stored(db, "feedback")
    assert (row["query"], row["sheet"], row["useful"], row["reason"]) == (
        "immatriculer un véhicule", "ants-carte-grise-occasion", 1, None)
    assert dt.datetime.fromisoformat(row["ts"]).tzinfo is not None


def test_a_oui_clicked_by_mistake_becomes_a_non(db):
    at = search(start(), "immatriculer un véhicule")
    at.button_group(key="useful-ants-carte-grise-occasion").set_value("yes").run()
    assert [r["useful"] for r in stored(db, "feedback")] == [1]
    at.button(key="correct-ants-carte-grise-occasion").click().run()
    assert not at.exception and not stored(db, "feedback")  # the Oui is taken back
    assert at.button_group(key="useful-ants-carte-grise-occasion").value == "no"
    at.radio(key="reason-ants-carte-grise-occasion").set_value("incomplete")
    at.button(key="send-ants-carte-grise-occasion").click().run()
    [row] = stored(db, "feedback")
    assert (row["useful"], row["reason"]) == (0, "incomplete")
    assert "Merci" in at.success[0].value
    assert not [b for b in at.button if b.key == "correct-ants-carte-grise-occasion"]  # a Non is not corrected


def test_negative_feedback_asks_a_reason_and_the_expected_sheet(db):
    at = search(start(), "carte grise pour 1 85 05 78 006 084 36")
    at.button_group(key="useful-ants-carte-grise-occasion").set_value("no").run()
    assert at.radio(key="reason-ants-carte-grise-occasion").value is None  # nothing preselected
    at.button(key="send-ants-carte-grise-occasion").click().run()
    assert "Choisissez ce qui n'allait pas" in at.error[0].value and not stored(db, "feedback")
    at.radio(key="reason-ants-carte-grise-occasion").set_value("wrong_sheet")
    expected = at.selectbox(key="expected-ants-carte-grise-occasion")
    assert expected.options == ["Demander une aide au logement (APL)", "Obtenir ou remplacer sa carte Vitale"]
    expected.set_value("cpam-carte-vitale")
    at.text_area(key="comment-ants-carte-grise-occasion").input("le tarif a changé, usager joignable au 0612345678")
    at.button(key="send-ants-carte-grise-occasion").click().run()
    assert not at.exception and "Merci" in at.success[0].value
    [row] = stored(db, "feedback")
    assert row["query"] == "carte grise pour [NIR]"
    assert (row["useful"], row["reason"]) == (0, "wrong_sheet")
    assert row["comment"] == "le tarif a changé, usager joignable au [TÉLÉPHONE]"
    with Store(db) as store:
        assert store.expected_sheets() == {row["id"]: "cpam-carte-vitale"}


def test_partner_phone_only_on_that_partners_sheets(tmp_path, monkeypatch):
    amende = (TEST_KB / "ants" / "ants-carte-grise-occasion.md").read_text(encoding="utf-8")
    amende = amende.replace("id: ants-carte-grise-occasion", "id: ants-amende").replace(
        "Immatriculer un véhicule d'occasion", "Payer ou contester une amende")
    kb = copy_kb(tmp_path / "kb", {"ants/ants-amende.md": amende})
    partners = (kb / "partenaires.yaml").read_text(encoding="utf-8")
    (kb / "partenaires.yaml").write_text(partners.replace(
        "  website: https://ants.gouv.fr\n",
        "  website: https://ants.gouv.fr\n  phone: \"34 00\"\n  phone_not_for: [ants-amende]\n"), encoding="utf-8")
    build_index(kb, tmp_path / "index")
    point_app_at(monkeypatch, tmp_path, kb, tmp_path / "index")
    at = AppTest.from_file(APP, default_timeout=30)
    at.query_params["fiche"] = "ants-carte-grise-occasion"
    at.run()
    assert "Ligne ANTS : 34 00</p>" in texts(at)
    at = AppTest.from_file(APP, default_timeout=30)
    at.query_params["fiche"] = "ants-amende"
    at.run()
    assert "<h2>Payer ou contester une amende" in texts(at) and "Ligne ANTS" not in texts(at)


def test_sheet_html_is_shown_as_text_and_old_sheet_warned(tmp_path, monkeypatch):
    kb = copy_kb(tmp_path / "kb", {"caf/caf-prime-naissance.md": HTML_SHEET})
    build_index(kb, tmp_path / "index")
    point_app_at(monkeypatch, tmp_path, kb, tmp_path / "index")
    at = search(start(), "prime à la naissance")
    assert "<h2>Demander la prime à la naissance" in texts(at)
    shown = "".join(blocks(at))
    assert "&lt;script&gt;window.__pwned = 1&lt;/script&gt;" in shown and "<script" not in shown  # text, never run
    assert not any(m.proto.allow_html for m in [*at.markdown, *at.caption])
    assert not any(b.proto.unsafe_allow_javascript for b in at.get("html") if b.proto.body in blocks(at))
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
    assert "<h2>Demander la prime à la naissance" in texts(at)


def test_editors_page_renders(db):
    app = search(start(), "immatriculer un véhicule")
    app.button_group(key="useful-ants-carte-grise-occasion").set_value("no").run()
    app.radio(key="reason-ants-carte-grise-occasion").set_value("incomplete")
    app.button(key="send-ants-carte-grise-occasion").click().run()
    search(app, "recette de la tarte aux pommes")
    at = start(EDITORS_PAGE)
    assert at.title[0].value == "Rédaction des fiches"
    assert [m.label for m in at.metric] == ["Fiches", "À revoir (> 12 mois)", "Erreurs de validation", "Recherches",
                                           "Taux de réponse"]
    assert [m.value for m in at.metric] == ["3", "0", "0", "2", "50\u00a0%"]  # French style: a space before %
    sheets, weak, negative = (at.dataframe[i].value for i in range(3))
    assert list(sheets["Fiche"]) == ["ants-carte-grise-occasion", "caf-aide-logement", "cpam-carte-vitale"]
    assert list(sheets["Index"]) == ["à jour"] * 3
    assert list(sheets["Avis négatifs"]) == [1, 0, 0]
    assert list(weak["Recherche"]) == ["recette de la tarte aux pommes"]
    assert list(weak["Sujet hors champ"]) == [""]
    assert list(negative["Raison"]) == ["incomplète"]
    assert [t.label for t in at.tabs] == ["Fiches", "À traiter (2)", "Sans réponse (1)", "Avis négatifs (1)",
                                          "Activité", "Aperçu d'une fiche", "Votre site"]
    charts = at.get("vega_lite_chart")
    assert len(charts) == 3  # searches per day, answer rate, top sheets
    assert all('"labelLimit": 0' in c.proto.spec for c in charts)  # long sheet titles are never cut
    exported = [d.proto.label for d in at.get("download_button")]
    assert exported == ["Exporter les recherches (CSV)", "Exporter les avis (CSV)"]  # through assistant/exports.py


def test_editors_worklist_items_can_be_marked_handled(db):
    app = search(start(), "immatriculer un véhicule")
    app.button_group(key="useful-ants-carte-grise-occasion").set_value("no").run()
    app.radio(key="reason-ants-carte-grise-occasion").set_value("wrong_sheet")
    app.selectbox(key="expected-ants-carte-grise-occasion").set_value("cpam-carte-vitale")
    app.button(key="send-ants-carte-grise-occasion").click().run()
    search(app, "recette de la tarte aux pommes")
    at = start(EDITORS_PAGE)
    shown = texts(at)
    assert "**« immatriculer un véhicule » → Immatriculer un véhicule d'occasion**" in shown
    assert "aurait dû sortir : « Obtenir ou remplacer sa carte Vitale »" in shown
    assert "Sans réponse · 1 fois" in shown
    handled = [b for b in at.button if b.key.startswith("handled-")]
    assert [b.label for b in handled] == ["Marquer comme traité"] * 2
    handled[0].click().run()
    assert at.tabs[1].label == "À traiter (1)"
    assert "immatriculer un véhicule » →" not in texts(at)


def test_editors_preview_a_sheet_before_rebuild(tmp_path, kb, db):
    (kb / "caf" / "caf-prime-naissance.md").write_text(HTML_SHEET, encoding="utf-8")
    at = start(EDITORS_PAGE)
    preview = at.selectbox(key="preview")
    preview.set_value(str(kb / "caf" / "caf-prime-naissance.md")).run()
    shown = texts(at)
    assert "<h2>Demander la prime à la naissance" in shown  # the card as agents will see it, not yet served
    assert "HTML brut" in at.code[-1].value  # with its validation problems


def test_editors_set_the_site_printed_for_citizens(tmp_path, db, monkeypatch):
    monkeypatch.setenv("ASSISTANT_SITE", str(tmp_path / "data" / "site.toml"))
    at = start(EDITORS_PAGE)
    assert "Coordonnées non renseignées" in at.warning[0].value
    at.text_input(key="site-name").input("France Services de Saint-Martin")
    at.text_input(key="site-address").input("2 place de la Mairie")
    at.text_input(key="site-phone").input("01 23 45 67 89")
    at.text_input(key="site-hours").input("Lundi au vendredi, 9 h – 17 h")
    at.button(key="FormSubmitter:site-Enregistrer les coordonnées").click().run()
    assert "Coordonnées enregistrées" in at.success[-1].value
    app = search(start(), "immatriculer un véhicule")
    [frame] = printed(app)
    assert "France Services de Saint-Martin" in frame and "01 23 45 67 89" in frame


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
    partners["ants"]["phone_not_for"] = ["ants-amende"]
    assert partner_contact(partners, "ants", "ants-amende") is None
    assert partner_contact(partners, "ants", "ants-passeport") == "Ligne ANTS : 34 00"
    partners["msa"] |= {"phone": "01", "phone_not_for": "msa-x"}
    assert partner_contact(partners, "msa", "msa-x") == "Voir msa.fr."
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


def test_search_page_runs_take_turns_one_per_core(db, tmp_path, monkeypatch):
    import streamlit as st

    from assistant import resources

    monkeypatch.setenv("ASSISTANT_CONCURRENT_SEARCHES", "1")
    st.cache_resource.clear()
    turn = resources.turn()
    assert turn is resources.turn()  # one for every session of the process
    with turn:
        assert not turn.acquire(blocking=False)  # a second run waits for the first
    at = search(start(), "carte grise occasion")  # the page takes and gives back its turn
    assert blocks(at) and turn.acquire(blocking=False)
    try:  # every turn taken: what needs none still runs
        runs_at_once(lambda: at.switch_page("pages/1_Rédaction.py").run())  # editors' long actions hold none
        assert not at.exception and at.title[0].value == "Rédaction des fiches"
        monkeypatch.setenv("INDEXER_INDEX", str(tmp_path / "nowhere"))  # (point_app_at would clear the turns)
        unusable = AppTest.from_file(APP, default_timeout=30)
        runs_at_once(unusable.run)  # an unusable resource is said at once, not after everyone's turn
        assert "Aucun index de recherche" in unusable.error[0].value
    finally:
        turn.release()
    st.cache_resource.clear()


def runs_at_once(run) -> None:
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(60)
    assert not thread.is_alive(), "la page attend un tour de recherche"


def test_card_html_escapes_content_titles_and_links():
    from assistant import cardhtml, glance
    from assistant.card import candidates_html
    from indexer.search import Hit

    rendered = cardhtml.markdown("<script>alert(1)</script> <img src=x onerror=alert(2)> **gras** "
                                 "[lien](javascript:alert(3)) [page](https://www.service-public.fr/x)\n\n## Titre")
    assert "<script" not in rendered and "<img" not in rendered and "&lt;script&gt;" in rendered
    assert 'href="javascript' not in rendered and "<strong>gras</strong>" in rendered
    assert '<a href="https://www.service-public.fr/x" target="_blank" rel="noopener noreferrer">page</a>' in rendered
    assert "<h5>Titre</h5>" in rendered  # a sheet's own headings stay under the card's h2 and h3
    assert cardhtml.heading('<b onmouseover="x">T</b>', 2) == "<h2>&lt;b onmouseover=&quot;x&quot;&gt;T&lt;/b&gt;</h2>"
    assert cardhtml.badge("A<b>", "blue", 'x" onclick="y') == \
        '<span class="fs-badge fs-blue" title="x&quot; onclick=&quot;y">A&lt;b&gt;</span>'
    assert cardhtml.link("javascript:alert(1)", "<clic>") == "&lt;clic&gt;"  # only http(s) addresses are links
    hit = Hit(id="x", title="<i>Titre</i>", partner="ants", score=1.0, section="", passage="<script>p</script>")
    shown = candidates_html([hit], {}, "Autres <fiches>")
    assert "<script" not in shown and "<i>" not in shown and "&lt;i&gt;Titre&lt;/i&gt;" in shown
    assert "<h2>Autres &lt;fiches&gt;</h2>" in shown
    # Situation words are marked in the text only: never inside a tag, a link or an entity.
    marked = glance.highlight_html('<p>Véhicule hérité, <a href="/hérité">hérité</a> &amp; hérité</p>', {"herite"})
    assert marked == ('<p>Véhicule <mark>hérité</mark>, <a href="/hérité">hérité</a> &amp; '
                      "<mark>hérité</mark></p>")


def test_warming_prepares_every_sheets_card_and_changes_none(tmp_path, kb):
    from assistant import card
    from indexer.searcher import Searcher

    build_index(kb, tmp_path / "index")
    searcher = Searcher(tmp_path / "index")
    sheets = searcher.sheets()
    titles = {s.id: s.title for s in sheets}
    asked = card.View(searcher.partners(), 1, None, {"hérité", "véhicule"}, None, titles)
    card._FRAMES.clear()
    card._rendered.cache_clear()
    cold = [(card.main_html(s, asked), card.essentials_html(s, asked)) for s in sheets]
    card._FRAMES.clear()
    card._rendered.cache_clear()
    assert card.warm(sheets, card.View(searcher.partners(), 0, None, set(), None, titles)) == len(sheets)
    assert {key[0] for key in card._FRAMES} == set(titles)  # every sheet's print frame, no ticks
    hits = card._rendered.cache_info().hits
    assert [(card.main_html(s, asked), card.essentials_html(s, asked)) for s in sheets] == cold
    assert card._rendered.cache_info().hits > hits  # the warmed HTML served the cards


def test_an_official_fiche_cited_by_its_id_is_a_link_on_the_card():
    from assistant.card import _rendered

    shown = _rendered("- Contre-visite : délai plus court (voir la fiche F1050).", ())
    assert ('voir la fiche <a href="https://www.service-public.fr/particuliers/vosdroits/F1050" target="_blank" '
            'rel="noopener noreferrer">F1050</a>') in shown
    linked = _rendered("[fiche F12](https://example.org/page)", ())  # a mention that is a link already stays one
    assert linked.count("<a ") == 1 and 'href="https://example.org/page"' in linked and "vosdroits" not in linked


def test_a_link_to_a_sheet_that_does_not_exist_says_so(db):
    at = AppTest.from_file(APP, default_timeout=30)
    at.query_params["fiche"] = "[piege](https://exemple.invalid)"
    at.run()
    assert not at.exception, at.exception
    assert [w.value for w in at.warning] == [
        "La fiche de ce lien n'existe pas (ou plus) dans cette base : cherchez la démarche."]  # the id is not echoed
    assert "fiche" not in at.query_params
