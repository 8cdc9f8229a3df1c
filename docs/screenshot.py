"""Regenerate docs/screenshot.png (the answer card for « immatriculer un véhicule ») and docs/screenshot-gap.png (a
request with no sheet, « faire une procuration de vote » : where to direct) on the real index.

Same recipe as tests/test_browser.py (real server, Debian's chromium), but over `index/` built with the default
model (`python -m indexer rebuild`). The searches it makes go to a throw-away database, not data/.

    python docs/screenshot.py
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from app_support import CHROMIUM, CHROMIUM_ARGS, streamlit_server  # noqa: E402

QUERY = "immatriculer un véhicule"
OUTPUT = ROOT / "docs" / "screenshot.png"
GAP_QUERY = "faire une procuration de vote"
GAP_OUTPUT = ROOT / "docs" / "screenshot-gap.png"


def main() -> int:
    from playwright.sync_api import expect, sync_playwright

    index = ROOT / "index"
    if not (index / "CURRENT").exists():
        print("pas d'index : lancer « python -m indexer rebuild » d'abord", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        env = {"INDEXER_INDEX": str(index), "INDEXER_KB": str(ROOT / "kb"),
               "ASSISTANT_DB": str(Path(tmp) / "assistant.sqlite")}
        with streamlit_server(env, Path(tmp) / "streamlit.log", timeout=120) as url, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                page = browser.new_page(viewport={"width": 1280, "height": 1600})
                page.set_default_timeout(120_000)  # the first page load brings the model into memory
                page.goto(url)
                box = page.get_by_label("Rechercher une démarche")
                box.fill(QUERY)
                box.press("Enter")
                expect(page.get_by_role("heading", name="Pièces à fournir")).to_be_visible()
                expect(page.get_by_text("Cette fiche m'a permis de répondre ?")).to_be_visible()
                page.wait_for_timeout(800)  # let fonts and icons settle
                page.screenshot(path=str(OUTPUT))
                box.fill(GAP_QUERY)
                box.press("Enter")
                expect(page.get_by_text("Pas de fiche pour ce sujet").first).to_be_visible()
                page.wait_for_timeout(800)
                page.set_viewport_size({"width": 1280, "height": 900})
                page.screenshot(path=str(GAP_OUTPUT))
            finally:
                browser.close()
    print(f"écrit : {OUTPUT.relative_to(ROOT)}, {GAP_OUTPUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
