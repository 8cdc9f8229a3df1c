"""Regenerate the README's screenshots at 1366×768 on the real index, in Debian's chromium:

- docs/screenshot.png: the counter-sheet card for « carte grise d'occasion » (first screen, no scrolling);
- docs/screenshot-gap.png: a request with no sheet, « faire une procuration de vote » (where to direct, print);
- docs/screenshot-print.png: the page printed for the citizen from that card, two documents ticked on screen;
- docs/screenshot-fiche.png: an official-fiche card, « renouveler mon titre de séjour », on a copy of `index/` with
  the test fixtures of tests/data/fiches imported (fiches in the official format, written in the project's own words:
  the official feed is the deployer's data and is never copied here).

Same recipe as tests/test_browser.py (real server), but over `index/` built with the default model
(`python -m indexer rebuild`). Searches go to a throw-away database, and the site's details are placeholders
naming each field (a real site sets them once on the editors' page).

    python docs/screenshot.py
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from app_support import CHROMIUM, CHROMIUM_ARGS, streamlit_server  # noqa: E402
from assistant.site import Site, save_site  # noqa: E402

VIEWPORT = {"width": 1366, "height": 768}
A4 = {"width": 794, "height": 1123}  # 210 × 297 mm at 96 px per inch
QUERY = "carte grise d'occasion"
GAP_QUERY = "faire une procuration de vote"
FICHE_QUERY = "renouveler mon titre de séjour"
SITE = Site("France Services (exemple de configuration)", "Adresse du site, code postal, commune",
            "Téléphone du site", "Jours et horaires d'ouverture du site")


@contextlib.contextmanager
def app_browser(index: Path, tmp: str):
    """A server on `index` (throw-away database, placeholder site) and chromium at 1366×768: (browser, page, box)."""
    from playwright.sync_api import sync_playwright

    save_site(SITE, Path(tmp) / "site.toml")
    env = {"INDEXER_INDEX": str(index), "INDEXER_KB": str(ROOT / "kb"), "ASSISTANT_SITE": str(Path(tmp) / "site.toml"),
           "ASSISTANT_DB": str(Path(tmp) / "assistant.sqlite")}
    with streamlit_server(env, Path(tmp) / "streamlit.log", timeout=120) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport=VIEWPORT)
            page.set_default_timeout(120_000)  # the first page load brings the model into memory
            page.goto(url)
            yield browser, page, page.get_by_label("Rechercher une démarche")
        finally:
            browser.close()


def main() -> int:
    from playwright.sync_api import expect

    index = ROOT / "index"
    if not (index / "CURRENT").exists():
        print("pas d'index : lancer « python -m indexer rebuild » d'abord", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as tmp, app_browser(index, tmp) as (browser, page, box):
        box.fill(QUERY)
        box.press("Enter")
        expect(page.get_by_role("heading", level=2, name="Immatriculer un véhicule d'occasion",
                                exact=False)).to_be_visible()
        pills = page.locator("[data-testid=stButtonGroup]").filter(has_text="Code de cession").get_by_role("button")
        for n in (0, 2):  # two documents ticked: they print first
            pills.nth(n).click()
            page.wait_for_timeout(600)
        page.mouse.wheel(0, -5000)
        page.wait_for_timeout(1000)  # let fonts, icons and the print frame settle
        page.screenshot(path=str(ROOT / "docs" / "screenshot.png"))
        printed = page.frame_locator('iframe[title="Imprimer pour l\'usager"]').locator("#page")
        handout = printed.get_attribute("srcdoc")

        box.fill(GAP_QUERY)
        box.press("Enter")
        expect(page.get_by_text("Pas de fiche pour ce sujet").first).to_be_visible()
        page.wait_for_timeout(1000)
        page.screenshot(path=str(ROOT / "docs" / "screenshot-gap.png"))

        sheet = browser.new_page(viewport=A4)
        sheet.set_content(handout)
        sheet.emulate_media(media="print")
        sheet.screenshot(path=str(ROOT / "docs" / "screenshot-print.png"), full_page=True)
    fiche_screenshot(index)
    print("écrit : docs/screenshot.png, docs/screenshot-gap.png, docs/screenshot-print.png, docs/screenshot-fiche.png")
    return 0


def fiche_screenshot(index: Path) -> None:
    """The card of an official fiche, on a copy of the index with the test fixtures imported as the second tier."""
    from playwright.sync_api import expect

    with tempfile.TemporaryDirectory() as tmp:
        copy, fiches = Path(tmp) / "index", Path(tmp) / "fiches"
        shutil.copytree(index, copy, symlinks=True)
        subprocess.run([sys.executable, "-m", "indexer", "import-fiches", str(ROOT / "tests" / "data" / "fiches"),
                        "--index", str(copy), "--fiches", str(fiches), "--kb", str(ROOT / "kb")], check=True,
                       cwd=ROOT)
        with app_browser(copy, tmp) as (_, page, box):
            box.fill(FICHE_QUERY)
            box.press("Enter")
            expect(page.get_by_text("Fiche officielle service-public.fr").first).to_be_visible()
            page.wait_for_timeout(1500)
            page.screenshot(path=str(ROOT / "docs" / "screenshot-fiche.png"))


if __name__ == "__main__":
    sys.exit(main())
