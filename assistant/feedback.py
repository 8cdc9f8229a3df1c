"""Searches and feedback kept for the editors: the names the app and the pages import.

The store itself lives in `storage.py` (SQLite or PostgreSQL behind one interface, migrations, retention), the
background writer in `storage_queue.py`, the CSV exports in `exports.py`.
"""

from __future__ import annotations

from assistant.storage import LOCAL_TIME, REASONS, StorageError, Store, local_time, stamp

__all__ = ["LOCAL_TIME", "REASONS", "StorageError", "Store", "local_time", "stamp"]
