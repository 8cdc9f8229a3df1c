"""The store on both backends, the same test bodies: SQLite (a file) and PostgreSQL (a real server, see
storage_support.py). Schema and migrations, masking, summaries, retention, the background writer, and several
processes writing at once without losing a row."""

from __future__ import annotations

import contextlib
import datetime as dt
import multiprocessing
import sqlite3
import threading

import pytest

from assistant import storage, storage_queue
from assistant.storage import MIGRATIONS, SCHEMA_VERSION, StorageError, Store

NOW = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.timezone.utc)
SEARCH_COLUMNS = {"id", "ts", "day", "query", "answer", "confidence", "partner"}
FEEDBACK_COLUMNS = {"id", "ts", "day", "query", "sheet", "useful", "reason", "comment", "expected", "handled_at"}


@pytest.fixture
def store(store_target):
    with Store(store_target) as store:
        yield store


def test_backend_follows_the_target(store_target):
    with Store(store_target) as store:
        assert store.dialect == ("postgresql" if store_target.startswith("postgresql://") else "sqlite")


def test_schema_is_versioned_and_migrations_run_once(store_target):
    with Store(store_target) as first:
        assert first.schema_version() == SCHEMA_VERSION == MIGRATIONS[-1].version
        assert first.migrate() == []  # already up to date: nothing runs twice
    with Store(store_target) as again:
        assert again.migrate() == []
        with again._transaction() as run:
            versions = [r["version"] for r in run("SELECT version FROM schema_version ORDER BY version")]
    assert versions == [m.version for m in MIGRATIONS]


def test_same_columns_on_both_backends(store):
    store.log_search("apl", "caf-aide-logement", 0.9, "caf", now=NOW)
    store.record_feedback("apl", "caf-aide-logement", True, now=NOW)
    assert set(store.searches()[0]) == SEARCH_COLUMNS
    assert set(store.feedback()[0]) == FEEDBACK_COLUMNS


def test_upgrades_a_database_of_an_older_version(store_target, monkeypatch):
    monkeypatch.setattr(storage, "MIGRATIONS", MIGRATIONS[:1])
    monkeypatch.setattr(Store, "purge", lambda self: {})  # the first version had no retention
    with Store(store_target) as old:
        assert old.schema_version() == 1
        with old._transaction() as run:  # a row as the first version wrote it
            run("INSERT INTO feedback (ts, day, query, sheet, useful, reason) VALUES (?, ?, ?, ?, ?, ?)",
                ("2026-11-20T12:00:00+00:00", "2026-11-20", "carte vitale", "cpam-carte-vitale", 0, "incomplete"))
    monkeypatch.undo()
    with Store(store_target) as new:
        assert new.schema_version() == SCHEMA_VERSION
        [row] = new.feedback()
        assert (row["sheet"], row["expected"], row["handled_at"]) == ("cpam-carte-vitale", None, None)


def test_adopts_a_sqlite_file_made_before_versioning(tmp_path):
    path = tmp_path / "assistant.sqlite"
    with contextlib.closing(sqlite3.connect(path)) as db, db:
        db.executescript("""
            CREATE TABLE searches (id INTEGER PRIMARY KEY, ts TEXT NOT NULL, day TEXT NOT NULL, query TEXT NOT NULL,
                                   answer TEXT, confidence REAL NOT NULL, partner TEXT);
            CREATE TABLE feedback (id INTEGER PRIMARY KEY, ts TEXT NOT NULL, day TEXT NOT NULL, query TEXT NOT NULL,
                                   sheet TEXT NOT NULL, useful INTEGER NOT NULL, reason TEXT, comment TEXT);
            INSERT INTO searches (ts, day, query, answer, confidence) VALUES ('2026-11-20T12:00:00+00:00',
                                  '2026-11-20', 'apl', 'caf-aide-logement', 0.9);""")
    with Store(path) as store:
        assert store.schema_version() == SCHEMA_VERSION
        assert [r["query"] for r in store.searches()] == ["apl"]


