"""The assistant's memory: every search and every feedback, in one SQLite file, for the editors.

All writes go through `Store`, which masks personal data first (see `privacy.py`): no caller can forget.
One connection per store, kept open and shared by Streamlit's session threads under a lock: reopening it
for each search would make SQLite checkpoint and fsync the WAL at every close (tens of ms on a busy disk).
WAL mode lets another process (a second server, a script) write while an editor reads.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import sqlite3
import threading
from collections.abc import Iterator
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

SCHEMA = """
CREATE TABLE IF NOT EXISTS searches (
    id INTEGER PRIMARY KEY,
    ts TEXT NOT NULL,          -- UTC, ISO 8601
    day TEXT NOT NULL,         -- local date (Europe/Paris), for daily charts
    query TEXT NOT NULL,       -- masked
    answer TEXT,               -- sheet id, NULL when the search was not confident
    confidence REAL NOT NULL,
    partner TEXT               -- partner filter in use, if any
);
CREATE INDEX IF NOT EXISTS searches_day ON searches(day);
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY,
    ts TEXT NOT NULL,
    day TEXT NOT NULL,
    query TEXT NOT NULL,       -- masked
    sheet TEXT NOT NULL,
    useful INTEGER NOT NULL,   -- 1 = Oui, 0 = Non
    reason TEXT,               -- a key of REASONS when useful = 0
    comment TEXT               -- masked
);
CREATE INDEX IF NOT EXISTS feedback_sheet ON feedback(sheet);
"""


# ---- editors' worklist: the sheet that should have come out, and which items an editor has handled ----
REVIEW_SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback_expected (
    feedback INTEGER PRIMARY KEY REFERENCES feedback(id),
    sheet TEXT NOT NULL        -- the sheet the agent says should have come out
);
CREATE TABLE IF NOT EXISTS handled (
    item TEXT PRIMARY KEY,     -- a worklist item: 'feedback:<id>' or 'query:<lower-case query>'
    ts TEXT NOT NULL
);
"""


def _stamp(now: dt.datetime | None) -> tuple[str, str]:
    now = now or dt.datetime.now(dt.timezone.utc)
    if now.tzinfo is None:
        now = now.replace(tzinfo=dt.timezone.utc)
    utc = now.astimezone(dt.timezone.utc)
    return utc.isoformat(timespec="seconds"), now.astimezone(LOCAL_TIME).date().isoformat()


def local_time(ts: str) -> str:
    """A stored UTC timestamp as the counter's clock shows it: `2026-11-26 16:03`."""
    return dt.datetime.fromisoformat(ts).astimezone(LOCAL_TIME).strftime("%Y-%m-%d %H:%M")


