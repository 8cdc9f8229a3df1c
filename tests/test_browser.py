"""End to end in Debian's chromium (playwright): one Streamlit server for the module, over a tiny hash index.

The counter's rules checked where they matter, in a real browser at 1366×768: the essentials on the first screen,
French everywhere (widgets included), lang="fr", nothing fetched from outside 127.0.0.1, keyboard only from the
query to the print, axe-core without serious or critical violations, and every sheet of kb/ printing on at most two
A4 pages (one for most).
"""

import os
import re
import statistics
from pathlib import Path

import pytest
from indexer.kb import load_kb

from app_support import CHROMIUM, HTML_SHEET, ROOT, build_index, chromium_browser, copy_kb, streamlit_server
from assistant.handout import handout_html
from assistant.site import Site, save_site

pytestmark = pytest.mark.browser
AXE = ROOT / ".cache" / "axe" / "node_modules" / "axe-core" / "axe.min.js"  # installed by `make axe`
VIEWPORT = {"width": 1366, "height": 768}
SEARCH = "Rechercher une démarche"
CARTE_GRISE = "Immatriculer un véhicule d'occasion"
ENGLISH = ("Choose an option", "Press Enter to apply", "No results", "Running...", "Select all", "Clear all",
           "Press Enter", "Search", "Stop", "Deploy", "Made with Streamlit", "Open", "Close", "Clear", "Settings",
           "Scroll tabs")
SITE = Site("France Services de Saint-Martin", "2 place de la Mairie, 00000 Saint-Martin", "01 23 45 67 89",
            "Lundi au vendredi, 9 h – 12 h et 14 h – 17 h")


# What a person perceives: text outside aria-hidden parts (icon ligatures such as "search" are hidden), and the
# placeholders, accessible names and tooltips.
SHOWN_TEXT = """() => {
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    const parts = [];
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
        const parent = n.parentElement;
        if (parent && !parent.closest('[aria-hidden="true"], script, style, template')) parts.push(n.nodeValue);
    }
    for (const e of document.querySelectorAll("[placeholder],[aria-label],[title]"))
        for (const a of ["placeholder", "aria-label", "title"]) if (e.getAttribute(a)) parts.push(e.getAttribute(a));
    return parts.join(" ");
}"""


def needed(path: Path, what: str) -> None:
    if not path.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{path} absent : la CI doit installer {what}")
        pytest.skip(f"{path} absent ({what})")


@pytest.fixture(scope="module")
def browser():
    needed(Path(CHROMIUM), "chromium (make browser)")
    with chromium_browser() as launched:
        yield launched


@pytest.fixture(scope="module")
def server(tmp_path_factory, browser):
    tmp = tmp_path_factory.mktemp("app")
    kb = copy_kb(tmp / "kb", {"caf/caf-prime-naissance.md": HTML_SHEET})
    build_index(kb, tmp / "index")
    save_site(SITE, tmp / "site.toml")
    env = {"INDEXER_INDEX": str(tmp / "index"), "INDEXER_KB": str(kb), "ASSISTANT_SITE": str(tmp / "site.toml"),
           "ASSISTANT_DB": str(tmp / "data" / "assistant.sqlite")}
    with streamlit_server(env, tmp / "streamlit.log") as url:
        yield url


@pytest.fixture
def page(browser, server):
    """A fresh page at 1366×768 that records every request leaving 127.0.0.1."""
    context = browser.new_context(viewport=VIEWPORT, locale="fr-FR")
    tab = context.new_page()
    tab.set_default_timeout(30_000)
    tab.outside = []
    tab.on("request", lambda r: None if re.match(r"^(http://127\.0\.0\.1[:/]|data:|blob:|about:)", r.url)
           else tab.outside.append(r.url))
    tab.goto(server)
    tab.get_by_label(SEARCH).wait_for()
    tab.wait_for_function("document.documentElement.lang === 'fr'")  # the page's script and style are in
    yield tab
    context.close()