def test_search_and_feedback_are_masked(store):
    store.log_search("carte grise pour 06 12 34 56 78", "ants-carte-grise-occasion", 0.91, "ants", now=NOW)
    store.record_feedback("nir 1 85 05 78 006 084 36", "cpam-carte-vitale", False, "incomplete", "écrire à a.b@c.fr")
    [search] = store.searches()
    assert search["query"] == "carte grise pour [TÉLÉPHONE]"
    assert (search["answer"], search["confidence"], search["partner"]) == ("ants-carte-grise-occasion", 0.91, "ants")
    assert (search["ts"], search["day"]) == ("2026-11-20T12:00:00+00:00", "2026-11-20")
    [feedback] = store.feedback()
    assert (feedback["query"], feedback["comment"], feedback["useful"]) == ("nir [NIR]", "écrire à [EMAIL]", 0)


def test_summaries_for_the_editors(store):
    for query, answer, confidence in [("tarte", None, 0.1), ("Tarte", None, 0.2), ("vélo", "x", 0.55),
                                      ("apl", "caf-aide-logement", 0.95), ("tarte", None, 0.3)]:
        store.log_search(query, answer, confidence, now=NOW)
    store.log_search("apl", "caf-aide-logement", 0.9, now=NOW + dt.timedelta(days=1))
    weak = store.weak_queries(low_confidence=0.65)
    assert [(w["query"].lower(), w["count"], w["unanswered"]) for w in weak] == [("tarte", 3, 3), ("vélo", 1, 0)]
    assert weak[0]["confidence"] == pytest.approx(0.2)
    assert store.daily() == [{"day": "2026-11-20", "searches": 5, "answered": 2, "answer_rate": 0.4},
                             {"day": "2026-11-21", "searches": 1, "answered": 1, "answer_rate": 1.0}]
    assert store.top_sheets() == [{"sheet": "caf-aide-logement", "count": 2}, {"sheet": "x", "count": 1}]
    assert store.counts() == {"searches": 6, "feedback": 0}


def test_feedback_counts_and_the_editors_worklist(store):
    store.record_feedback("carte vitale", "cpam-carte-vitale", True)
    first = store.record_feedback("carte vitale", "cpam-carte-vitale", False, "wrong_sheet",
                                  expected="cpam-carte-vitale-perdue")
    store.record_feedback("apl", "caf-aide-logement", False, "outdated")
    assert store.feedback_counts() == {"cpam-carte-vitale": {"total": 2, "negative": 1},
                                       "caf-aide-logement": {"total": 1, "negative": 1}}
    latest, oldest = store.negative_feedback()
    assert (oldest["id"], oldest["reason"], oldest["expected"]) == (first, "pas la bonne fiche",
                                                                    "cpam-carte-vitale-perdue")
    assert store.expected_sheets() == {first: "cpam-carte-vitale-perdue"}
    assert [(i["id"], i["reason"]) for i in store.negative_feedback_items()][1] == (first, "wrong_sheet")
    assert store.mark_handled(first, now=NOW)
    assert not store.mark_handled(999_999) and not store.mark_handled("feedback:999999")
    assert [n["sheet"] for n in store.negative_feedback(handled=False)] == ["caf-aide-logement"]
    [done] = store.negative_feedback(handled=True)
    assert (done["id"], done["handled_at"]) == (first, "2026-11-20T12:00:00+00:00")
    assert store.mark_handled("query:recette de tarte") and store.mark_handled("query:recette de tarte")
    assert store.handled() == {f"feedback:{first}", "query:recette de tarte"}
    assert store.mark_handled(f"feedback:{first}", handled=False)
    assert store.mark_handled("query:recette de tarte", handled=False)
    assert store.handled() == set() and len(store.negative_feedback(handled=False)) == 2


def test_negative_feedback_needs_a_known_reason(store):
    with pytest.raises(ValueError, match="raison inconnue"):
        store.record_feedback("apl", "caf-aide-logement", False, "bof")
    assert store.feedback() == []


