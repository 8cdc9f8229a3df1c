"""The page the citizen takes home: what to bring, what to do, where to do it online, who helped. Pure.

A self-contained HTML file (no script, no external resource: it must print the same offline and years later),
with print CSS for A4. Every piece of sheet content goes through `html.escape`: a sheet is data, never markup.
"""

from __future__ import annotations

import datetime as dt
from html import escape

from indexer.sheets import Sheet

from assistant.sheetinfo import french_date, plain, source_label

CSS = """
@page { size: A4; margin: 14mm 16mm; }
* { box-sizing: border-box; }
body { font-family: "Marianne", Arial, Helvetica, sans-serif; font-size: 11.5pt; line-height: 1.45; color: #161616;
       max-width: 180mm; margin: 0 auto; padding: 12px; }
header { border-bottom: 3px solid #000091; padding-bottom: 6px; margin-bottom: 12px; }
header p { margin: 0; color: #3a3a3a; font-size: 10pt; }
h1 { font-size: 17pt; margin: 4px 0 2px; color: #000091; }
h2 { font-size: 12.5pt; margin: 14px 0 6px; border-bottom: 1px solid #ddd; padding-bottom: 2px; }
ul.checklist { list-style: none; padding-left: 0; margin: 0; }
ul.checklist li { padding: 3px 0 3px 1.6em; text-indent: -1.6em; }
.box { font-size: 13pt; margin-right: 0.45em; }
ol li { margin: 3px 0; }
.online { border: 1px solid #000091; padding: 6px 10px; border-radius: 4px; }
.url { font-family: "Courier New", monospace; word-break: break-all; }
.site { border: 1px solid #929292; padding: 8px 12px; margin-top: 16px; break-inside: avoid; }
.site h2 { margin-top: 0; border: 0; }
.field { display: flex; align-items: flex-end; margin: 9px 0; }
.field span { white-space: nowrap; margin-right: 8px; }
.field i { flex: 1; border-bottom: 1px dotted #666; height: 1.1em; }
footer { margin-top: 14px; font-size: 9pt; color: #666; }
@media print {
  body { padding: 0; }
  a { color: inherit; text-decoration: none; }
  h2, li { break-after: avoid; break-inside: avoid; }
}
"""

SITE_FIELDS = ("Nom du site France Services", "Adresse", "Téléphone", "Agent", "Date")


def _e(markdown: str) -> str:
    """One rule for every piece of sheet text: Markdown reduced to words, then HTML-escaped."""
    return escape(plain(markdown), quote=True)


def handout_html(sheet: Sheet, partner_name: str | None = None, today: dt.date | None = None) -> str:
    """A printable page for the citizen, from one sheet."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="fr"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(sheet.title)}</title><style>{CSS}</style></head><body>",
        "<header>",
        f"<p>France Services · {_e(partner_name or sheet.partner)}</p>",
        f"<h1>{_e(sheet.title)}</h1>",
        "</header>",
    ]
    if sheet.documents:
        parts.append("<h2>Les documents à apporter</h2><ul class=\"checklist\">")
        parts += [f'<li><span class="box">☐</span>{_e(item)}</li>' for item in sheet.documents]
        parts.append("</ul>")
    if sheet.steps:
        parts.append("<h2>Les étapes</h2><ol>")
        parts += [f"<li>{_e(step)}</li>" for step in sheet.steps]
        parts.append("</ol>")
    if sheet.online_service:
        label, url = sheet.online_service["label"], sheet.online_service["url"]
        parts.append(f'<h2>En ligne</h2><p class="online">{_e(label)} : '
                     f'<a class="url" href="{escape(url, quote=True)}">{escape(url)}</a></p>')
    parts.append('<section class="site"><h2>Votre France Services</h2>')
    parts += [f'<div class="field"><span>{name} :</span><i></i></div>' for name in SITE_FIELDS]
    parts.append("</section>")
    sources = ", ".join(escape(source_label(url)) for url in sheet.sources)
    printed = french_date((today or dt.date.today()).isoformat())
    parts.append(f"<footer>Fiche mise à jour le {escape(french_date(sheet.updated))} · source : {sources} · "
                 f"imprimée le {printed}</footer>")
    parts.append("</body></html>")
    return "\n".join(parts)
