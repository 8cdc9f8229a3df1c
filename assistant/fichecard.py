"""The answer card of an official service-public.fr fiche (a document of kind "fiche").

Shown where a counter sheet's card would be, but never mistaken for one: a distinct badge and the line
"Fiche officielle service-public.fr · vérifiée le …". The agent picks the citizen's situation among the fiche's
cases; online services and cerfa forms are buttons. Content is given to Streamlit as Markdown only (the reader
escapes it), never as HTML.
"""

from __future__ import annotations

import datetime as dt
import re

import streamlit as st
from indexer.sheets import Sheet

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
            st.markdown(body)


def fiche_card(fiche: Sheet, today: dt.date | None = None, key: str = "fiche") -> None:
    """Everything of one official fiche, in the order of the conversation."""
    key = f"{key}-{fiche.id}"
    with st.container(border=True):
        st.badge(BADGE, color="violet", icon=":material/account_balance:")
        st.header(fiche.title, anchor=False)
        st.caption(verified_line(fiche) + (" · " + " › ".join(fiche.breadcrumb) if fiche.breadcrumb else ""))
        if is_stale(fiche.updated, today):
            st.warning(f"Fiche officielle mise à jour il y a {age_days(fiche.updated, today)} jours : "
                       "vérifier qu'elle est toujours à jour sur service-public.fr.", icon=":material/history:")
        if fiche.description:
            st.markdown(fiche.description)
        if fiche.steps:
            st.markdown("### Étapes")
            st.markdown("\n".join(f"{n}. {step}" for n, step in enumerate(fiche.steps, 1)))
        names = [name for name in fiche.sections if name != SUMMARY or not fiche.description]
        for n, name in enumerate(names):
            section = fiche.sections[name]
            with st.expander(section.name, expanded=n == 0 or bool(_KEY.search(section.name))):
                if section.markdown:
                    st.markdown(section.markdown)
                situations(fiche, name, key)
        services(fiche, key)
        where(fiche)
        st.link_button("Voir la fiche sur service-public.fr", fiche.source_url, icon=":material/open_in_new:")
        if fiche.related:
            st.markdown("### Questions liées")
            st.markdown("\n".join(f"- [{r['title']}](?fiche={r['id']})" for r in fiche.related[:8]))


def service_label(service: dict) -> str:
    cerfa = f" · cerfa {service['cerfa']}" if service.get("cerfa") else ""
    return f"{service['type']} : {service['label']}{cerfa}"


def services(fiche: Sheet, key: str) -> None:
    if not fiche.services:
        return
    st.markdown("##### Services en ligne et formulaires")
    for n, service in enumerate(fiche.services):
        st.link_button(service_label(service), service["url"], icon=":material/open_in_new:", key=f"{key}-service-{n}")


def where(fiche: Sheet) -> None:
    if not fiche.where:
        return
    st.markdown("##### Où s'adresser")
    for place in fiche.where:
        if place.get("url"):
            st.markdown(f"- [{place['label']}]({place['url']})")
        else:
            st.markdown(f"- {place['label']}")