class Store:
    """Searches and feedback in SQLite at `path` (its folder is created)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, timeout=5.0, check_same_thread=False)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        # With WAL, NORMAL never corrupts the file; a power cut may lose the last lines, fine for usage logs.
        self._db.execute("PRAGMA synchronous=NORMAL")
        with self._connect() as db:
            db.executescript(SCHEMA)
            db.executescript(REVIEW_SCHEMA)

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        with self._lock, self._db:  # one statement group at a time; commits, or rolls back on error
            yield self._db

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def log_search(self, query: str, answer: str | None, confidence: float, partner: str | None = None,
                   now: dt.datetime | None = None) -> int:
        ts, day = _stamp(now)
        with self._connect() as db:
            cursor = db.execute(
                "INSERT INTO searches (ts, day, query, answer, confidence, partner) VALUES (?, ?, ?, ?, ?, ?)",
                (ts, day, mask(query.strip()), answer, float(confidence), partner),
            )
            return int(cursor.lastrowid)

    def record_feedback(self, query: str, sheet: str, useful: bool, reason: str | None = None,
                        comment: str | None = None, now: dt.datetime | None = None, expected: str | None = None) -> int:
        if not useful and reason not in REASONS:
            raise ValueError(f"raison inconnue {reason!r} : {', '.join(REASONS)}")
        ts, day = _stamp(now)
        comment = mask(comment.strip()) if comment and comment.strip() else None
        with self._connect() as db:
            cursor = db.execute(
                "INSERT INTO feedback (ts, day, query, sheet, useful, reason, comment) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (ts, day, mask(query.strip()), sheet, int(bool(useful)), None if useful else reason, comment),
            )
            if expected and not useful:
                db.execute("INSERT INTO feedback_expected (feedback, sheet) VALUES (?, ?)", (cursor.lastrowid, expected))
            return int(cursor.lastrowid)

    def searches(self) -> list[dict]:
        with self._connect() as db:
            return [dict(r) for r in db.execute("SELECT * FROM searches ORDER BY id")]

    def feedback(self) -> list[dict]:
        with self._connect() as db:
            return [dict(r) for r in db.execute("SELECT * FROM feedback ORDER BY id")]

    def feedback_counts(self) -> dict[str, dict[str, int]]:
        """Per sheet: how many feedbacks, and how many were negative."""
        with self._connect() as db:
            rows = db.execute(
                "SELECT sheet, COUNT(*) AS total, SUM(useful = 0) AS negative FROM feedback GROUP BY sheet")
            return {r["sheet"]: {"total": r["total"], "negative": r["negative"] or 0} for r in rows}

    def weak_queries(self, low_confidence: float, limit: int = 100) -> list[dict]:
        """Queries left without an answer or answered with low confidence, most frequent first.

        These are what the knowledge base is missing (a sheet, a keyword, a synonym in the glossary).
        """
        with self._connect() as db:
            rows = db.execute(
                """SELECT query, COUNT(*) AS count, SUM(answer IS NULL) AS unanswered,
                          AVG(confidence) AS confidence, MAX(ts) AS last
                   FROM searches WHERE answer IS NULL OR confidence < ?
                   GROUP BY lower(query) ORDER BY count DESC, last DESC LIMIT ?""",
                (low_confidence, limit),
            )
            return [dict(r) for r in rows]

    def negative_feedback(self, limit: int = 200) -> list[dict]:
        with self._connect() as db:
            rows = db.execute(
                "SELECT ts, sheet, reason, comment, query FROM feedback WHERE useful = 0 ORDER BY id DESC LIMIT ?",
                (limit,),
            )
            return [{**dict(r), "reason": REASONS.get(r["reason"], r["reason"])} for r in rows]

    def daily(self) -> list[dict]:
        """Searches per local day, with the share of them that got an answer."""
        with self._connect() as db:
            rows = db.execute(
                "SELECT day, COUNT(*) AS searches, SUM(answer IS NOT NULL) AS answered "
                "FROM searches GROUP BY day ORDER BY day"
            )
            return [{**dict(r), "answer_rate": r["answered"] / r["searches"]} for r in rows]

    def top_sheets(self, limit: int = 10) -> list[dict]:
        """The sheets given most often as the answer."""
        with self._connect() as db:
            rows = db.execute(
                "SELECT answer AS sheet, COUNT(*) AS count FROM searches WHERE answer IS NOT NULL "
                "GROUP BY answer ORDER BY count DESC, answer LIMIT ?",
                (limit,),
            )
            return [dict(r) for r in rows]

    # ---- editors' worklist (expected sheet on feedback, handled flag) ----

    def expected_sheets(self) -> dict[int, str]:
        """Feedback id -> the sheet the agent said should have come out."""
        with self._connect() as db:
            return {r["feedback"]: r["sheet"] for r in db.execute("SELECT feedback, sheet FROM feedback_expected")}

    def negative_feedback_items(self, limit: int = 200) -> list[dict]:
        """Negative feedback with its id and expected sheet, newest first (reason codes, not labels)."""
        with self._connect() as db:
            rows = db.execute(
                """SELECT f.id, f.ts, f.sheet, f.reason, f.comment, f.query, e.sheet AS expected
                   FROM feedback f LEFT JOIN feedback_expected e ON e.feedback = f.id
                   WHERE f.useful = 0 ORDER BY f.id DESC LIMIT ?""", (limit,))
            return [dict(r) for r in rows]

    def mark_handled(self, item: str, now: dt.datetime | None = None) -> None:
        with self._connect() as db:
            db.execute("INSERT OR REPLACE INTO handled (item, ts) VALUES (?, ?)", (item, _stamp(now)[0]))

    def handled(self) -> set[str]:
        with self._connect() as db:
            return {r["item"] for r in db.execute("SELECT item FROM handled")}
