"""The assistant's memory: every search and every feedback, for the editors, in SQLite or PostgreSQL.

`Store(target)` opens the store a target names: a file path (SQLite, the default, embedded) or a
`postgresql://` URL (one database shared by several app processes, see `storage_pg.py`). Both have the same
tables, created and upgraded by the numbered migrations below, recorded in `schema_version`.

All writes go through `Store`, which masks personal data first (see `privacy.py`): no caller can forget. Rows
older than the retention period (`ASSISTANT_RETENTION_DAYS`, 13 months by default) are deleted when a store
opens, and every day by the app's background writer (`storage_queue.py`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from assistant.privacy import mask

# What a "Non" means, as the editors need to sort it. Codes are stored; labels are shown.
REASONS = {
    "incomplete": "incomplète",
    "wrong": "erronée",
    "wrong_sheet": "pas la bonne fiche",
    "outdated": "obsolète",
}
try:
    LOCAL_TIME = ZoneInfo("Europe/Paris")  # a "day" is a working day at the counter, not a UTC day
except ZoneInfoNotFoundError:  # Windows without the tzdata package: days in UTC rather than no app at all
    LOCAL_TIME = dt.timezone.utc

DEFAULT_TARGET = "data/assistant.sqlite"
RETENTION_DAYS = 396  # 13 months: what the CNIL accepts for audience logs
RETENTION_VARIABLE = "ASSISTANT_RETENTION_DAYS"
TABLES = ("searches", "feedback")
WITHDRAWN = "withdrawn"  # not a table: a Oui taken back, in the writer's queue of rows (`Store.withdraw_feedback`)


class StorageError(RuntimeError):
    """The store cannot be opened or used; the message is French and names what to fix."""


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    statements: tuple[str, ...]  # `{id}` and `{real}` are the only words that differ between dialects


# Append only: a migration that has run somewhere is never edited. Columns are only ever added, so an app
# process that is one version behind keeps working on a database another process already upgraded.
MIGRATIONS = (
    Migration(1, "searches and feedback", (
        """CREATE TABLE IF NOT EXISTS searches (
            id {id},
            ts TEXT NOT NULL,          -- UTC, ISO 8601
            day TEXT NOT NULL,         -- local date (Europe/Paris), for daily charts
            query TEXT NOT NULL,       -- masked
            answer TEXT,               -- sheet id, NULL when the search was not confident
            confidence {real} NOT NULL,
            partner TEXT               -- partner filter in use, if any
        )""",
        "CREATE INDEX IF NOT EXISTS searches_day ON searches(day)",
        """CREATE TABLE IF NOT EXISTS feedback (
            id {id},
            ts TEXT NOT NULL,
            day TEXT NOT NULL,
            query TEXT NOT NULL,       -- masked
            sheet TEXT NOT NULL,
            useful INTEGER NOT NULL,   -- 1 = Oui, 0 = Non
            reason TEXT,               -- a key of REASONS when useful = 0
            comment TEXT               -- masked
        )""",
        "CREATE INDEX IF NOT EXISTS feedback_sheet ON feedback(sheet)",
    )),
    Migration(2, "editors' worklist: the sheet that was expected, when the feedback was handled", (
        "ALTER TABLE feedback ADD COLUMN expected TEXT",     # sheet id the agent expected, if they said
        "ALTER TABLE feedback ADD COLUMN handled_at TEXT",   # UTC, ISO 8601; NULL while still to handle
    )),
    Migration(3, "retention: purge by date without a full scan", (
        "CREATE INDEX IF NOT EXISTS searches_ts ON searches(ts)",
        "CREATE INDEX IF NOT EXISTS feedback_ts ON feedback(ts)",
    )),
    Migration(4, "editors' worklist items that are not a feedback row (a query without an answer)", (
        """CREATE TABLE IF NOT EXISTS handled (
            item TEXT PRIMARY KEY,     -- 'query:<lower-case masked query>'; feedback uses feedback.handled_at
            ts TEXT NOT NULL           -- UTC, ISO 8601
        )""",
    )),
)
SCHEMA_VERSION = MIGRATIONS[-1].version

Run = Callable[..., list[dict]]  # run(sql, params=()) -> rows as dicts, inside one transaction


def stamp(now: dt.datetime | None = None) -> tuple[str, str]:
    """(UTC ISO timestamp, local day) of `now` (default: the present); a naive `now` is taken as UTC."""
    now = now or dt.datetime.now(dt.timezone.utc)
    if now.tzinfo is None:
        now = now.replace(tzinfo=dt.timezone.utc)
    utc = now.astimezone(dt.timezone.utc)
    return utc.isoformat(timespec="seconds"), now.astimezone(LOCAL_TIME).date().isoformat()


def local_time(ts: str) -> str:
    """A stored UTC timestamp as the counter's clock shows it: `2026-11-26 16:03`."""
    return dt.datetime.fromisoformat(ts).astimezone(LOCAL_TIME).strftime("%Y-%m-%d %H:%M")