def ask(page, query: str):
    box = page.get_by_label(SEARCH)
    box.fill(query)
    box.press("Enter")
    return box


def card_shown(page, title: str):
    from playwright.sync_api import expect

    expect(page.get_by_role("heading", level=2, name=title)).to_be_visible()
    page.wait_for_timeout(300)  # the print frame loads its page


def settled(page) -> None:
    """Streamlit has finished the run: no element is shown faded as stale (axe would measure the fade)."""
    page.wait_for_function("""() => {
        const app = document.querySelector("[data-test-script-state]");
        return app && app.getAttribute("data-test-script-state") === "notRunning"
            && !document.querySelector('[data-stale="true"]');
    }""")
    page.wait_for_timeout(200)


def axe_violations(page) -> list[str]:
    settled(page)
    page.add_script_tag(path=str(AXE))
    found = page.evaluate(r"""async () => {
        const result = await axe.run(document, {runOnly: {type: "tag",
            values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}});
        return result.violations.filter(v => v.impact === "serious" || v.impact === "critical")
            .map(v => v.id + " : " + v.nodes.slice(0, 4).map(n => n.html.slice(0, 160) + " — "
                + n.failureSummary.replace(/\s+/g, " ").slice(0, 240)).join(" | "));
    }""")
    return found


def test_first_screen_holds_the_essentials_and_page_is_french(page):
    assert page.evaluate("document.documentElement.lang") == "fr"
    from playwright.sync_api import expect

    expect(page.get_by_label(SEARCH)).to_be_focused()  # the agent types straight away
    ask(page, "immatriculer un véhicule")
    card_shown(page, CARTE_GRISE)
    for part in (".fs-documents", ".fs-cost", ".fs-delays", ".fs-online", 'iframe[title="Imprimer pour l\'usager"]'):
        box = page.locator(part).first.bounding_box()
        assert box and box["y"] >= 0 and box["y"] + box["height"] <= VIEWPORT["height"], (part, box)
    assert page.evaluate("window.scrollY") == 0
    expect(page.get_by_text("Réponse sûre").first).to_be_visible()
    # Streamlit's own texts, once the widgets have shown them: an open dropdown filtered to nothing, a typed query.
    page.get_by_label(SEARCH).fill("carte")  # not submitted: the input shows its instructions
    page.locator(".st-key-partenaire input").click()
    page.keyboard.type("zzz")
    expect(page.get_by_text("Aucun résultat")).to_be_visible()
    shown = page.evaluate(SHOWN_TEXT)
    english = [text for text in ENGLISH if re.search(rf"\b{re.escape(text)}\b", shown)]
    assert not english, english
    page.keyboard.press("Escape")
    assert page.outside == []  # no font, icon or tracker fetched from outside


