"""France Services assistant: type the citizen's request, get the procedure sheet to follow.

Run with `streamlit run assistant_app.py`. UI only, over `indexer.search.Searcher`; the pieces live in
`assistant/`. Settings come from the environment: INDEXER_INDEX, INDEXER_KB, ASSISTANT_DB.
"""

from __future__ import annotations

import time

import streamlit as st
from indexer.store import StoreError

from assistant import card, privacy, resources
from assistant.sheetinfo import partner_label

def search_page() -> None:
    searcher = resources.searcher()
    store = resources.store()
    partners = searcher.partners()
    state = st.session_state
    state.setdefault("search_id", 0)

    card.focus_search_box()
    st.title("Quelle démarche ?", anchor=False)
    box, filter_ = st.columns([5, 2], vertical_alignment="bottom")
    query = box.text_input(card.SEARCH_LABEL, key="query", type="search", label_visibility="collapsed",
                           placeholder="Ce que demande l'usager : carte grise d'occasion, APL, carte Vitale perdue…")
    names = sorted(partners, key=lambda p: partner_label(partners, p).lower())
    partner = filter_.selectbox(
        "Partenaire", [None, *names], key="partner", label_visibility="collapsed",
        format_func=lambda p: "Tous les partenaires" if p is None else partner_label(partners, p))
    query = (query or "").strip()
    if not query:
        st.caption("Tapez la demande de l'usager puis Entrée. La meilleure fiche s'affiche, avec les pièces à cocher "
                   "et une page à imprimer pour lui.")
        return

    timer = st.empty()
    started = time.perf_counter()
    wanted = privacy.redact(query)
    if not wanted:
        st.info("Cette recherche ne contient que des données personnelles : décrivez la démarche.")
        return
    try:
        result = searcher.search(wanted, top=6, partner=partner)
    except StoreError as exc:
        st.error(f"Recherche impossible : {exc}")
        return
    if state.get("logged_query") != query:  # a rerun (tick, click) is not a new search
        store.log_search(query, result.answer, result.confidence, partner)
        state.logged_query = query
        state.search_id += 1
    if state.get("selected_for") != (query, partner):  # a sheet clicked for another search no longer applies
        state.selected = None
        state.selected_for = (query, partner)

    shown = state.get("selected") or result.answer
    sheet = searcher.sheet(shown) if shown else None
    if sheet is None:
        card.no_answer(result.results, partners, result.redirect)
    else:
        card.answer_card(sheet, partners, state.search_id)
        card.feedback(store, query, sheet.id)
        others = [hit for hit in result.results if hit.id != sheet.id]
        card.candidates(others, partners, "Autres fiches possibles")
    timer.caption(f"Réponse en {(time.perf_counter() - started) * 1000:.0f} ms")
    if note := resources.dense_note(searcher, result):  # the model is still loading: keyword results meanwhile
        st.caption(note)


st.set_page_config(page_title="Assistant France Services", page_icon=":material/support_agent:", layout="centered")
pages = [
    st.Page(search_page, title="Recherche", icon=":material/search:", default=True),
    st.Page("pages/1_Rédaction.py", title="Rédaction", icon=":material/edit_note:", url_path="redaction"),
]
st.navigation(pages).run()
