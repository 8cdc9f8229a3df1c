"""The citizen's printable page and the site settings it prints: complete, self-contained, escaped. Pure."""

import datetime as dt

import pytest
from indexer.search import Hit
from indexer.sheets import parse_sheet

from app_support import HTML_SHEET, TEST_KB
from assistant import glance
from assistant.handout import fallback_html, handout_html, print_button, qr_svg
from assistant.sheetinfo import plain
from assistant.site import Site, SiteError, load_site, save_site

TODAY = dt.date(2026, 11, 26)
SITE = Site("France Services de Saint-Martin", "2 place de la Mairie, 00000 Saint-Martin", "01 23 45 67 89",
            "Lundi au vendredi, 9 h – 12 h")


def sheet_from(text, path="kb/caf/caf-prime-naissance.md"):
    sheet, problems = parse_sheet(text, path, today=TODAY)
    assert sheet is not None, problems
    return sheet


def carte_grise():
    path = TEST_KB / "ants" / "ants-carte-grise-occasion.md"
    return sheet_from(path.read_text(encoding="utf-8"), "kb/ants/ants-carte-grise-occasion.md")


def test_speaks_to_the_citizen_with_documents_cost_delays_online_service_and_site():
    page = handout_html(carte_grise(), "Agence nationale des titres sécurisés (ANTS)", TODAY, site=SITE)
    assert "<h1>Immatriculer un véhicule d&#x27;occasion</h1>" in page
    for heading in ("Votre démarche en bref", "Les documents à apporter", "Combien cela vous coûte",
                    "Les délais à connaître", "Faire la démarche en ligne", "Votre France Services"):
        assert f"<h2>{heading}</h2>" in page
    assert page.count("☐") == 3 and "☑" not in page
    assert "Le code de cession remis par le vendeur</li>" in page
    assert 'href="https://immatriculation.ants.gouv.fr"' in page and "<svg" in page  # QR code, drawn inline
    for value in ("France Services de Saint-Martin", "2 place de la Mairie", "01 23 45 67 89", "9 h – 12 h"):
        assert value in page
    assert "<i></i>" not in page  # no blanks to fill by hand
    assert "imprimé le 26 novembre 2026" in page and "vérifiées le 1er novembre 2026" in page


def test_documents_ticked_on_screen_come_first():
    page = handout_html(carte_grise(), None, TODAY, ticked=[2])
    assert page.count("☑") == 2  # the legend and the ticked document
    assert page.index("Un justificatif de domicile") < page.index("Le certificat d&#x27;immatriculation")


def test_without_site_settings_no_blank_fields_but_where_to_come_back():
    page = handout_html(carte_grise(), None, TODAY, site=Site())
    assert "Votre France Services" not in page and "Revenez vers votre espace France Services" in page


def test_no_answer_page_says_where_to_go():
    page = fallback_html("<b>carte de séjour</b> étudiant", "Préfecture ou ANEF.", SITE, TODAY)
    assert "Où vous adresser" in page and "Préfecture ou ANEF." in page and "01 23 45 67 89" in page
    assert "&lt;b&gt;carte de séjour&lt;/b&gt;" in page
    assert "La suite" in fallback_html("recette de la tarte", None, None, TODAY)


def test_is_self_contained_and_printable():
    page = handout_html(carte_grise(), None, TODAY, site=SITE)
    assert "@media print" in page and "@page" in page and 'lang="fr"' in page
    assert "<script" not in page.lower()
    assert "src=" not in page and "<link" not in page and "@import" not in page
    assert page.count("http://") == page.count('xmlns="http://www.w3.org/2000/svg"')  # only the SVG namespace


def test_qr_code_is_a_real_svg():
    svg = qr_svg("https://immatriculation.ants.gouv.fr")
    assert svg.startswith("<svg") and "<path" in svg and 'aria-label="QR code du service en ligne"' in svg
    assert qr_svg("https://a.fr/x") != qr_svg("https://a.fr/y")


def test_print_button_holds_the_page_escaped():
    button = print_button("<p>\"x\" & y</p>", "Imprimer pour l'usager")
    assert 'srcdoc="&lt;p&gt;&quot;x&quot; &amp; y&lt;/p&gt;"' in button
    assert ".print()" in button and "Imprimer pour l&#x27;usager</button>" in button


def test_escapes_sheet_content():
    page = handout_html(sheet_from(HTML_SHEET), "CAF", TODAY)
    assert "<script" not in page.lower() and "<img" not in page.lower() and "<b>" not in page
    assert "&lt;img src=x onerror=&quot;window.__pwned = 2&quot;&gt;" in page
    assert "&lt;b&gt;avant&lt;/b&gt;" not in page  # steps are the agent's, not printed
    assert "&lt;script&gt;window.__pwned = 1&lt;/script&gt;" in page


def test_markdown_is_reduced_to_words():
    text = HTML_SHEET.replace("- Déclaration de grossesse", "- **Déclaration** de [grossesse](https://www.ameli.fr/x)")
    page = handout_html(sheet_from(text), "CAF", TODAY)
    assert "Déclaration de grossesse (https://www.ameli.fr/x)" in page
    assert "**" not in page


def test_plain_keeps_identifiers_and_lone_stars():
    text = "window.__pwned et 2 * 3, **gras**, *italique*, `code`"
    assert plain(text) == "window.__pwned et 2 * 3, gras, italique, code"


