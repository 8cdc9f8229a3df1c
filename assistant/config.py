"""Where the app finds its index, its knowledge base and its database: environment first, then defaults.

Read at call time, not import time, so tests (and a second deployment) can point the app elsewhere.
"""

from __future__ import annotations

import os
from pathlib import Path


def index_dir() -> Path:
    return Path(os.environ.get("INDEXER_INDEX") or "index")


def kb_dir() -> Path:
    return Path(os.environ.get("INDEXER_KB") or "kb")


def db_target() -> str:
    """The search log's store: a SQLite file path, or a `postgresql://` URL shared by several app processes."""
    return os.environ.get("ASSISTANT_DB") or "data/assistant.sqlite"


def db_path() -> Path:
    return Path(db_target())
