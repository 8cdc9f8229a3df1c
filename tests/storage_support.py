"""Fixtures of the storage tests: a real PostgreSQL server for the session, a fresh database per test.

The server comes from Debian's packages (`.ci/run` installs them when missing) and is started by
`tools/pgtemp.py` in a folder of its own on a free loopback port; it stops at the end of the session.
"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # tools/ is not a package of the project: found from the repository
    sys.path.insert(0, str(ROOT))

from tools.pgtemp import TempPostgres  # noqa: E402

_names = itertools.count(1)


@pytest.fixture(scope="session")
def postgres_server():
    with TempPostgres() as server:
        yield server


@pytest.fixture
def postgres_url(postgres_server) -> str:
    """The URL of a new, empty database of the session's server."""
    return postgres_server.create_database(f"test_{next(_names)}")


@pytest.fixture(params=["sqlite", "postgresql"])
def store_target(request, tmp_path) -> str:
    """Where a store lives, once per backend: a SQLite file, then a PostgreSQL database."""
    if request.param == "sqlite":
        return str(tmp_path / "data" / "assistant.sqlite")
    return request.getfixturevalue("postgres_url")
