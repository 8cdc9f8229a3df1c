"""Server-side time from a query to the rendered answer card, warm, on the real index.

    python tools/card_time.py [--index index] [--rounds 3]

Runs the app script with Streamlit's AppTest (the same code path a browser session triggers, minus the network),
types each query, and times the rerun that renders the card. It first waits for the app's background work (the
model, its query graph, the cards prepared ahead), then the first round warms what is left; the figures are over
the later rounds. Searches are logged to a throw-away database.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
QUERIES = ["immatriculer un véhicule", "carte vitale perdue", "APL", "prime d'activité", "extrait casier judiciaire",
           "s'actualiser france travail", "pension de réversion", "chèque énergie perdu", "déclarer ses revenus",
           "renouveler passeport", "radié pole emploi", "faire suivre le courrier"]


BACKGROUND = ("chargement-du-modele", "preparation-des-requetes", "preparation-des-cartes")


def settle(timeout: float = 300.0) -> None:
    """Wait for the app's background work (the model, its query graph, the cards prepared ahead): warm figures
    are figures of a settled server, as the load tool's are."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        busy = [t for t in threading.enumerate() if t.name in BACKGROUND]
        if not busy:
            return
        busy[0].join(max(0.0, deadline - time.monotonic()))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--index", default=str(ROOT / "index"))
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    from streamlit.testing.v1 import AppTest

    with tempfile.TemporaryDirectory() as tmp:
        os.environ.update(INDEXER_INDEX=args.index, INDEXER_KB=str(ROOT / "kb"),
                          ASSISTANT_DB=str(Path(tmp) / "assistant.sqlite"))
        at = AppTest.from_file(str(ROOT / "assistant_app.py"), default_timeout=120).run()
        settle()
        times = []
        for round_ in range(args.rounds):
            for n, query in enumerate(QUERIES):
                # A new text every round (same words, other case), so no round reuses a cached query vector.
                box = at.text_input(key="q").input((str.lower, str.upper, str.title, str.capitalize)[round_ % 4](query))
                started = time.perf_counter()
                box.run()
                if round_:
                    times.append((time.perf_counter() - started) * 1000)
        times.sort()
        print(f"{len(times)} requêtes à chaud : p50 {statistics.median(times):.0f} ms, "
              f"p95 {times[int(0.95 * (len(times) - 1))]:.0f} ms, max {times[-1]:.0f} ms")


if __name__ == "__main__":
    main()