def test_keyboard_only_from_query_to_print(page):
    from playwright.sync_api import expect

    page.keyboard.type("immatriculer un véhicule")
    page.keyboard.press("Enter")
    card_shown(page, CARTE_GRISE)
    frame = page.frame_locator('iframe[title="Imprimer pour l\'usager"]')
    for presses in range(1, 40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.title") == "Imprimer pour l'usager":
            break
    else:
        pytest.fail("le bouton d'impression n'est pas atteignable au clavier")
    assert presses <= 12, presses  # the print button comes early in the tab order
    expect(frame.locator("#print")).to_be_focused()
    frame.locator("#print").evaluate(
        "b => document.getElementById('page').contentWindow.print = () => { window.top.__printed = true; }")
    page.keyboard.press("Enter")
    page.wait_for_function("window.top.__printed === true")
    printed = frame.locator("#page").get_attribute("srcdoc")
    assert "Votre France Services" in printed and "01 23 45 67 89" in printed and "<svg" in printed
    page.keyboard.press("/")  # back to the search box for the next citizen
    expect(page.get_by_label(SEARCH)).to_be_focused()
    assert page.outside == []


def test_sheet_html_is_shown_never_run(page):
    from playwright.sync_api import expect

    ask(page, "prime à la naissance")
    expect(page.get_by_text("<script>window.__pwned = 1</script>", exact=False).first).to_be_visible()
    assert page.evaluate("window.__pwned") is None


def test_no_serious_accessibility_violations(page, server):
    needed(AXE, "axe-core (make axe)")
    assert axe_violations(page) == []  # the search page
    ask(page, "immatriculer un véhicule")
    card_shown(page, CARTE_GRISE)
    assert axe_violations(page) == []  # the card
    page.goto(f"{server}/redaction")
    page.get_by_role("heading", level=1, name="Rédaction des fiches").wait_for()
    page.wait_for_timeout(500)
    assert axe_violations(page) == []  # the editors' page
    assert page.outside == []


def test_every_sheet_prints_on_one_or_two_a4_pages(browser):
    kb = load_kb(ROOT / "kb")
    assert len(kb.sheets) >= 50
    tab = browser.new_page()
    pages = {}
    for sheet in kb.sheets:
        tab.set_content(handout_html(sheet, kb.partners.get(sheet.partner, {}).get("name"), site=SITE,
                                     ticked=range(len(sheet.documents))))
        pdf = tab.pdf(format="A4", prefer_css_page_size=True)
        pages[sheet.id] = len(re.findall(rb"/Type\s*/Page(?!s)", pdf))
    tab.close()
    assert max(pages.values()) <= 2, {k: v for k, v in pages.items() if v > 2}
    assert statistics.median(pages.values()) == 1


def test_reload_and_back_keep_the_card(page):
    ask(page, "carte")  # carte Vitale first, carte grise a plausible second in the tiny KB
    card_shown(page, "Obtenir ou remplacer sa carte Vitale")
    page.get_by_role("button", name="Voir la fiche " + CARTE_GRISE).click()
    card_shown(page, CARTE_GRISE)
    assert "fiche=ants-carte-grise-occasion" in page.url and "q=carte&" in page.url + "&"
    page.reload()
    card_shown(page, CARTE_GRISE)
    page.go_back()
    card_shown(page, "Obtenir ou remplacer sa carte Vitale")
    assert "fiche=" not in page.url


def test_personal_data_never_reaches_the_address_nor_the_history(page):
    from urllib.parse import unquote_plus

    ask(page, "immatriculer un véhicule")
    card_shown(page, CARTE_GRISE)
    box = ask(page, "carte vitale perdue, rappeler au 06 12 34 56 78")
    card_shown(page, "Obtenir ou remplacer sa carte Vitale")
    assert box.input_value() == "carte vitale perdue, rappeler au [TÉLÉPHONE]"
    seen = [unquote_plus(page.url)]
    page.go_back()  # the previous search, then the page before it: no entry holds the number
    card_shown(page, CARTE_GRISE)
    seen.append(unquote_plus(page.url))
    page.go_forward()
    card_shown(page, "Obtenir ou remplacer sa carte Vitale")
    seen.append(unquote_plus(page.url))
    assert "[TÉLÉPHONE]" in seen[0] and "[TÉLÉPHONE]" in seen[2]
    assert not any("06 12 34 56 78" in url or "0612345678" in url for url in seen)


MAIN_SCROLL = "document.querySelector('[data-testid=\"stMain\"]').scrollTop"  # the page's scrolling area


def test_another_sheet_opens_at_the_top_of_its_card(page):
    ask(page, "carte")  # carte Vitale first, carte grise a plausible second in the tiny KB
    card_shown(page, "Obtenir ou remplacer sa carte Vitale")
    other = page.get_by_role("button", name="Voir la fiche " + CARTE_GRISE)
    other.scroll_into_view_if_needed()  # under the card: the agent has scrolled down to it
    assert page.evaluate(MAIN_SCROLL) > 0
    other.click()
    card_shown(page, CARTE_GRISE)
    assert page.evaluate(MAIN_SCROLL) == 0
    title = page.get_by_role("heading", level=2, name=CARTE_GRISE).bounding_box()
    assert title is not None and 0 <= title["y"] < 768 // 2  # the title is on the first screen, near its top