def retention_days(value: str | None = None) -> int:
    """Days a search or feedback is kept: `value`, else ASSISTANT_RETENTION_DAYS, else 13 months."""
    value = os.environ.get(RETENTION_VARIABLE) if value is None else value
    if value is None or not value.strip():
        return RETENTION_DAYS
    if not re.fullmatch(r"\s*\d+\s*", value) or int(value) < 1:
        raise StorageError(f"{RETENTION_VARIABLE}={value!r} : attendu un nombre entier de jours, au moins 1 "
                           f"(par défaut {RETENTION_DAYS}, soit 13 mois)")
    return int(value)


def is_postgresql(target: str | Path) -> bool:
    return str(target).startswith(("postgresql://", "postgres://"))


def describe(target: str | Path) -> str:
    """The target without its password, fit for a message or a log."""
    return re.sub(r"(://[^:/@]+):[^@/]*@", r"\1:***@", str(target))


class Store:
    """Searches and feedback. `Store(target)` is a `SQLiteStore` or a `PostgresStore`, by the target's form.

    background=True (the app) hands writes to a writer thread (`storage_queue.py`): a search never waits for
    the database, and rows are written in batches. Reads first wait for this process's pending writes.
    """

    dialect = ""
    types: dict[str, str] = {}

    def __new__(cls, target: str | Path = DEFAULT_TARGET, *args, **kwargs):
        if cls is Store:
            if is_postgresql(target):
                from assistant.storage_pg import PostgresStore as cls
            else:
                from assistant.storage_sqlite import SQLiteStore as cls
        return super().__new__(cls)

    def __init__(self, target: str | Path = DEFAULT_TARGET, background: bool = False,
                 retention: int | None = None, queue_size: int = 10_000):
        self.target = target
        self.retention = retention_days() if retention is None else retention
        self._writer = None
        self._open()
        try:
            self.migrate()
            self.purge()
        except BaseException:
            self._close()
            raise
        if background:
            from assistant.storage_queue import BackgroundWriter

            self._writer = BackgroundWriter(self, queue_size)

    # What each backend provides.
    def _open(self) -> None:
        raise NotImplementedError

    def _transaction(self) -> contextlib.AbstractContextManager[Run]:
        raise NotImplementedError

    def _migrating(self) -> contextlib.AbstractContextManager[Run]:
        """A transaction that no other process's migration can run beside (a lock held until it ends)."""
        raise NotImplementedError

    def _close(self) -> None:
        raise NotImplementedError

    # Life cycle.
    def close(self) -> None:
        """Write what is pending, then close. Idempotent."""
        writer, self._writer = getattr(self, "_writer", None), None
        if writer is not None:
            writer.close()
        self._close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def flush(self, timeout: float | None = 30.0) -> bool:
        """Wait until every write handed to the background writer is in the database; False on timeout."""
        return self._writer.flush(timeout) if self._writer is not None else True

    def _sql(self, sql: str) -> str:
        return sql.format(**self.types)

    def schema_version(self) -> int:
        with self._transaction() as run:
            return int(run("SELECT MAX(version) AS v FROM schema_version")[0]["v"] or 0)

    def migrate(self) -> list[int]:
        """Apply the migrations this database lacks, in order, under a lock; returns the versions applied."""
        applied = []
        with self._migrating() as run:
            run("CREATE TABLE IF NOT EXISTS schema_version "
                "(version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at TEXT NOT NULL)")
            done = {r["version"] for r in run("SELECT version FROM schema_version")}
            for migration in MIGRATIONS:
                if migration.version in done:
                    continue
                for statement in migration.statements:
                    run(self._sql(statement))
                run("INSERT INTO schema_version (version, description, applied_at) VALUES (?, ?, ?)",
                    (migration.version, migration.description, stamp()[0]))
                applied.append(migration.version)
        return applied

    # Writes.
    def log_search(self, query: str, answer: str | None, confidence: float, partner: str | None = None,
                   now: dt.datetime | None = None) -> int | None:
        """Record a search; returns its id (None when the background writer will write it)."""
        ts, day = stamp(now)
        return self._write("searches", (ts, day, query, answer, float(confidence), partner))

    def record_feedback(self, query: str, sheet: str, useful: bool, reason: str | None = None,
                        comment: str | None = None, now: dt.datetime | None = None,
                        expected: str | None = None) -> int | None:
        """Record a Oui/Non on a sheet; a Non needs a reason of REASONS, `expected` the sheet that should have come."""
        if not useful and reason not in REASONS:
            raise ValueError(f"raison inconnue {reason!r} : {', '.join(REASONS)}")
        ts, day = stamp(now)
        return self._write("feedback", (ts, day, query, sheet, int(bool(useful)), None if useful else reason, comment,
                                        expected or None))

    def withdraw_feedback(self, query: str, sheet: str, now: dt.datetime) -> None:
        """Take back the Oui recorded with the same query, sheet and `now` (a click the agent corrects to Non). It goes
        through the same writer as the Oui, after it: never a deletion that runs before the row it deletes."""
        ts, _ = stamp(now)
        self._write(WITHDRAWN, (ts, query, sheet))

    def _write(self, table: str, row: tuple) -> int | None:
        """Through the background writer when there is one (None), else at once (the inserted row's id)."""
        if self._writer is not None:
            self._writer.put(table, row)
            return None
        ids = self.write_rows([(table, row)])
        return ids[0] if ids else None

    def write_rows(self, rows: list[tuple[str, tuple]]) -> list[int]:
        """Mask and insert (table, row) pairs in one transaction, and carry out the withdrawals of Oui
        (`WITHDRAWN`, (ts, query, sheet)); returns the inserted rows' ids. Used by the writer thread."""
        ids = []
        with self._transaction() as run:
            for table, row in rows:
                if table == WITHDRAWN:
                    ts, query, sheet = row
                    run("DELETE FROM feedback WHERE ts = ? AND query = ? AND sheet = ? AND useful = 1",
                        (ts, mask(query.strip()), sheet))
                    continue
                if table == "searches":
                    ts, day, query, answer, confidence, partner = row
                    [new] = run("INSERT INTO searches (ts, day, query, answer, confidence, partner) "
                                "VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                                (ts, day, mask(query.strip()), answer, confidence, partner))
                else:
                    ts, day, query, sheet, useful, reason, comment, expected = row
                    comment = mask(comment.strip()) if comment and comment.strip() else None
                    [new] = run("INSERT INTO feedback (ts, day, query, sheet, useful, reason, comment, expected) "
                                "VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                                (ts, day, mask(query.strip()), sheet, useful, reason, comment, expected))
                ids.append(int(new["id"]))
        return ids

    def mark_handled(self, item: str | int, now: dt.datetime | None = None, handled: bool = True) -> bool:
        """An editor dealt with a worklist item (handled=False: not yet after all); False if there is no such feedback.

        `item` is a feedback id, `"feedback:<id>"`, or any other key such as `"query:<lower-case query>"`.
        """
        ts = stamp(now)[0] if handled else None
        feedback_id = item if isinstance(item, int) else (
            int(item.split(":", 1)[1]) if re.fullmatch(r"feedback:\d+", item) else None)
        self._wait_for_writes()
        with self._transaction() as run:
            if feedback_id is not None:
                return bool(run("UPDATE feedback SET handled_at = ? WHERE id = ? RETURNING id", (ts, feedback_id)))
            if handled:
                run("INSERT INTO handled (item, ts) VALUES (?, ?) ON CONFLICT (item) DO UPDATE SET ts = excluded.ts",
                    (item, ts))
            else:
                run("DELETE FROM handled WHERE item = ?", (item,))
            return True

    def handled(self) -> set[str]:
        """Every worklist item an editor marked handled: `"feedback:<id>"` and the other keys."""
        rows = self._select("SELECT 'feedback:' || CAST(id AS TEXT) AS item FROM feedback WHERE handled_at IS NOT NULL "
                            "UNION SELECT item FROM handled")
        return {r["item"] for r in rows}

    def purge(self, days: int | None = None, now: dt.datetime | None = None) -> dict[str, int]:
        """Delete searches and feedback older than `days` (default: the retention); rows deleted per table."""
        days = self.retention if days is None else days
        cutoff = stamp((now or dt.datetime.now(dt.timezone.utc)) - dt.timedelta(days=days))[0]
        deleted = {}
        with self._transaction() as run:
            for table in TABLES:
                deleted[table] = len(run(f"DELETE FROM {table} WHERE ts < ? RETURNING id", (cutoff,)))
            run("DELETE FROM handled WHERE ts < ?", (cutoff,))  # their queries are gone too
        return deleted

    # Reads: they see every write this process made before them.
    def _wait_for_writes(self) -> None:
        from assistant.storage_queue import flush_process

        flush_process()

    def _select(self, sql: str, params: tuple = ()) -> list[dict]:
        self._wait_for_writes()
        with self._transaction() as run:
            return run(sql, params)

    def searches(self) -> list[dict]:
        return self._select("SELECT * FROM searches ORDER BY id")

    def feedback(self) -> list[dict]:
        return self._select("SELECT * FROM feedback ORDER BY id")

    def feedback_counts(self) -> dict[str, dict[str, int]]:
        """Per sheet: how many feedbacks, and how many were negative."""
        rows = self._select("SELECT sheet, COUNT(*) AS total, SUM(CASE WHEN useful = 0 THEN 1 ELSE 0 END) "
                            "AS negative FROM feedback GROUP BY sheet")
        return {r["sheet"]: {"total": int(r["total"]), "negative": int(r["negative"] or 0)} for r in rows}

    def weak_queries(self, low_confidence: float, limit: int = 100) -> list[dict]:
        """Queries left without an answer or answered with low confidence, most frequent first.

        These are what the knowledge base is missing (a sheet, a keyword, a synonym in the glossary).
        """
        rows = self._select(
            """SELECT MIN(query) AS query, COUNT(*) AS "count",
                      SUM(CASE WHEN answer IS NULL THEN 1 ELSE 0 END) AS unanswered,
                      AVG(confidence) AS confidence, MAX(ts) AS "last"
               FROM searches WHERE answer IS NULL OR confidence < ?
               GROUP BY lower(query) ORDER BY "count" DESC, "last" DESC LIMIT ?""",
            (float(low_confidence), int(limit)))
        return [{**r, "count": int(r["count"]), "unanswered": int(r["unanswered"])} for r in rows]

    def negative_feedback(self, limit: int = 200, handled: bool | None = None) -> list[dict]:
        """Negative feedback, newest first; handled=False keeps those still to handle, True the handled ones."""
        where = {None: "", True: " AND handled_at IS NOT NULL", False: " AND handled_at IS NULL"}[handled]
        rows = self._select("SELECT id, ts, sheet, reason, comment, query, expected, handled_at FROM feedback "
                            f"WHERE useful = 0{where} ORDER BY id DESC LIMIT ?", (int(limit),))
        return [{**r, "reason": REASONS.get(r["reason"], r["reason"])} for r in rows]

    def negative_feedback_items(self, limit: int = 200) -> list[dict]:
        """Negative feedback with its id and expected sheet, newest first, reasons as codes (the worklist)."""
        return self._select("SELECT id, ts, sheet, reason, comment, query, expected, handled_at FROM feedback "
                            "WHERE useful = 0 ORDER BY id DESC LIMIT ?", (int(limit),))

    def expected_sheets(self) -> dict[int, str]:
        """Feedback id -> the sheet the agent said should have come out."""
        rows = self._select("SELECT id, expected FROM feedback WHERE expected IS NOT NULL")
        return {int(r["id"]): r["expected"] for r in rows}

    def daily(self) -> list[dict]:
        """Searches per local day, with the share of them that got an answer."""
        rows = self._select("SELECT day, COUNT(*) AS searches, SUM(CASE WHEN answer IS NOT NULL THEN 1 ELSE 0 END) "
                            "AS answered FROM searches GROUP BY day ORDER BY day")
        return [{"day": r["day"], "searches": int(r["searches"]), "answered": int(r["answered"]),
                 "answer_rate": int(r["answered"]) / int(r["searches"])} for r in rows]

    def top_sheets(self, limit: int = 10) -> list[dict]:
        """The sheets given most often as the answer."""
        rows = self._select('SELECT answer AS sheet, COUNT(*) AS "count" FROM searches WHERE answer IS NOT NULL '
                            'GROUP BY answer ORDER BY "count" DESC, answer LIMIT ?', (int(limit),))
        return [{"sheet": r["sheet"], "count": int(r["count"])} for r in rows]

    def counts(self) -> dict[str, int]:
        """Rows per table (the load tool counts what was written)."""
        return {table: int(self._select(f"SELECT COUNT(*) AS n FROM {table}")[0]["n"]) for table in TABLES}

    def rows(self, table: str) -> Iterator[dict]:
        """Every row of `table` in id order, for exports."""
        if table not in TABLES:
            raise ValueError(f"table inconnue {table!r} : {', '.join(TABLES)}")
        yield from self._select(f"SELECT * FROM {table} ORDER BY id")
