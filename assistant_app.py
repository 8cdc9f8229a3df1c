"""France Services assistant: type the citizen's request, get the procedure sheet to follow.

Run with `streamlit run assistant_app.py`. UI only, over `indexer.searcher.Searcher`; the pieces live in
`assistant/`. Settings come from the environment: INDEXER_INDEX, INDEXER_KB, ASSISTANT_DB, ASSISTANT_SITE.
Stable links: `?q=carte+grise` reruns a search, `?fiche=<id>` opens a sheet; reload and Back keep the card.
"""

from __future__ import annotations

import assistant.threads  # noqa: F401  (first: one OpenMP thread, set before faiss and torch load)
import time

import streamlit as st
from PIL import Image
from indexer.search import MAX_QUERY_CHARS
from indexer.store import StoreError
from streamlit.logger import get_logger

from assistant import card, chrome, fichecard, glance, nodelay, privacy, resources, signin
from assistant.sheetinfo import partner_label
from assistant.site import SiteError, load_site

log = get_logger("assistant")  # Streamlit's log handler and level (logger.level, default info)
RECENT = 8  # searches remembered for this session (never stored: the session ends, they are gone)


def search_bar(partners: dict[str, dict]):
    request_from_address(partners)
    with st.container(key="searchbar", horizontal=True, vertical_alignment="center", gap="small"):
        st.title("Quelle démarche ?", anchor=False, width="content")
        query = st.text_input(card.SEARCH_LABEL, key="q", type="search", label_visibility="collapsed",
                              width="stretch", on_change=_mask_box,
                              placeholder="Demande de l'usager : carte grise d'occasion, APL… "
                                          "(touche / pour revenir ici)")
        names = sorted(partners, key=lambda p: partner_label(partners, p).lower())
        partner = st.selectbox(
            "Filtrer par partenaire", [None, *names], key="partenaire", label_visibility="collapsed",
            placeholder="Tous les partenaires", width=260,
            format_func=lambda p: "Tous les partenaires" if p is None else f"Partenaire : {partner_label(partners, p)}")
        past = st.popover("Récentes", icon=":material/history:", width="content",
                          help="Les recherches de cette session")
    address_from_request(query or "", partner)
    return (query or "").strip(), partner, past


def _mask_box() -> None:
    """The request as typed, its personal data masked, before the page uses it: the box shows "[TÉLÉPHONE]", never
    the number, and the address (`address_from_request`) never receives it."""
    state = st.session_state
    typed = state.get("q") or ""
    masked = privacy.mask(typed)
    if masked != typed:
        state.q = masked


# The box and the filter are not bound to the address by Streamlit: a bound box writes what was typed into the
# address, and so into the counter PC's browser history, before the page can mask it; a bound filter writes its
# label ("Partenaire : MSA"). The page keeps them in step itself: `?q=carte+grise&partenaire=msa`.
def request_from_address(partners: dict[str, dict]) -> None:
    """At a session's first run (a link, a reload; Back and Forward reload the page, see `assistant.chrome`), the box
    takes the address's request, personal data masked, and the filter its partner (an unknown one is ignored). Later
    runs leave them to the agent."""
    state = st.session_state
    if not state.get("address_read"):
        state.q = privacy.mask(st.query_params.get("q", ""))
        partner = st.query_params.get("partenaire", "").strip().lower()
        state.partenaire = partner if partner in partners else None
        state.address_read = True


def address_from_request(query: str, partner: str | None) -> None:
    """The address carries the request as the box holds it (masked) and the partner's id, for reload, Back and
    links."""
    for name, value in (("q", query), ("partenaire", partner or "")):
        if value != st.query_params.get(name, ""):
            if value:
                st.query_params[name] = value
            else:
                del st.query_params[name]


def recent_searches(where) -> None:
    """This session's searches, newest first; a click searches again. Filled once the current search is known."""
    past = st.session_state.get("recent", [])
    with where:
        if not past:
            st.caption("Aucune recherche dans cette session.")
            return
        st.pills("Rechercher à nouveau", past, key="again", on_change=_search_again, label_visibility="collapsed",
                 selection_mode="single", width="stretch")


def _search_again() -> None:
    state = st.session_state
    if state.get("again"):
        state.q = state.again
    state.again = None


def _everywhere() -> None:
    st.session_state.partenaire = None


def filter_notice(partners: dict[str, dict], partner: str | None, answered: bool) -> None:
    """The partner filter is never silent: say it is on, and offer to search everywhere when it hides the answer."""
    if partner is None:
        return
    label = partner_label(partners, partner)
    with st.container(horizontal=True, vertical_alignment="center"):
        if answered:
            st.caption(f"Filtre actif : seulement les fiches {label}.")
        else:
            st.markdown(f"**Aucune fiche pour {label}** avec cette demande — chercher partout ?", width="content")
        st.button("Chercher dans tous les partenaires", key="everywhere", on_click=_everywhere,
                  icon=":material/filter_alt_off:", type="secondary" if answered else "primary")


def remember(query: str) -> None:
    recent = [q for q in st.session_state.get("recent", []) if q.lower() != query.lower()]
    st.session_state.recent = [query, *recent][:RECENT]


def site_settings():
    try:
        return load_site()
    except SiteError as exc:
        st.warning(f"Coordonnées du site illisibles : {exc}", icon=":material/warning:")
        return None


