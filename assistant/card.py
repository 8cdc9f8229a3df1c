"""Streamlit pieces of the search page: the answer card, two close sheets side by side, the other candidates, the
no-answer help, feedback.

The card's first screen (1366×768) holds what the agent says first: title, kind, partner, how sure, En bref, and
a panel with the documents, cost, delays, the online service and the print button. Details follow in tabs.
Sheet content is only ever given to Streamlit as Markdown without `unsafe_allow_html`, so raw HTML in a sheet
is shown as text and never runs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import quote

import streamlit as st
from indexer.offtopic import OffTopic
from indexer.search import Hit
from indexer.sheets import DOCUMENTS, SECTIONS, STEPS, Sheet

from assistant import glance
from assistant.feedback import REASONS, Store
from assistant.handout import fallback_html, handout_html, print_button
from assistant.sheetinfo import age_days, french_date, is_stale, partner_contact, partner_label, source_label
from assistant.site import Site

SEARCH_LABEL = "Rechercher une démarche"
KINDS = {"sheet": "Fiche guichet", "fiche": "Fiche officielle"}
TIPS = (
    "reformulez avec les mots de l'usager (« perdu mes papiers », « changer d'adresse ») ;",
    "essayez le sigle ou le nom courant : APL, RSA, AAH, CMI, carte grise, allocs ;",
    "retirez le filtre partenaire, ou cherchez le mot le plus courant de la démarche.",
)
LINE = 42  # characters of one panel line at 1366 px: one line each keeps the delays on the first screen
MARK = " ★"  # on a tab whose text contains a word of the request


@dataclass
class View:
    """What a card needs besides the sheet: the search it answers and the site's settings."""

    partners: dict[str, dict]
    search_id: int
    trust: glance.Trust | None  # None: the agent chose this sheet, or opened a link to it
    stems: set[str] = field(default_factory=set)
    site: Site | None = None
    titles: dict[str, str] = field(default_factory=dict)  # id -> title, for links between sheets


def kind_of(document) -> str:
    return getattr(document, "kind", "sheet") or "sheet"


def sheet_link(sheet_id: str) -> str:
    return f"?fiche={quote(sheet_id)}"


def md(view: View, markdown: str) -> str:
    """Sheet Markdown as the card shows it: the request's words highlighted, mentions of other sheets linked."""
    return glance.highlight(glance.link_sheets(markdown, view.titles, sheet_link), view.stems)


def heading(text: str, level: int = 3) -> None:
    st.markdown(f"{'#' * level} {text}", anchors=False)


def answer_card(sheet: Sheet, view: View, today: dt.date | None = None) -> None:
    """The card of one document; its body depends on its kind (`BODIES`), its header does not."""
    with st.container(border=True, key="card"):
        header(sheet, view, today)
        BODIES.get(kind_of(sheet), sheet_body)(sheet, view)


def header(sheet, view: View, today: dt.date | None = None) -> None:
    heading(sheet.title, 2)
    partner = view.partners.get(sheet.partner, {})
    with st.container(horizontal=True, vertical_alignment="center", gap="small"):
        st.badge(partner_label(view.partners, sheet.partner), color="blue", help=partner.get("name"))
        st.badge(KINDS.get(kind_of(sheet), KINDS["sheet"]), color="gray", icon=":material/description:")
        if view.trust is not None:
            st.badge(view.trust.label, color="green" if view.trust.sure else "orange",
                     icon=":material/verified:" if view.trust.sure else ":material/help:", help=view.trust.detail)
        st.caption(f"Mise à jour le {french_date(sheet.updated)}")
    if view.trust is not None and not view.trust.sure:
        st.caption(view.trust.detail)
    if is_stale(sheet.updated, today):
        st.warning(f"Fiche non vérifiée depuis plus de 12 mois (mise à jour le {french_date(sheet.updated)}, "
                   f"il y a {age_days(sheet.updated, today)} jours) : contrôlez sur la source officielle.",
                   icon=":material/history:")


def sheet_body(sheet: Sheet, view: View) -> None:
    main, side = st.columns([1.35, 1], gap="medium")
    with side:
        essentials(sheet, view)
    with main:
        if sheet.section_text("En bref"):
            heading("En bref")
            st.markdown(md(view, sheet.section_text("En bref")))
        details(sheet, view)


def ticked(sheet: Sheet, search_id: int) -> list[int]:
    state = st.session_state
    return [n for n in range(len(sheet.documents)) if state.get(_doc_key(search_id, sheet.id, n))]


def _doc_key(search_id: int, sheet_id: str, n: int) -> str:
    return f"doc-{search_id}-{sheet_id}-{n}"


