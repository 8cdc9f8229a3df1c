"""Streamlit pieces of the search page: the answer card, the other candidates, the no-answer help, feedback.

Sheet content is only ever given to Streamlit as Markdown without `unsafe_allow_html`, so raw HTML in a sheet
is shown as text and never runs.
"""

from __future__ import annotations

import datetime as dt
import re

import streamlit as st
from indexer.offtopic import OffTopic
from indexer.search import Hit
from indexer.sheets import DOCUMENTS, SECTIONS, STEPS, Sheet

from assistant.feedback import REASONS, Store
from assistant.handout import handout_html
from assistant.sheetinfo import age_days, french_date, is_stale, partner_contact, partner_label, source_label

SEARCH_LABEL = "Rechercher une démarche"
TIPS = (
    "reformulez avec les mots de l'usager (« perdu mes papiers », « changer d'adresse ») ;",
    "essayez le sigle ou le nom courant : APL, RSA, AAH, CMI, carte grise, allocs ;",
    "retirez le filtre partenaire, ou cherchez le mot le plus courant de la démarche.",
)

# The agent is talking to someone: the cursor must already be in the search box when the page opens.
# Runs in a same-origin iframe once per page load (the iframe is kept across reruns, its content never changes)
# and never takes the focus from another field.
FOCUS_SCRIPT = """<script>
(function () {
  const doc = window.parent.document;
  let tries = 0;
  (function focus() {
    const box = doc.querySelector('input[aria-label="%s"]');
    if (box) {
      if (!doc.activeElement || doc.activeElement === doc.body) box.focus();
    } else if (++tries < 100) {
      setTimeout(focus, 50);
    }
  })();
})();
</script>""" % SEARCH_LABEL


def focus_search_box() -> None:
    """Put the cursor in the search box on page load. Hidden: the iframe takes no room but still runs."""
    st.html("<style>.st-key-search-focus { display: none; }</style>")
    with st.container(key="search-focus"):
        st.iframe(FOCUS_SCRIPT, height=1, tab_index=-1)


def heading(text: str) -> None:
    st.markdown(f"##### {text}", anchors=False)


def section(sheet: Sheet, name: str) -> None:
    """One section of the sheet as written, when the sheet has it."""
    body = sheet.section_text(name)
    if body:
        heading(name)
        st.markdown(body)


def answer_card(sheet: Sheet, partners: dict[str, dict], search_id: int, today: dt.date | None = None) -> None:
    """Everything the agent needs at the counter for one sheet, in the order of the conversation."""
    with st.container(border=True):
        st.subheader(sheet.title, anchor=False)
        partner = partners.get(sheet.partner, {})
        st.badge(partner_label(partners, sheet.partner), color="blue", help=partner.get("name"))
        if is_stale(sheet.updated, today):
            st.warning(f"Fiche non vérifiée depuis plus de 12 mois (mise à jour le {french_date(sheet.updated)}, "
                       f"il y a {age_days(sheet.updated, today)} jours) : contrôlez sur la source officielle.",
                       icon=":material/history:")
        section(sheet, "En bref")
        section(sheet, STEPS)
        documents(sheet, search_id)
        left, right = st.columns(2)
        with left:
            section(sheet, "Coût")
        with right:
            section(sheet, "Délais")
        if sheet.online_service:
            st.link_button(f"Ouvrir le service en ligne : {sheet.online_service['label']}",
                           sheet.online_service["url"], type="primary", icon=":material/open_in_new:")
        blocking(sheet, partners)
        for name in ("Qui est concerné", "Cas particuliers"):
            if sheet.section_text(name):
                with st.expander(name):
                    st.markdown(sheet.section_text(name))
        sources = " · ".join(f"[{source_label(url)}]({url.replace(')', '%29')})" for url in sheet.sources)
        st.caption(f"Sources : {sources}  \nMis à jour le {french_date(sheet.updated)}")
        st.download_button(
            "Imprimer pour l'usager", handout_html(sheet, partner.get("name")), file_name=f"{sheet.id}.html",
            mime="text/html", icon=":material/print:", on_click="ignore", key=f"handout-{sheet.id}",
            help="Page à imprimer : pièces à apporter, étapes, service en ligne, coordonnées de votre France Services",
        )


