"""Replicas: two `streamlit run` processes sharing one PostgreSQL store and one index folder, as behind a
reverse proxy. Each serves searches through real websocket sessions; both log into the shared store; a rebuild
is served by both without a restart; the editors' page counts the searches of both."""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time

from indexer.build import rebuild
from indexer.embed import HashEmbedder
from streamlit.testing.v1 import AppTest

from app_support import EDITORS_PAGE, HTML_SHEET, build_index, copy_kb, streamlit_server
from assistant.storage import Store
from tools.load import Session

NEW_SHEET_TITLE = "Demander la prime à la naissance"


async def ask(url: str, query: str) -> list[str]:
    """One agent's session on one replica: open the page, type the query, press Enter; the card's texts."""
    session = Session(url.removeprefix("http://"), timeout=120)
    try:
        await session.open()
        status = await session.rerun(query)
        assert status == "FINISHED_SUCCESSFULLY" and not session.exceptions, session.exceptions
        return session.texts
    finally:
        await session.close()


def wait_for_rows(target: str, searches: int, timeout: float = 60.0) -> dict[str, int]:
    """The store's row counts once the replicas' background writers have written `searches` rows."""
    deadline = time.monotonic() + timeout
    with Store(target) as store:
        while (counts := store.counts())["searches"] < searches and time.monotonic() < deadline:
            time.sleep(0.1)
    return counts


def test_two_replicas_share_the_store_and_follow_a_rebuild(tmp_path, postgres_url, monkeypatch):
    kb = copy_kb(tmp_path / "kb")
    index = tmp_path / "index"
    build_index(kb, index)
    env = {"INDEXER_INDEX": str(index), "INDEXER_KB": str(kb), "ASSISTANT_DB": postgres_url}
    with contextlib.ExitStack() as stack:
        urls = [stack.enter_context(streamlit_server(env, tmp_path / f"replica-{n}.log")) for n in (1, 2)]
        before = [asyncio.run(ask(url, "prime à la naissance")) for url in urls]
        assert not any(NEW_SHEET_TITLE in text for texts in before for text in texts)

        (kb / "caf" / "caf-prime-naissance.md").write_text(HTML_SHEET, encoding="utf-8")
        rebuild(kb, index, HashEmbedder(), "hash")  # what the editors' button or `python -m indexer rebuild` does
        after = [asyncio.run(ask(url, "prime à la naissance")) for url in urls]
        assert all(any(NEW_SHEET_TITLE in text for text in texts) for texts in after), after

        assert asyncio.run(ask(urls[1], "carte grise d'occasion 06 12 34 56 78"))
        counts = wait_for_rows(postgres_url, 5)
    assert counts == {"searches": 5, "feedback": 0}
    with Store(postgres_url) as store:
        queries = [r["query"] for r in store.searches()]
    assert queries.count("prime à la naissance") == 4 and "carte grise d'occasion [TÉLÉPHONE]" in queries

    monkeypatch.setenv("INDEXER_INDEX", str(index))
    monkeypatch.setenv("INDEXER_KB", str(kb))
    monkeypatch.setenv("ASSISTANT_DB", postgres_url)
    import streamlit as st

    st.cache_resource.clear()
    # AppTest leaves the page it ran as __main__, which processes spawned later (the load tool's) would run again.
    monkeypatch.setitem(sys.modules, "__main__", sys.modules["__main__"])
    page = AppTest.from_file(EDITORS_PAGE, default_timeout=60).run()
    assert not page.exception, page.exception
    searches = next(m for m in page.metric if m.label == "Recherches")
    assert searches.value == "5"  # both replicas' searches, read from the shared store
    st.cache_resource.clear()


def test_load_tool_measures_and_counts_every_row(tmp_path, capsys):
    from tools import load

    kb = copy_kb(tmp_path / "kb")
    build_index(kb, tmp_path / "index")
    code = load.main(["--index", str(tmp_path / "index"), "--kb", str(kb), "--sessions", "1,3", "--rounds", "2",
                      "--replicas", "1", "--feedback-writers", "2", "--feedback-rows", "10", "--writers-at", "3",
                      "--pace", "0,0.2"])
    table = capsys.readouterr().out
    assert code == 0, table
    assert "| 1 | sqlite | 3 | all at once |" in table
    assert "| 1 | sqlite | 3 | every 0.2 s on average |" in table
    # 1 warm-up + 2 + 6 searches at once + 2 + 6 paced; the writers run once, at the first 3-session level
    assert "| 1 | sqlite | 1, 3, 1, 3 | 2 | 17 / 17 / 0 | 20 / 20 / 0 |" in table
