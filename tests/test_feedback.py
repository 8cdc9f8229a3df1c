"""The SQLite store: searches and feedback kept for the editors, masked, summarised per day and per sheet."""

import contextlib
import datetime as dt
import sqlite3
import threading

import pytest

from assistant.feedback import Store, local_time

NOON = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.timezone.utc)


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path / "nested" / "folder" / "assistant.sqlite") as store:
        yield store


def test_creates_its_folder_and_tables(tmp_path):
    path = tmp_path / "a" / "b" / "assistant.sqlite"
    Store(path).close()
    with contextlib.closing(sqlite3.connect(path)) as db:
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"searches", "feedback"} <= tables


def test_logs_a_search_masked(store):
    store.log_search("carte grise pour 06 12 34 56 78", "ants-carte-grise-occasion", 0.91, "ants", now=NOON)
    [row] = store.searches()
    assert row["query"] == "carte grise pour [TÉLÉPHONE]"
    assert (row["answer"], row["confidence"], row["partner"]) == ("ants-carte-grise-occasion", 0.91, "ants")
    assert row["ts"] == "2026-11-20T12:00:00+00:00"


def test_logs_a_search_without_answer_as_null(store):
    store.log_search("recette de la tarte aux pommes", None, 0.12)
    [row] = store.searches()
    assert row["answer"] is None


def test_day_is_the_local_day_at_the_counter(store):
    store.log_search("apl", "caf-aide-logement", 0.9, now=dt.datetime(2026, 11, 20, 23, 30, tzinfo=dt.timezone.utc))
    assert store.searches()[0]["day"] == "2026-11-21"  # 00:30 in Paris


def test_feedback_is_masked_and_counted(store):
    store.record_feedback("nir 1 85 05 78 006 084 36", "cpam-carte-vitale", True)
    store.record_feedback("carte vitale", "cpam-carte-vitale", False, "incomplete", "écrire à a.b@c.fr")
    store.record_feedback("carte vitale", "caf-aide-logement", False, "wrong_sheet")
    assert store.feedback()[0]["query"] == "nir [NIR]"
    assert store.feedback_counts() == {"cpam-carte-vitale": {"total": 2, "negative": 1},
                                       "caf-aide-logement": {"total": 1, "negative": 1}}
    latest, first = store.negative_feedback()
    assert (first["sheet"], first["reason"]) == ("cpam-carte-vitale", "incomplète")
    assert first["comment"] == "écrire à [EMAIL]"
    assert (latest["reason"], latest["comment"]) == ("pas la bonne fiche", None)


def test_negative_feedback_needs_a_known_reason(store):
    with pytest.raises(ValueError):
        store.record_feedback("apl", "caf-aide-logement", False, "bof")


def test_weak_queries_most_frequent_first(store):
    for query, answer, confidence in [("tarte", None, 0.1), ("Tarte", None, 0.2), ("vélo", "x", 0.55),
                                      ("apl", "caf-aide-logement", 0.95), ("tarte", None, 0.3)]:
        store.log_search(query, answer, confidence)
    weak = store.weak_queries(low_confidence=0.65)
    assert [(w["query"].lower(), w["count"], w["unanswered"]) for w in weak] == [("tarte", 3, 3), ("vélo", 1, 0)]


def test_daily_counts_and_answer_rate(store):
    day1, day2 = NOON, NOON + dt.timedelta(days=1)
    store.log_search("apl", "caf-aide-logement", 0.9, now=day1)
    store.log_search("tarte", None, 0.1, now=day1)
    store.log_search("apl", "caf-aide-logement", 0.9, now=day2)
    assert store.daily() == [
        {"day": "2026-11-20", "searches": 2, "answered": 1, "answer_rate": 0.5},
        {"day": "2026-11-21", "searches": 1, "answered": 1, "answer_rate": 1.0},
    ]
    assert store.top_sheets() == [{"sheet": "caf-aide-logement", "count": 2}]


def test_two_stores_on_one_file_see_each_other(tmp_path):
    path = tmp_path / "assistant.sqlite"
    with Store(path) as writer, Store(path) as reader:
        writer.log_search("apl", "caf-aide-logement", 0.9)
        assert len(reader.searches()) == 1


def test_is_shared_safely_by_session_threads(store):
    threads = [threading.Thread(target=lambda n=n: [store.log_search(f"q{n}", None, 0.1) for _ in range(20)])
               for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(store.searches()) == 160


def test_local_time_is_the_counter_clock():
    assert local_time("2026-11-26T15:03:18+00:00") == "2026-11-26 16:03"
    assert local_time("2026-07-01T08:00:00+00:00") == "2026-07-01 10:00"
