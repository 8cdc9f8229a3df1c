"""The answer card of an official service-public.fr fiche (a document of kind "fiche").

Shown where a counter sheet's card would be, but never mistaken for one: a distinct badge and the line
"Fiche officielle service-public.fr · vérifiée le …". The agent picks the citizen's situation among the fiche's
cases; online services and cerfa forms are links styled as buttons. What the agent only reads is a few HTML blocks
(`assistant.cardhtml`: the fiche's Markdown rendered with raw HTML off, every title escaped); widgets are only the
situation choices.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache
from html import escape
from urllib.parse import quote

import streamlit as st
from indexer.sheets import Sheet

from assistant import cardhtml as html
from assistant.sheetinfo import age_days, french_date, is_stale

BADGE = "Fiche officielle service-public.fr"
# Sections of a fiche shown open: what the agent tells at the counter (documents, cost, delays, how to do it).
_KEY = re.compile(r"pi[eè]ces|documents?|justificatif|co[uû]t|prix|tarif|combien|d[ée]lai|dur[ée]e|d[ée]marche|"
                  r"comment|[ée]tapes", re.IGNORECASE)
SUMMARY = "En bref"


def verified_line(fiche: Sheet) -> str:
    return f"{BADGE} · vérifiée le {french_date(fiche.updated)}"


def case_groups(fiche: Sheet, section: str) -> list[list[dict]]:
    """The fiche's situations of one section, one list per choice block, in the fiche's order."""
    groups: dict[int, list[dict]] = {}
    for case in fiche.cases:
        if case["section"] == section:
            groups.setdefault(case["block"], []).append(case)
    return list(groups.values())


def situations(fiche: Sheet, section: str, key: str) -> None:
    """Each block of cases as a choice: the agent picks the citizen's situation, the card shows that case only."""
    for n, group in enumerate(case_groups(fiche, section)):
        titles = [c["title"] for c in group]
        picked = st.radio("Situation de l'usager", titles, index=None, horizontal=len(titles) <= 3,
                          key=f"{key}-{section}-{n}")
        if picked is None:
            st.caption("Choisir la situation de l'usager pour afficher ce qui s'applique.")
            continue
        body = next(c["markdown"] for c in group if c["title"] == picked)
        if body:
            st.html(_rendered(body))


@lru_cache(maxsize=2048)
def _rendered(markdown: str) -> str:
    """A fiche's Markdown as HTML, once per text (the fiches do not change between searches)."""
    return html.markdown(markdown)


def head_html(fiche: Sheet) -> str:
    """The badge, the title, the verified line, the description and the steps."""
    line = verified_line(fiche) + (" · " + " › ".join(fiche.breadcrumb) if fiche.breadcrumb else "")
    parts = [f'<p>{html.badge(BADGE, "violet")}</p>', html.heading(fiche.title, 2),
             f'<p class="fs-date">{escape(line)}</p>']
    if fiche.description:
        parts.append(_rendered(fiche.description))
    if fiche.steps:
        parts += [html.heading("Étapes", 3),
                  "<ol>" + "".join(f"<li>{html.inline(step)}</li>" for step in fiche.steps) + "</ol>"]
    return html.block(parts, "fs-header fs-main")


def opened(name: str, first: bool) -> bool:
    return first or bool(_KEY.search(name))


def sections_html(fiche: Sheet, names: list[str], first: str) -> str:
    """Sections without situations to choose, as disclosures; the first and the key ones open."""
    return html.block([html.disclosure(fiche.sections[name].name, _rendered(fiche.sections[name].markdown),
                                       opened(name, name == first)) for name in names], "fs-main")


def fiche_card(fiche: Sheet, today: dt.date | None = None, key: str = "fiche") -> None:
    """Everything of one official fiche, in the order of the conversation."""
    key = f"{key}-{fiche.id}"
    with st.container(border=True, key="fichecard"):
        st.html(head_html(fiche))
        if is_stale(fiche.updated, today):
            st.warning(f"Fiche officielle mise à jour il y a {age_days(fiche.updated, today)} jours : "
                       "vérifier qu'elle est toujours à jour sur service-public.fr.", icon=":material/history:")
        names = [name for name in fiche.sections if name != SUMMARY or not fiche.description]
        plain: list[str] = []  # sections in a row without situations: one block
        for name in names:
            if not case_groups(fiche, name):
                plain.append(name)
                continue
            if plain:
                st.html(sections_html(fiche, plain, names[0]))
                plain = []
            section = fiche.sections[name]
            with st.expander(section.name, expanded=opened(name, name == names[0])):
                if section.markdown:
                    st.html(_rendered(section.markdown))
                situations(fiche, name, key)
        st.html(html.block([sections_html(fiche, plain, names[0]) if plain else "", tail_html(fiche)], "fs-tail"))


def service_label(service: dict) -> str:
    cerfa = f" · cerfa {service['cerfa']}" if service.get("cerfa") else ""
    return f"{service['type']} : {service['label']}{cerfa}"


def tail_html(fiche: Sheet) -> str:
    """Online services and forms, where to go, the fiche on service-public.fr, related questions."""
    parts = []
    if fiche.services:
        parts += [html.heading("Services en ligne et formulaires", 3),
                  '<ul class="fs-services">' + "".join(f"<li>{html.link(s['url'], service_label(s), 'fs-link')}</li>"
                                                      for s in fiche.services) + "</ul>"]
    if fiche.where:
        parts += [html.heading("Où s'adresser", 3), "<ul>" + "".join(
            f"<li>{html.link(p['url'], p['label']) if p.get('url') else escape(p['label'])}</li>"
            for p in fiche.where) + "</ul>"]
    parts.append(f'<p>{html.link(fiche.source_url, "Voir la fiche sur service-public.fr", "fs-link")}</p>')
    if fiche.related:
        parts += [html.heading("Questions liées", 3), "<ul>" + "".join(
            f'<li><a href="?fiche={quote(str(r["id"]))}">{escape(r["title"])}</a></li>'
            for r in fiche.related[:8]) + "</ul>"]
    return html.block(parts, "fs-main")