def test_retention_purges_old_rows_at_start(store_target, monkeypatch):
    today = dt.datetime.now(dt.timezone.utc)
    with Store(store_target) as store:
        store.log_search("ancienne", None, 0.1, now=today - dt.timedelta(days=400))
        store.log_search("récente", None, 0.1, now=today - dt.timedelta(days=390))
        store.record_feedback("ancienne", "caf-aide-logement", True, now=today - dt.timedelta(days=500))
        store.record_feedback("récente", "caf-aide-logement", True, now=today)
    with Store(store_target) as store:  # 13 months by default: 396 days
        assert [r["query"] for r in store.searches()] == ["récente"]
        assert [r["query"] for r in store.feedback()] == ["récente"]
    monkeypatch.setenv("ASSISTANT_RETENTION_DAYS", "30")
    with Store(store_target) as store:
        assert store.retention == 30
        assert store.searches() == [] and len(store.feedback()) == 1


def test_purge_counts_what_it_deleted(store):
    for days in (10, 20, 30):
        store.log_search("apl", None, 0.1, now=NOW - dt.timedelta(days=days))
    store.record_feedback("apl", "caf-aide-logement", True, now=NOW - dt.timedelta(days=25))
    store.mark_handled("query:apl", now=NOW - dt.timedelta(days=20))
    store.mark_handled("query:vélo", now=NOW - dt.timedelta(days=5))
    assert store.purge(days=15, now=NOW) == {"searches": 2, "feedback": 1}
    assert store.handled() == {"query:vélo"}
    assert store.purge(days=15, now=NOW) == {"searches": 0, "feedback": 0}
    assert store.counts() == {"searches": 1, "feedback": 0}


@pytest.mark.parametrize("value", ["0", "-3", "treize mois", "1.5"])
def test_a_bad_retention_setting_is_refused_in_french(value, monkeypatch, tmp_path):
    monkeypatch.setenv("ASSISTANT_RETENTION_DAYS", value)
    with pytest.raises(StorageError, match="ASSISTANT_RETENTION_DAYS.*nombre entier de jours"):
        Store(tmp_path / "assistant.sqlite")


def test_background_writes_are_seen_by_any_reader_of_the_process(store_target):
    with Store(store_target, background=True) as app, Store(store_target) as editors:
        assert app.log_search("apl 06 12 34 56 78", "caf-aide-logement", 0.9) is None  # queued, not yet written
        app.record_feedback("apl", "caf-aide-logement", False, "wrong", "voir 06 12 34 56 78")
        assert [r["query"] for r in editors.searches()] == ["apl [TÉLÉPHONE]"]
        assert editors.feedback()[0]["comment"] == "voir [TÉLÉPHONE]"