def documents(sheet: Sheet, search_id: int) -> None:
    """The documents as a checklist the agent ticks with the citizen; reset for each new search."""
    if not sheet.documents:
        section(sheet, DOCUMENTS)
        return
    heading(DOCUMENTS)
    for n, item in enumerate(sheet.documents):
        st.checkbox(" ".join(item.split()), key=f"doc-{search_id}-{sheet.id}-{n}")


def blocking(sheet: Sheet, partners: dict[str, dict]) -> None:
    contact = partner_contact(partners, sheet.partner)
    if not sheet.section_text("En cas de blocage") and not contact:
        return
    heading("En cas de blocage")
    if sheet.section_text("En cas de blocage"):
        st.markdown(sheet.section_text("En cas de blocage"))
    if contact:
        st.markdown(f":material/call: {contact}")


def excerpt(passage: str, limit: int = 240) -> str:
    """The matching passage, cut at a word boundary."""
    text = " ".join(passage.split())
    if len(text) <= limit:
        return text
    return re.sub(r"\s+\S*$", "", text[:limit]) + " …"


def candidates(hits: list[Hit], partners: dict[str, dict], title: str) -> None:
    """Other sheets the search found; a click shows that sheet's card instead."""
    if not hits:
        return
    heading(title)
    for hit in hits:
        with st.container(border=True):
            text, button = st.columns([5, 1], vertical_alignment="center")
            with text:
                st.markdown(f"**{hit.title}**")
                st.badge(partner_label(partners, hit.partner), color="gray")
                if hit.passage:
                    where = hit.section if hit.section in SECTIONS else ""  # chunks of the title carry no section
                    st.caption(f"{where} : {excerpt(hit.passage)}" if where else excerpt(hit.passage))
            button.button("Voir la fiche", key=f"show-{hit.id}", on_click=_select, args=(hit.id,))


def _select(sheet_id: str) -> None:
    st.session_state.selected = sheet_id


def no_answer(hits: list[Hit], partners: dict[str, dict], redirect: OffTopic | None = None) -> None:
    if redirect is not None:  # a request the KB knows it does not cover (kb/hors-champ.yaml)
        st.info(f"**Pas de fiche pour ce sujet : {redirect.subject}.**\n\nOrienter : {redirect.direction}",
                icon=":material/alt_route:")
        candidates(hits, partners, "Fiches proches, au cas où :")
        return
    st.warning("**Aucune fiche ne correspond** à cette recherche avec assez de certitude.",
               icon=":material/search_off:")
    st.markdown("Pour trouver la bonne fiche :\n" + "\n".join(f"- {tip}" for tip in TIPS))
    candidates(hits, partners, "Peut-être :")


def feedback(store: Store, query: str, sheet_id: str) -> None:
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
    if given.get(key) == "open":
        with st.form(f"why-{sheet_id}"):
            st.radio("Qu'est-ce qui n'allait pas ?", list(REASONS), format_func=REASONS.get, horizontal=True,
                     key=f"reason-{sheet_id}")
            st.text_area("Commentaire (facultatif)", key=f"comment-{sheet_id}", max_chars=1000,
                         placeholder="Ce qui manque ou ce qui est faux. Pas de nom ni de numéro de l'usager.")
            st.form_submit_button("Envoyer", key=f"send-{sheet_id}", on_click=_not_useful,
                                  args=(store, query, sheet_id, key))


def _ask_why(key: str) -> None:
    st.session_state.feedback_given[key] = "open"


def _useful(store: Store, query: str, sheet_id: str, key: str) -> None:
    store.record_feedback(query, sheet_id, True)
    st.session_state.feedback_given[key] = "sent"


def _not_useful(store: Store, query: str, sheet_id: str, key: str) -> None:
    state = st.session_state
    store.record_feedback(query, sheet_id, False, state[f"reason-{sheet_id}"], state.get(f"comment-{sheet_id}"))
    state.feedback_given[key] = "sent"
