"""How many A4 pages the citizen's printed page takes, for every sheet of kb/ (all documents ticked, a site set),
printed by Debian's chromium as the browser would. tests/test_browser.py asserts the same limits.

    python docs/print_pages.py
"""

from __future__ import annotations

import re
import statistics
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from app_support import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from assistant.handout import handout_html  # noqa: E402
from assistant.site import Site  # noqa: E402
from indexer.kb import load_kb  # noqa: E402

SITE = Site("France Services de Saint-Martin", "2 place de la Mairie, 00000 Saint-Martin", "01 23 45 67 89",
            "Lundi au vendredi, 9 h – 12 h et 14 h – 17 h")


def main() -> int:
    from playwright.sync_api import sync_playwright

    kb = load_kb(ROOT / "kb")
    pages = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        tab = browser.new_page()
        for sheet in kb.sheets:
            tab.set_content(handout_html(sheet, kb.partners.get(sheet.partner, {}).get("name"), site=SITE,
                                         ticked=range(len(sheet.documents))))
            pages[sheet.id] = len(re.findall(rb"/Type\s*/Page(?!s)", tab.pdf(format="A4", prefer_css_page_size=True)))
        browser.close()
    counts = Counter(pages.values())
    print(f"{len(pages)} fiches : " + ", ".join(f"{counts[n]} sur {n} page(s)" for n in sorted(counts))
          + f" ; médiane {statistics.median(pages.values()):g}, maximum {max(pages.values())}")
    print("sur 2 pages : " + ", ".join(sorted(k for k, v in pages.items() if v > 1)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
