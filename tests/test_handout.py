"""The citizen's printable page: complete, self-contained, and sheet content escaped."""

import datetime as dt

from indexer.sheets import parse_sheet

from app_support import HTML_SHEET, TEST_KB
from assistant.handout import handout_html
from assistant.sheetinfo import plain

TODAY = dt.date(2026, 11, 26)


def sheet_from(text, path="kb/caf/caf-prime-naissance.md"):
    sheet, problems = parse_sheet(text, path, today=TODAY)
    assert sheet is not None, problems
    return sheet


def carte_grise():
    path = TEST_KB / "ants" / "ants-carte-grise-occasion.md"
    return sheet_from(path.read_text(encoding="utf-8"), "kb/ants/ants-carte-grise-occasion.md")


def test_has_title_documents_steps_online_service_and_site_block():
    page = handout_html(carte_grise(), "Agence nationale des titres sécurisés (ANTS)", TODAY)
    assert "<h1>Immatriculer un véhicule d&#x27;occasion</h1>" in page
    assert page.count("☐") == 3
    assert "<li><span class=\"box\">☐</span>Le code de cession remis par le vendeur</li>" in page
    assert page.count("<ol>") == 1 and "Saisir le code de cession et payer en ligne." in page
    assert 'href="https://immatriculation.ants.gouv.fr"' in page
    for field in ("Nom du site France Services", "Adresse", "Téléphone", "Agent", "Date"):
        assert f"<span>{field} :</span><i></i>" in page
    assert "imprimée le 26 novembre 2026" in page and "mise à jour le 1er novembre 2026" in page


def test_is_self_contained_and_printable():
    page = handout_html(carte_grise(), None, TODAY)
    assert "@media print" in page and "@page" in page
    assert "<script" not in page.lower()
    assert "src=" not in page and "<link" not in page and "@import" not in page


def test_escapes_sheet_content():
    page = handout_html(sheet_from(HTML_SHEET), "CAF", TODAY)
    assert "<script" not in page.lower() and "<img" not in page.lower() and "<b>" not in page
    assert "&lt;img src=x onerror=&quot;window.__pwned = 2&quot;&gt;" in page
    assert "&lt;b&gt;avant&lt;/b&gt;" in page


def test_markdown_is_reduced_to_words():
    text = HTML_SHEET.replace("- Déclaration de grossesse", "- **Déclaration** de [grossesse](https://www.ameli.fr/x)")
    page = handout_html(sheet_from(text), "CAF", TODAY)
    assert "Déclaration de grossesse (https://www.ameli.fr/x)" in page
    assert "**" not in page


def test_plain_keeps_identifiers_and_lone_stars():
    text = "window.__pwned et 2 * 3, **gras**, *italique*, `code`"
    assert plain(text) == "window.__pwned et 2 * 3, gras, italique, code"