def test_a_full_queue_makes_writers_wait_and_loses_nothing(store_target):
    with Store(store_target, background=True, queue_size=2) as store:
        threads = [threading.Thread(target=lambda n=n: [store.log_search(f"q{n}-{i}", None, 0.1) for i in range(25)])
                   for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert store.flush()
        queries = [r["query"] for r in store.searches()]
    assert len(queries) == 200 and len(set(queries)) == 200


def test_close_writes_what_is_pending(store_target):
    store = Store(store_target, background=True)
    for n in range(300):
        store.log_search(f"q{n}", None, 0.1)
    store.close()
    with Store(store_target) as reader:
        assert reader.counts()["searches"] == 300


def test_a_failed_write_is_retried_not_dropped(store_target, monkeypatch):
    with Store(store_target, background=True) as store:
        real, failures = store.write_rows, []

        def flaky(rows):
            if len(failures) < 2:
                failures.append(len(rows))
                raise StorageError("base momentanément injoignable")
            return real(rows)

        monkeypatch.setattr(store, "write_rows", flaky)
        store.log_search("apl", None, 0.1)
        assert store.flush(timeout=10)
        assert len(failures) == 2 and store._writer.failures == 2
        assert store.counts()["searches"] == 1


def _writer_process(target: str, worker: int, rows: int, background: bool, start) -> None:
    start.wait()
    with Store(target, background=background) as store:
        for n in range(rows):
            store.log_search(f"recherche {worker}-{n}", None, 0.1)
            if n % 2:
                store.record_feedback(f"recherche {worker}-{n}", "caf-aide-logement", n % 4 == 1,
                                      None if n % 4 == 1 else "incomplete", f"commentaire {worker}-{n}")


def test_several_processes_write_at_once_and_nothing_is_lost(store_target):
    context = multiprocessing.get_context("fork")
    start = context.Event()
    workers = [context.Process(target=_writer_process, args=(store_target, w, 60, w % 2 == 0, start))
               for w in range(6)]
    for worker in workers:
        worker.start()
    start.set()  # every process opens the store (and runs the migrations) at the same moment
    for worker in workers:
        worker.join(120)
    assert [w.exitcode for w in workers] == [0] * 6
    with Store(store_target) as store:
        assert store.counts() == {"searches": 360, "feedback": 180}
        assert len({r["query"] for r in store.searches()}) == 360
        assert store.schema_version() == SCHEMA_VERSION
        with store._transaction() as run:
            assert len(run("SELECT version FROM schema_version")) == len(MIGRATIONS)


def test_an_unreachable_postgresql_says_so_without_its_password():
    with pytest.raises(StorageError, match="injoignable") as error:
        Store("postgresql://agent:secret-word@127.0.0.1:1/assistant")
    assert "secret-word" not in str(error.value) and "agent:***@127.0.0.1:1" in str(error.value)


def test_an_unusable_sqlite_path_says_so(tmp_path):
    (tmp_path / "fichier").write_text("pas un dossier")
    with pytest.raises(StorageError, match="inutilisable"):
        Store(tmp_path / "fichier" / "assistant.sqlite")


def test_no_writer_is_left_behind(store_target):
    with Store(store_target, background=True):
        assert len(storage_queue._WRITERS) >= 1
    assert all(w._store.target != store_target for w in storage_queue._WRITERS)


def test_rows_queued_while_postgresql_restarts_are_all_written():
    from tools.pgtemp import TempPostgres

    with TempPostgres() as server:  # a server of its own: this test stops it
        url = server.create_database("restart")
        with Store(url, background=True) as store:
            store.log_search("avant", None, 0.1)
            assert store.flush()
            server.pause()
            for n in range(50):
                store.log_search(f"pendant {n}", None, 0.1)  # the page never waits for the database
            assert not store.flush(timeout=0.5) and store._writer.pending() == 50
            server.resume()
            assert store.flush(timeout=120)
            assert store.counts()["searches"] == 51
            assert store._writer.failures >= 1


def test_a_new_file_locked_by_another_process_is_waited_for_not_refused(tmp_path):
    """Switching a new file to WAL needs it to itself; SQLite refuses at once rather than wait, so servers starting
    together on a new file used to fail with "database is locked"."""
    path = tmp_path / "assistant.sqlite"
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("CREATE TABLE t (x)")
    other.execute("BEGIN IMMEDIATE")  # another process is writing
    release = threading.Timer(0.5, lambda: other.execute("COMMIT"))
    release.start()
    try:
        with Store(str(path)) as store:
            store.log_search("apl", None, 0.5)
            assert [r["query"] for r in store.searches()] == ["apl"]
    finally:
        release.join()
        other.close()


def test_a_oui_is_taken_back_by_its_query_sheet_and_moment(store_target):
    with Store(store_target) as store:
        store.record_feedback("carte vitale 06 12 34 56 78", "cpam-carte-vitale", True, now=NOW)
        store.record_feedback("carte vitale 06 12 34 56 78", "cpam-carte-vitale", True, now=NOW + dt.timedelta(seconds=1))
        store.record_feedback("carte vitale 06 12 34 56 78", "cpam-carte-vitale", False, "incomplete", now=NOW)
        store.withdraw_feedback("carte vitale 06 12 34 56 78", "cpam-carte-vitale", NOW)  # masked as it was stored
        store.withdraw_feedback("apl", "caf-aide-logement", NOW)  # nothing to take back: nothing happens
        assert sorted((r["ts"], r["useful"]) for r in store.feedback()) == [
            (storage.stamp(NOW)[0], 0), (storage.stamp(NOW + dt.timedelta(seconds=1))[0], 1)]
    with Store(store_target, background=True) as store:  # through the writer: after the Oui, never before
        later = NOW + dt.timedelta(minutes=5)
        store.record_feedback("apl", "caf-aide-logement", True, now=later)
        store.withdraw_feedback("apl", "caf-aide-logement", later)
        store.flush()
        assert [r for r in store.feedback() if r["sheet"] == "caf-aide-logement"] == []
