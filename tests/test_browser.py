"""End to end: the real Streamlit server in Debian's chromium, driven by playwright, over a tiny hash index."""

import os
from pathlib import Path

import pytest

from app_support import CHROMIUM, CHROMIUM_ARGS, HTML_SHEET, build_index, copy_kb, streamlit_server

pytestmark = pytest.mark.browser


@pytest.fixture
def chromium():
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} absent : la CI doit installer chromium (make browser)")
        pytest.skip(f"{CHROMIUM} absent")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def test_search_in_a_real_browser(tmp_path, chromium):
    from playwright.sync_api import expect

    kb = copy_kb(tmp_path / "kb", {"caf/caf-prime-naissance.md": HTML_SHEET})
    build_index(kb, tmp_path / "index")
    env = {"INDEXER_INDEX": str(tmp_path / "index"), "INDEXER_KB": str(kb),
           "ASSISTANT_DB": str(tmp_path / "data" / "assistant.sqlite")}
    with streamlit_server(env, tmp_path / "streamlit.log") as url:
        page = chromium.new_page(viewport={"width": 1280, "height": 1000})
        page.set_default_timeout(30_000)
        page.goto(url)
        box = page.get_by_label("Rechercher une démarche")
        expect(box).to_be_focused()  # the agent types straight away

        page.keyboard.type("immatriculer un véhicule")
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", name="Immatriculer un véhicule d'occasion")).to_be_visible()
        expect(page.get_by_role("heading", name="Étapes")).to_be_visible()
        expect(page.get_by_text("Se connecter au site de l'ANTS.")).to_be_visible()
        expect(page.get_by_role("heading", name="Pièces à fournir")).to_be_visible()
        expect(page.get_by_text("Le code de cession remis par le vendeur")).to_be_visible()

        box.fill("prime à la naissance")
        box.press("Enter")
        # .first: while Streamlit reruns, the previous render can still be on the page next to the new one
        expect(page.get_by_text("<script>window.__pwned = 1</script>", exact=False).first).to_be_visible()
        assert page.evaluate("window.__pwned") is None  # sheet HTML is shown, never run

        box.fill("recette de la tarte aux pommes")
        box.press("Enter")
        expect(page.get_by_text("Aucune fiche ne correspond")).to_be_visible()