def test_site_settings_round_trip_and_errors(tmp_path):
    path = tmp_path / "data" / "site.toml"
    assert load_site(path) == Site() and not Site().configured
    save_site(Site('France Services "Centre"', "1 rue\\n  de la Gare", "01 02", ""), path)
    site = load_site(path)
    assert site.name == 'France Services "Centre"' and site.address == "1 rue\\n de la Gare".replace("\\n ", "\\n ")
    assert site.lines()[-1] == ("Téléphone", "01 02")  # empty hours are not printed
    path.write_text('name = "A"\ntelephone = "01"\n', encoding="utf-8")
    with pytest.raises(SiteError, match=r"site.toml:2: champ inconnu « telephone »"):
        load_site(path)
    path.write_text('name = "A\n', encoding="utf-8")
    with pytest.raises(SiteError, match=r"TOML invalide.*line 1"):
        load_site(path)
    path.write_text("name = 3\n", encoding="utf-8")
    with pytest.raises(SiteError, match=r"site.toml:1: « name » doit être un texte"):
        load_site(path)


def hit(sheet_id, score):
    """`score` on a scale where a sheet first in every ranking scores 0.433, put on the shipped fusion's scale."""
    return Hit(sheet_id, sheet_id, "ants", score * glance.TOP / 0.433, "", "")


def test_trust_needs_confidence_score_and_lead():
    assert glance.trust(0.9, 0.25, [hit("a", 0.43), hit("b", 0.25)]).label == "Réponse sûre"
    assert glance.trust(0.30, 0.25, [hit("a", 0.43), hit("b", 0.25)]).label == "À vérifier"  # barely answered
    assert glance.trust(0.96, 0.25, [hit("a", 0.31), hit("b", 0.15)]).label == "À vérifier"  # weak own score
    assert glance.trust(0.9, 0.25, [hit("a", 0.40), hit("b", 0.37)]).label == "À vérifier"  # a close second


def test_close_pair_and_plausible_candidates():
    close = [hit("neuf", 0.40), hit("occasion", 0.37), hit("cession", 0.20)]
    assert [h.id for h in glance.close_pair(close, "neuf")] == ["neuf", "occasion"]
    assert glance.close_pair([hit("a", 0.43), hit("b", 0.30)], "a") == []
    assert glance.close_pair(close, None) == []
    assert [h.id for h in glance.plausible(close)] == ["neuf", "occasion"]
    assert glance.plausible([hit("x", 0.06), hit("y", 0.05)]) == []


def test_an_official_fiche_is_never_paired_with_a_sheet_and_keeps_the_place_the_policy_gave_it():
    cited = Hit("F1050", "Carte grise d'occasion", "service-public", 0.0, "", "", "fiche")  # scored on another scale
    close = Hit("F2", "Autre fiche", "service-public", 0.39, "", "", "fiche")
    assert glance.close_pair([hit("a", 0.40), close], "a") == []
    assert [h.id for h in glance.plausible([hit("a", 0.40), cited, hit("z", 0.05)])] == ["a", "F1050"]


def test_highlight_situation_words_outside_links_and_code():
    stems = glance.situation_words("carte grise voiture héritée de mon père", "Immatriculer un véhicule")
    text = "Véhicule hérité : voir [le père](https://x.fr/heritage) et `hérité`. Héritage du père."
    marked = glance.highlight(text, stems)
    assert marked.startswith("Véhicule :orange-background[hérité] :")
    assert "[le père](https://x.fr/heritage)" in marked and "`hérité`" in marked
    assert ":orange-background[père]." in marked
    assert glance.mentions("le père", stems) and not glance.mentions("[père](https://x.fr)", stems)
    assert glance.highlight(text, set()) == text


def test_links_between_sheets():
    titles = {"msa-espace-prive": "Créer et utiliser son espace privé MSA",
              "cpam-compte-ameli": "Créer son compte ameli"}
    text = "créez-le : voir la fiche « espace privé MSA ») ; fiche « Créer son compte ameli » ; fiche « Passeport »"
    linked = glance.link_sheets(text, titles, lambda sid: f"?fiche={sid}")
    assert "fiche « [espace privé MSA](?fiche=msa-espace-prive) »" in linked
    assert "[Créer son compte ameli](?fiche=cpam-compte-ameli)" in linked
    assert "fiche « Passeport »" in linked  # no such sheet: stays text


def test_summary_and_blocks():
    lines, rest = glance.summary("Intro :\n\n- un\n- deux\n  suite\n- trois", items=2, limit=200)
    assert lines == ["Intro :", "un"] and rest == 2
    assert glance.blocks("- deux\n  suite") == [("item", "deux suite")]
    assert glance.shorten("un deux trois quatre", 12) == "un deux …"


def test_an_official_fiche_cited_by_its_id_says_where_it_is():
    text = (TEST_KB / "ants" / "ants-carte-grise-occasion.md").read_text(encoding="utf-8").replace(
        "## Délais\n", "## Délais\n- Contre-visite : délai plus court (voir la fiche F1050).\n"
        "- Autre cas : sur la fiche F2686 de service-public.fr.\n", 1)
    page = handout_html(sheet_from(text, "kb/ants/ants-carte-grise-occasion.md"), "ANTS", TODAY)
    assert "(voir la fiche F1050 sur service-public.fr)" in page  # the id alone means nothing to the citizen
    assert "sur la fiche F2686 de service-public.fr." in page  # said already: unchanged