def search_page() -> None:
    searcher = resources.searcher()  # shared resources first: when one is unusable, the page says so at once
    resources.warm_cards(searcher)
    store = resources.store()
    with resources.turn():  # then the page itself, in turns, one per core (see resources.turn)
        search_view(searcher, store)


def search_view(searcher, store) -> None:
    partners = searcher.partners()
    state = st.session_state
    state.setdefault("search_id", 0)
    chrome.dress(card.SEARCH_LABEL)
    query, partner, past = search_bar(partners)
    if len(query) > MAX_QUERY_CHARS:
        st.caption(f"Recherche limitée aux {MAX_QUERY_CHARS} premiers caractères : la suite est ignorée.")
    query = privacy.mask(query[:MAX_QUERY_CHARS])  # personal data is neither logged nor shown back
    try:
        answer(searcher, store, partners, query, partner)
    finally:
        recent_searches(past)


def answer(searcher, store, partners: dict[str, dict], query: str, partner: str | None) -> None:
    """Everything under the search bar: the card, two close sheets, or the no-answer help."""
    state = st.session_state
    titles = {s.id: s.title for s in searcher.sheets()}
    linked = st.query_params.get("fiche")
    if state.get("selected_for") != (query, partner):  # a sheet picked for another search no longer applies
        known = linked is not None and searcher.sheet(linked) is not None  # a counter sheet or an official fiche
        state.selected = linked if known and state.get("selected_for") is None else None
        state.selected_for = (query, partner)
        if linked is not None and not known:  # the id itself is not shown: a link is anyone's text
            st.warning("La fiche de ce lien n'existe pas (ou plus) dans cette base : cherchez la démarche.",
                       icon=":material/link_off:")
        if state.selected is None and "fiche" in st.query_params:
            del st.query_params["fiche"]
    site = site_settings()
    if not query and not state.selected:
        st.caption("Tapez la demande de l'usager puis Entrée. La fiche s'affiche avec les pièces, le coût, les délais "
                   "et une page à imprimer pour lui. Touche « / » : revenir à la recherche.")
        return

    result, trust = None, None
    if query:
        wanted = privacy.redact(query)
        if not wanted:
            st.info("Cette recherche ne contient que des données personnelles : décrivez la démarche.")
            return
        started = time.perf_counter()
        try:
            result = searcher.search(wanted, top=6, partner=partner)
        except StoreError as exc:
            st.error(f"Recherche impossible : {exc}")
            return
        log.info("recherche en %.0f ms", (time.perf_counter() - started) * 1000)  # logs only, not the agent's view
        if state.get("logged_query") != (query, partner):  # a rerun (tick, click) is not a new search
            store.log_search(query, result.answer, result.confidence, partner)
            state.logged_query = (query, partner)
            state.search_id += 1
            remember(query)
        if result.answer and result.answer_kind != "fiche":  # trust is calibrated on the counter sheets
            trust = glance.trust(result.confidence, searcher.tuning.threshold(result.mode), result.results)
        filter_notice(partners, partner, result.answer is not None or bool(state.selected))

    shown = state.get("selected") or (result.answer if result else None)
    sheet = searcher.sheet(shown) if shown else None
    hits = result.results if result else []
    view = card.View(partners, state.search_id, None if state.get("selected") else trust,
                     glance.situation_words(query, sheet.title) if sheet and query else set(), site, titles)
    pair = glance.close_pair(hits, result.answer if result else None)
    if pair and not state.get("selected"):
        card.close_pair(pair, searcher.index.sheets, view)
        card.candidates(glance.plausible(hits[2:], hits[0].score), partners, "Autres fiches possibles")
    elif sheet is None:
        card.no_answer(glance.plausible(hits), partners, privacy.redact(query), site, result.redirect)
    elif sheet.is_fiche:
        fichecard.fiche_card(sheet)
        if query:
            card.feedback(store, query, sheet.id, titles)
        others = [hit for hit in hits if hit.id != sheet.id]
        card.candidates(glance.plausible(others, hits[0].score if hits else None), partners,
                        "Autres fiches possibles")
    else:
        card.answer_card(sheet, view)
        if query:
            card.feedback(store, query, sheet.id, titles)
        others = [hit for hit in hits if hit.id != sheet.id]
        card.candidates(glance.plausible(others, hits[0].score if hits else None), partners,
                        "Autres fiches possibles")
    if note := resources.dense_note(searcher, result):  # the model is still loading: keyword results meanwhile
        st.caption(note)


# The icon is drawn here: a ":material/…:" or emoji icon would be fetched from an outside server by the browser.
st.set_page_config(page_title="Assistant France Services", page_icon=Image.new("RGB", (32, 32), "#000091"),
                   layout="wide")
if "tcp_no_delay" not in st.session_state:  # once per session: its connection, and the listening socket's option
    st.session_state.tcp_no_delay = nodelay.no_delay()
access = signin.gate()  # sign-in, role and network exposure, checked on the server at every run
pages = [
    st.Page(search_page, title="Recherche", icon=":material/search:", default=True),
    st.Page("pages/1_Rédaction.py", title="Rédaction", icon=":material/edit_note:", url_path="redaction"),
    st.Page("pages/2_Accessibilité.py", title="Accessibilité", icon=":material/accessibility:",
            url_path="accessibilite"),
]
st.navigation(signin.allowed(pages, access), position="top").run()
