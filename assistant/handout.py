"""The page the citizen takes home: what to bring, what it costs, how long it takes, where to do it online, where
to come back. Pure.

Self-contained HTML (no script, no external resource: it prints the same offline and years later), A4 print CSS,
one page for most sheets and never more than two (tests/test_browser.py prints every sheet to PDF). Every piece of
sheet content goes through `html.escape`: a sheet is data, never markup. The QR code is drawn here, as SVG, by the
`qrcode` library: no image service is called.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from functools import lru_cache
from html import escape

import qrcode
import qrcode.image.svg
from indexer.sheets import Sheet

from assistant.glance import blocks
from assistant.site import Site
from assistant.sheetinfo import french_date, name_official_fiches, plain, source_label

CSS = """
@page { size: A4; margin: 12mm 14mm; }
* { box-sizing: border-box; }
body { font-family: Arial, Helvetica, "Liberation Sans", sans-serif; font-size: 10.5pt; line-height: 1.35;
       color: #161616; max-width: 182mm; margin: 0 auto; padding: 10px; }
header { border-bottom: 3px solid #000091; padding-bottom: 4px; margin-bottom: 8px; }
header p { margin: 0; color: #3a3a3a; font-size: 9.5pt; }
h1 { font-size: 15pt; margin: 2px 0; color: #000091; }
h2 { font-size: 11.5pt; margin: 10px 0 4px; color: #000091; }
p { margin: 0 0 4px; }
ul { margin: 0; padding-left: 1.2em; }
li { margin: 1px 0; }
ul.checklist { list-style: none; padding-left: 0; }
ul.checklist li { padding-left: 1.5em; text-indent: -1.5em; }
.box { font-size: 12pt; margin-right: 0.35em; }
.legend { font-size: 9pt; color: #3a3a3a; }
.pair { display: flex; gap: 8mm; }
.pair > section { flex: 1; }
.online { display: flex; gap: 6mm; align-items: center; border: 1px solid #000091; padding: 4px 8px;
          break-inside: avoid; }
.online svg { width: 24mm; height: 24mm; flex: none; }
.url { font-family: "Courier New", monospace; word-break: break-all; }
.site { border: 1px solid #929292; padding: 4px 10px; margin-top: 10px; break-inside: avoid; }
.site h2 { margin-top: 2px; }
.site dl { display: grid; grid-template-columns: max-content 1fr; gap: 1px 10px; margin: 0; }
.site dt { color: #3a3a3a; } .site dd { margin: 0; font-weight: bold; }
footer { margin-top: 8px; font-size: 8.5pt; color: #3a3a3a; }
@media print {
  body { padding: 0; }
  a { color: inherit; text-decoration: none; }
  h2 { break-after: avoid; }
  li { break-inside: avoid; }
}
"""
NO_SITE = "Revenez vers votre espace France Services : un conseiller vous accompagne gratuitement."


def _e(markdown: str) -> str:
    """One rule for every piece of sheet text: Markdown reduced to words, then HTML-escaped."""
    return escape(plain(name_official_fiches(markdown)), quote=True)


@lru_cache(maxsize=512)  # every rerun of a card prints its page again: draw each code once
def qr_svg(url: str) -> str:
    """A QR code for `url`, as inline SVG (no file, no network)."""
    image = qrcode.make(url, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=2)
    svg = image.to_string(encoding="unicode")
    return svg.replace("<svg ", '<svg role="img" aria-label="QR code du service en ligne" ', 1)


def _section(sheet: Sheet, name: str, heading: str) -> list[str]:
    """A sheet section as short paragraphs and a bullet list, under the citizen's heading."""
    parts = blocks(sheet.section_text(name))
    if not parts:
        return []
    html, items = [f"<h2>{heading}</h2>"], []
    for kind, text in parts:
        if kind == "item":
            items.append(f"<li>{_e(text)}</li>")
            continue
        if items:
            html += ["<ul>", *items, "</ul>"]
            items = []
        html.append(f"<p>{_e(text)}</p>")
    if items:
        html += ["<ul>", *items, "</ul>"]
    return html


def _documents(sheet: Sheet, ticked: Collection[int]) -> list[str]:
    if not sheet.documents:
        return _section(sheet, "Pièces à fournir", "Les documents à apporter")
    order = [n for n in range(len(sheet.documents)) if n in ticked]
    order += [n for n in range(len(sheet.documents)) if n not in ticked]
    html = ["<h2>Les documents à apporter</h2>"]
    intro = [text for kind, text in blocks(sheet.section_text("Pièces à fournir")) if kind == "text"][:1]
    html += [f"<p>{_e(text)}</p>" for text in intro]
    if ticked:
        html.append('<p class="legend">☑ : vu avec votre conseiller, à apporter en priorité.</p>')
    html.append('<ul class="checklist">')
    for n in order:
        box = "☑" if n in ticked else "☐"
        html.append(f'<li><span class="box" aria-hidden="true">{box}</span>{_e(sheet.documents[n])}</li>')
    html.append("</ul>")
    return html


def site_block(site: Site | None) -> list[str]:
    if site is None or not site.configured:
        return [f'<section class="site"><h2>Besoin d\'aide ?</h2><p>{NO_SITE}</p></section>']
    rows = "".join(f"<dt>{escape(label)}</dt><dd>{escape(value)}</dd>" for label, value in site.lines())
    return ['<section class="site"><h2>Votre France Services</h2>', f"<dl>{rows}</dl>",
            "<p>Un conseiller vous accompagne gratuitement dans cette démarche.</p></section>"]


def _page(title: str, body: list[str]) -> str:
    return "\n".join(["<!DOCTYPE html>", '<html lang="fr"><head><meta charset="utf-8">',
                      '<meta name="viewport" content="width=device-width, initial-scale=1">',
                      f"<title>{title}</title><style>{CSS}</style></head><body>", *body, "</body></html>"])


def handout_html(sheet: Sheet, partner_name: str | None = None, today: dt.date | None = None, *,
                 site: Site | None = None, ticked: Collection[int] = ()) -> str:
    """A printable page for the citizen, from one sheet; `ticked` are the documents ticked on screen."""
    body = [
        "<header>",
        f"<p>France Services · {_e(partner_name or sheet.partner)}</p>",
        f"<h1>{_e(sheet.title)}</h1>",
        "<p>Ce document résume votre démarche : gardez-le jusqu'à ce qu'elle soit terminée.</p>",
        "</header>",
    ]
    body += _section(sheet, "En bref", "Votre démarche en bref")
    body += _documents(sheet, set(ticked))
    cost = _section(sheet, "Coût", "Combien cela vous coûte")
    delays = _section(sheet, "Délais", "Les délais à connaître")
    if cost and delays:
        body += ['<div class="pair"><section>', *cost, "</section><section>", *delays, "</section></div>"]
    else:
        body += cost + delays
    if sheet.online_service:
        label, url = sheet.online_service["label"], sheet.online_service["url"]
        body += ["<h2>Faire la démarche en ligne</h2>", '<div class="online">', qr_svg(url),
                 f"<p>{_e(label)}<br>Scannez le code avec votre téléphone, ou tapez l'adresse :<br>"
                 f'<a class="url" href="{escape(url, quote=True)}">{escape(url)}</a></p></div>']
    body += site_block(site)
    sources = ", ".join(escape(source_label(url)) for url in sheet.sources[:2])
    printed = french_date((today or dt.date.today()).isoformat())
    body.append(f"<footer>Informations vérifiées le {escape(french_date(sheet.updated))} · source : {sources} · "
                f"imprimé le {printed}</footer>")
    return _page(_e(sheet.title), body)


def fallback_html(query: str, direction: str | None = None, site: Site | None = None,
                  today: dt.date | None = None) -> str:
    """The page to print when no sheet answers: where the citizen can turn, and this site's details."""
    body = ["<header><p>France Services</p><h1>Votre demande</h1></header>",
            f"<p>Vous avez demandé : « {escape(' '.join(query.split())[:200])} ».</p>"]
    if direction:
        body += ["<h2>Où vous adresser</h2>", f"<p>{_e(direction)}</p>"]
    else:
        body += ["<h2>La suite</h2>",
                 "<p>Votre conseiller n'a pas trouvé de fiche pour cette demande aujourd'hui. Il peut vérifier "
                 "auprès de l'organisme concerné et vous recontacter, ou vous orienter vers le bon interlocuteur.</p>"]
    body += site_block(site)
    body.append(f"<footer>Imprimé le {french_date((today or dt.date.today()).isoformat())}</footer>")
    return _page("Votre demande · France Services", body)


PRINT_BUTTON = """<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8"><style>
html, body { margin: 0; padding: 2px; background: transparent; font-family: "Source Sans", "Source Sans Pro", Arial,
  sans-serif; }
button { display: inline-flex; align-items: center; gap: 0.45rem; min-height: 2.5rem; padding: 0.25rem 0.85rem;
  font: inherit; font-size: 1rem; color: #000091; background: #fff; border: 1px solid #000091; border-radius: 0.5rem;
  cursor: pointer; }
button:hover { background: #e3e3fd; }
button:focus-visible { outline: 3px solid #0a76f6; outline-offset: 2px; }
svg { width: 1.2rem; height: 1.2rem; fill: currentColor; }
iframe { position: absolute; width: 0; height: 0; border: 0; visibility: hidden; }
</style></head><body>
<button type="button" id="print" title="Ouvre l'impression du navigateur : une page claire pour l'usager">
<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M19 8H5c-1.66 0-3 1.34-3 3v6h4v4h12v-4h4v-6c0-1.66-1.34-3-3-3zm-3
11H8v-5h8v5zm3-7c-.55 0-1-.45-1-1s.45-1 1-1 1 .45 1 1-.45 1-1 1zm-1-9H6v4h12V3z"/></svg>%(label)s</button>
<iframe id="page" title="Page à imprimer" tabindex="-1" aria-hidden="true" srcdoc="%(page)s"></iframe>
<script>
document.getElementById("print").addEventListener("click", function () {
  const page = document.getElementById("page").contentWindow;
  page.focus();
  page.print();  // returns when the print dialog closes
  this.focus();  // the keyboard goes on from the button, not from the hidden page
});
// "/" goes back to the search box from here too (the app's shortcut; focus is in this frame after printing).
document.addEventListener("keydown", function (e) {
  if (e.key === "/" && window.parent.__focusSearch && window.parent.__focusSearch()) e.preventDefault();
});
</script></body></html>"""


def print_button(page: str, label: str = "Imprimer pour l'usager") -> str:
    """A one-click print button: the page is in a hidden frame and the browser's print dialog prints only it."""
    return PRINT_BUTTON % {"label": escape(label), "page": escape(page, quote=True)}