def essentials(sheet: Sheet, view: View) -> None:
    """The panel the agent reads out: documents (count and first ones), cost, delays; online service and print."""
    with st.container(border=True, key="essentials"):
        with st.container(horizontal=True, gap="small", key="actions"):
            if sheet.online_service:
                st.link_button("Service en ligne", sheet.online_service["url"], type="primary", key="online",
                               icon=":material/open_in_new:", help=sheet.online_service["label"])
            partner_name = view.partners.get(sheet.partner, {}).get("name")
            page = handout_html(sheet, partner_name, site=view.site, ticked=ticked(sheet, view.search_id))
            with st.container(key="print", width=240):
                st.iframe(print_button(page), height=48, alt="Imprimer pour l'usager")
        with st.container(key="documents"):
            count = len(sheet.documents)
            heading(f"{DOCUMENTS} ({count})" if count else DOCUMENTS)
            if sheet.documents:
                first, rest = [glance.shorten(d, LINE) for d in sheet.documents[:3]], max(0, count - 3)
            else:
                first, rest = glance.summary(sheet.section_text(DOCUMENTS), items=3, limit=LINE)
            more(first, rest, "pièce(s)", DOCUMENTS)
        for name, key in (("Coût", "cost"), ("Délais", "delays")):
            with st.container(key=key):
                heading(name)
                lines, rest = glance.summary(sheet.section_text(name), items=2, limit=LINE)
                if not lines:
                    st.markdown("Non précisé par la fiche.")
                    continue
                more(lines, rest, "point(s)", name)
    if not view.site or not view.site.configured:
        st.caption("Coordonnées de votre France Services non renseignées : page Rédaction, « Votre site ».")


def more(lines: list[str], rest: int, what: str, tab: str) -> None:
    """A few short lines, and how many more are in the tab."""
    text = "\n".join(f"- {line}" for line in lines)
    if rest:
        text += f"\n- *… et {rest} autre(s) {what} : onglet « {tab} »*"
    st.markdown(text)


def details(sheet: Sheet, view: View) -> None:
    """Steps first, then every other section one click away; a ★ marks the tabs where the request's words are."""
    names = [STEPS, DOCUMENTS, "Coût", "Délais", "Qui est concerné", "Cas particuliers", "En cas de blocage"]
    names = [n for n in names if sheet.section_text(n) or n == "En cas de blocage"] + ["Sources"]
    labels = []
    for name in names:
        label = f"{name} ({len(sheet.documents)})" if name == DOCUMENTS and sheet.documents else name
        labels.append(label + (MARK if glance.mentions(sheet.section_text(name), view.stems) else ""))
    if any(label.endswith(MARK) for label in labels):
        st.caption(f"{MARK.strip()} : l'onglet contient un mot de la demande (surligné).")
    for name, tab in zip(names, st.tabs(labels, key=f"tabs-{sheet.id}")):
        with tab:
            if name == DOCUMENTS and sheet.documents:
                documents(sheet, view)
            elif name == "En cas de blocage":
                blocking(sheet, view)
            elif name == "Sources":
                st.markdown("\n".join(f"- [{source_label(u)}]({u.replace(')', '%29')})" for u in sheet.sources))
            else:
                st.markdown(md(view, sheet.section_text(name)))


def documents(sheet: Sheet, view: View) -> None:
    """The documents as a checklist the agent ticks with the citizen (ticked ones print first); reset per search."""
    intro = [text for kind, text in glance.blocks(sheet.section_text(DOCUMENTS)) if kind == "text"]
    if intro:
        st.markdown(md(view, intro[0]))
    for n, item in enumerate(sheet.documents):
        st.checkbox(" ".join(item.split()), key=_doc_key(view.search_id, sheet.id, n))


def blocking(sheet: Sheet, view: View) -> None:
    if sheet.section_text("En cas de blocage"):
        st.markdown(md(view, sheet.section_text("En cas de blocage")))
    contact = partner_contact(view.partners, sheet.partner, sheet.id)
    if contact:
        st.markdown(f":material/call: {contact}")
    elif not sheet.section_text("En cas de blocage"):
        st.markdown("La fiche ne donne pas de contact : voir le site du partenaire.")


BODIES: dict[str, Callable[[object, View], None]] = {"sheet": sheet_body}  # kind -> card body; others register


def close_pair(pair: list[Hit], sheets: dict[str, Sheet], view: View) -> None:
    """Two sheets the search cannot tell apart: both side by side, the agent picks with the citizen."""
    with st.container(border=True, key="pair"):
        heading("Deux fiches proches : laquelle correspond à l'usager ?", 2)
        for column, hit in zip(st.columns(2, gap="medium"), pair):
            sheet = sheets.get(hit.id)
            with column, st.container(border=True):
                heading(hit.title)
                st.badge(partner_label(view.partners, hit.partner), color="blue")
                if sheet is not None and sheet.section_text("En bref"):
                    st.markdown(md(view, glance.shorten(sheet.section_text("En bref"), 320)))
                st.button(f"Voir la fiche {hit.title}", key=f"pick-{hit.id}", on_click=select, args=(hit.id,),
                          type="primary", icon=":material/arrow_forward:")


