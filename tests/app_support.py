"""Shared by the app's tests: a tiny hermetic index, the app's environment, a real Streamlit server.

Everything lives under pytest's tmp_path; the hash embedder makes the index deterministic and model-free.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import streamlit as st
from indexer.build import rebuild
from indexer.embed import HashEmbedder

ROOT = Path(__file__).resolve().parents[1]
TEST_KB = ROOT / "tests" / "data" / "kb"
APP = str(ROOT / "assistant_app.py")
EDITORS_PAGE = str(ROOT / "pages" / "1_Rédaction.py")

HTML_SHEET = """---
id: caf-prime-naissance
title: "Demander la prime à la naissance"
partner: caf
keywords: [prime de naissance, bébé]
online_service: null
sources: [https://www.caf.fr]
updated: 2024-01-15
---

## En bref
La prime à la naissance <script>window.__pwned = 1</script> est versée avant la naissance.

## Pièces à fournir
- Déclaration de grossesse <img src=x onerror="window.__pwned = 2">

## Étapes
1. Déclarer la grossesse à la CAF <b>avant</b> la fin du 4e mois.
2. Attendre le versement au 7e mois.
"""


def copy_kb(dest: Path, extra: dict[str, str] | None = None) -> Path:
    """A writable copy of the test KB, with extra sheets (relative path -> text)."""
    shutil.copytree(TEST_KB, dest)
    for relative, text in (extra or {}).items():
        (dest / relative).parent.mkdir(parents=True, exist_ok=True)
        (dest / relative).write_text(text, encoding="utf-8")
    return dest


def build_index(kb: Path, index: Path) -> str:
    return rebuild(kb, index, HashEmbedder(), "hash").build_id


def point_app_at(monkeypatch, tmp_path: Path, kb: Path, index: Path) -> Path:
    """Environment of the app under test; returns the database path."""
    db = tmp_path / "data" / "assistant.sqlite"
    monkeypatch.setenv("INDEXER_INDEX", str(index))
    monkeypatch.setenv("INDEXER_KB", str(kb))
    monkeypatch.setenv("ASSISTANT_DB", str(db))
    st.cache_resource.clear()
    return db


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(url: str, process: subprocess.Popen, log: Path, timeout: float = 60.0) -> None:
    """Poll `url` until it answers 200; fail with the process's log if it stops or the time runs out."""
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[:3]} s'est arrêté :\n{log.read_text(errors='replace')}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"{url} ne répond pas :\n{log.read_text(errors='replace')}")
        time.sleep(0.2)


@contextlib.contextmanager
def running(command: list[str], env: dict[str, str], log: Path, health: str, timeout: float = 60.0) -> Iterator[None]:
    """`command` in its own process group, output to `log`, until `health` answers; always stopped with its
    children (SIGTERM, then SIGKILL)."""
    with open(log, "wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        try:
            wait_until_up(health, process, log, timeout)
            yield
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(10)


@contextlib.contextmanager
def streamlit_server(env: dict[str, str], log: Path, timeout: float = 60.0) -> Iterator[str]:
    """`streamlit run assistant_app.py` on a free local port; yields its URL; always stops it."""
    port = free_port()
    command = [sys.executable, "-m", "streamlit", "run", APP, "--server.headless", "true", "--server.port", str(port),
               "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"]
    url = f"http://127.0.0.1:{port}"
    with running(command, env, log, f"{url}/_stcore/health", timeout):
        yield url


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


@contextlib.contextmanager
def chromium_browser() -> Iterator[object]:
    """Debian's chromium driven by playwright (never `playwright install`); always closed."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
