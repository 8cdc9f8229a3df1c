"""Objects shared by every session of the app, loaded once: the Searcher, the feedback store, the validated KB.

The Searcher is cached per index folder; it follows the index's CURRENT pointer by itself, so a rebuild is
served at the next query without restarting the app. Failures are not cached: once someone runs
`python -m indexer rebuild`, the next page load finds the index.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
from pathlib import Path

import streamlit as st
from indexer.embed import ModelError
from indexer.kb import KnowledgeBase, load_kb
from indexer.search import Result
from indexer.searcher import Searcher
from indexer.store import NoIndexError, StoreError

from assistant import card, config
from assistant.feedback import StorageError, Store
from assistant.site import SiteError, load_site

REBUILD_COMMAND = "python -m indexer rebuild"

@st.cache_resource(show_spinner="Chargement de l'index…")
def _searcher(index_dir: str) -> Searcher:
    # The model loads in the background: the page answers lexically at once, and semantically a few seconds later.
    return Searcher(index_dir, warm_up=True)


def searcher() -> Searcher:
    """The Searcher of the configured index; without a usable index, says what to do and stops the page."""
    index_dir = config.index_dir()
    try:
        return _searcher(str(index_dir))
    except NoIndexError:
        st.error(f"Aucun index de recherche dans « {index_dir} ». Construisez-le depuis le dossier du projet :")
        st.code(REBUILD_COMMAND, language="bash")
    except (StoreError, ModelError) as exc:
        st.error(f"L'index de recherche est inutilisable : {exc}")
        st.code(REBUILD_COMMAND, language="bash")
    st.stop()


def warm_cards(searcher: Searcher) -> None:
    """Once per build served, in the background: the counter sheets' cards prepared (`assistant.card.warm`)."""
    _warm_cards(searcher, searcher.index.build_id)


@st.cache_resource(show_spinner=False)
def _warm_cards(_searcher: Searcher, build_id: str) -> threading.Thread:
    def run() -> None:
        _searcher.wait_ready(300)  # the model first: the first agents' searches need it more than the cards
        try:
            site = load_site()
        except SiteError:
            site = None
        sheets = _searcher.sheets()
        view = card.View(_searcher.partners(), 0, None, set(), site, {s.id: s.title for s in sheets})
        card.warm(sheets, view)

    thread = threading.Thread(target=run, daemon=True, name="preparation-des-cartes")
    thread.start()
    return thread


@st.cache_resource
def _turns() -> threading.Semaphore:
    return threading.Semaphore(int(os.environ.get("ASSISTANT_CONCURRENT_SEARCHES") or os.cpu_count() or 1))


def turn() -> threading.Semaphore:
    """Runs of the search page at the same time, at most one per core (ASSISTANT_CONCURRENT_SEARCHES): the others
    wait their turn, first come first served. Twenty agents pressing Enter together then get their cards one after
    the other, the first ones at once, instead of all sharing the cores (and the interpreter's lock) and all waiting
    for the last. The editors' pages take no turn: their long actions (rebuild, export) never delay an agent."""
    return _turns()


def dense_note(searcher: Searcher, result: Result | None) -> str | None:
    """A discreet word when a search was answered by keywords only because the model is not ready (or failed)."""
    if result is None or result.mode != "lexical":
        return None
    if searcher.model_error is not None:
        return f"Recherche sémantique indisponible ({searcher.model_error}) : résultats par mots-clés."
    return "Recherche sémantique en cours de chargement : résultats par mots-clés pour l'instant."


@st.cache_resource(on_release=Store.close)  # a cleared cache closes the database
def _store(target: str) -> Store:
    return Store(target, background=True)  # searches are written by a background thread, off the page's path


def store() -> Store:
    """The search log and feedback store (ASSISTANT_DB); unusable, says why and stops the page."""
    try:
        return _store(config.db_target())
    except StorageError as exc:
        st.error(f"Le journal des recherches est inutilisable : {exc}")
    st.stop()


def kb_fingerprint(root: Path) -> tuple:
    """Names, sizes and modification times of the KB's files: it changes when an editor saves a sheet."""
    if not root.is_dir():
        return (str(root),)
    files = sorted(p for p in root.rglob("*") if p.suffix in (".md", ".yaml", ".yml") and p.is_file())
    return tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in files)


@st.cache_resource(max_entries=2, show_spinner="Vérification des fiches…")
def _knowledge_base(root: str, fingerprint: tuple, day: str) -> KnowledgeBase:
    return load_kb(root, dt.date.fromisoformat(day))


def knowledge_base() -> KnowledgeBase:
    """The KB as `indexer.kb.load_kb` validates it, re-read when a file changed (or the day, for staleness)."""
    root = config.kb_dir()
    return _knowledge_base(str(root), kb_fingerprint(root), dt.date.today().isoformat())