def candidates(hits: list[Hit], partners: dict[str, dict], title: str) -> None:
    """Other sheets the search found; a click shows that sheet's card instead."""
    if not hits:
        return
    with st.container(key="after"):
        heading(title, 2)
        for hit in hits:
            with st.container(border=True):
                with st.container(horizontal=True, vertical_alignment="center"):
                    st.button(f"Voir la fiche {hit.title}", key=f"show-{hit.id}", on_click=select, args=(hit.id,),
                              type="tertiary", icon=":material/arrow_forward:")
                    if getattr(hit, "kind", "sheet") == "fiche":
                        st.badge("Fiche officielle service-public.fr", color="violet")
                    else:
                        st.badge(partner_label(partners, hit.partner), color="gray")
                if hit.passage:
                    where = hit.section if hit.section in SECTIONS else ""  # chunks of the title carry no section
                    passage = glance.shorten(hit.passage, 240)
                    st.caption(f"{where} : {passage}" if where else passage)


def select(sheet_id: str) -> None:
    st.session_state.selected = sheet_id
    st.query_params["fiche"] = sheet_id


def no_answer(hits: list[Hit], partners: dict[str, dict], query: str, site: Site | None,
              redirect: OffTopic | None = None) -> None:
    """No sheet answers: say so, say where to direct the citizen, and give something to print."""
    if redirect is not None:  # a request the KB knows it does not cover (kb/hors-champ.yaml)
        st.info(f"**Pas de fiche pour ce sujet : {redirect.subject}.**\n\nOrienter : {redirect.direction}",
                icon=":material/alt_route:")
    else:
        st.warning("**Aucune fiche ne correspond** à cette recherche avec assez de certitude.",
                   icon=":material/search_off:")
        st.markdown("Pour trouver la bonne fiche :\n" + "\n".join(f"- {tip}" for tip in TIPS))
    with st.container(key="print", width=300):
        st.iframe(print_button(fallback_html(query, redirect.direction if redirect else None, site),
                               "Imprimer une page d'orientation"), height=48, alt="Imprimer une page d'orientation")
    candidates(hits, partners, "Fiches proches, au cas où" if redirect is not None else "Peut-être")


def feedback(store: Store, query: str, sheet_id: str, titles: dict[str, str]) -> None:
    """“Did this sheet answer?” — one answer per search and sheet, stored for the editors."""
    key = f"{sheet_id}|{query}"
    given = st.session_state.setdefault("feedback_given", {})
    if given.get(key) == "sent":
        st.success("Merci : votre retour aide les rédacteurs à améliorer les fiches.", icon=":material/check_circle:")
        return
    with st.container(horizontal=True, vertical_alignment="center"):
        st.markdown("**Cette fiche m'a permis de répondre ?**", width="content")
        st.button("Oui", key=f"yes-{sheet_id}", icon=":material/thumb_up:",
                  on_click=_useful, args=(store, query, sheet_id, key))
        st.button("Non", key=f"no-{sheet_id}", icon=":material/thumb_down:", on_click=_ask_why, args=(key,))
    if given.get(key) in ("open", "incomplete"):
        with st.form(f"why-{sheet_id}"):
            st.radio("Qu'est-ce qui n'allait pas ?", list(REASONS), index=None, format_func=REASONS.get,
                     horizontal=True, key=f"reason-{sheet_id}")
            others = sorted((sid for sid in titles if sid != sheet_id), key=lambda s: titles[s].lower())
            st.selectbox("Quelle fiche aurait dû sortir ? (facultatif)", others, index=None,
                         format_func=titles.get, key=f"expected-{sheet_id}", placeholder="Choisir une fiche")
            st.text_area("Commentaire (facultatif)", key=f"comment-{sheet_id}", max_chars=1000,
                         placeholder="Ce qui manque ou ce qui est faux. Pas de nom ni de numéro de l'usager.")
            if given.get(key) == "incomplete":
                st.error("Choisissez ce qui n'allait pas avant d'envoyer.")
            st.form_submit_button("Envoyer", key=f"send-{sheet_id}", on_click=_not_useful,
                                  args=(store, query, sheet_id, key))


def _ask_why(key: str) -> None:
    st.session_state.feedback_given[key] = "open"


def _useful(store: Store, query: str, sheet_id: str, key: str) -> None:
    store.record_feedback(query, sheet_id, True)
    st.session_state.feedback_given[key] = "sent"


def _not_useful(store: Store, query: str, sheet_id: str, key: str) -> None:
    state = st.session_state
    reason = state.get(f"reason-{sheet_id}")
    if reason is None:
        state.feedback_given[key] = "incomplete"
        return
    store.record_feedback(query, sheet_id, False, reason, state.get(f"comment-{sheet_id}"),
                          expected=state.get(f"expected-{sheet_id}"))
    state.feedback_given[key] = "sent"
