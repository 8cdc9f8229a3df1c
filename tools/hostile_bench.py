"""Hostile input and damaged builds, measured: the YAML alias bomb (time and peak memory), a 200,000-character
query (server time), and what checking a build against its manifest costs when it is loaded.

    python tools/hostile_bench.py [--index index] [--rounds 20]

Alias bomb: a sheet and a partenaires.yaml whose front matter expands to 9^9 (387 million) strings if aliases were
followed; `validate` runs on that KB in a fresh process, and the process's wall time and peak resident memory
are printed next to the same figures for a KB without the bomb (what importing the indexer costs anyway).
Long query: each kind of 200,000-character text goes through what the app does with a query (cap, mask, redact,
`Searcher.search`), after a warm-up; the median and worst wall time of --rounds runs are printed, and the median CPU
time of the serving thread (what the query costs the server, whatever else the machine is running), next to a
3-word query for reference. Timings only, no assert.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BOMB = textwrap.dedent("""\
    a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
    b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
    c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
    d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
    e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
    f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
    g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
    h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
    i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
    """)
# Runs `validate` in this child (timed after the imports) and reports its peak memory (ru_maxrss: KiB on Linux).
CHILD = textwrap.dedent("""\
    import resource, sys, time
    from indexer.cli import main
    import indexer.kb
    started = time.perf_counter()
    code = main(["validate", "--kb", sys.argv[1]])
    print(f"RESULT {code} {time.perf_counter() - started:.3f} {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f}")
    """)
QUERIES = {
    "letters": "a" * 200_000,
    "words": ("carte grise perdue " * 11_000)[:200_000],
    "digits and spaces": ("06 12 34 56 78 " * 14_000)[:200_000],
    "personal data": ("Mme Dupont 12 rue de la Paix 75002 Paris FR76 3000 6000 0112 3456 7890 189 " * 3000)[:200_000],
    "accents": "é" * 200_000,
}


def validate_in_child(kb: Path) -> tuple[int, float, float]:
    done = subprocess.run([sys.executable, "-c", CHILD, str(kb)], capture_output=True, text=True, cwd=ROOT,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}, timeout=600)
    line = next(x for x in done.stdout.splitlines() if x.startswith("RESULT"))
    _, code, seconds, mib = line.split()
    return int(code), float(seconds), float(mib)


def alias_bomb() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        clean, bombed = Path(tmp) / "clean", Path(tmp) / "bombed"
        shutil.copytree(ROOT / "tests" / "data" / "kb", clean)
        shutil.copytree(clean, bombed)
        sheet = bombed / "caf" / "caf-aide-logement.md"
        sheet.write_text(sheet.read_text(encoding="utf-8").replace("updated: 2026-10-01\n",
                                                                    "updated: 2026-10-01\n" + BOMB), encoding="utf-8")
        partners = bombed / "partenaires.yaml"
        partners.write_text(BOMB + partners.read_text(encoding="utf-8"), encoding="utf-8")
        for name, kb in (("without bomb", clean), ("alias bomb", bombed)):
            code, seconds, mib = validate_in_child(kb)
            print(f"validate, {name:13}: exit {code}, {seconds:.2f} s, peak memory {mib:.0f} MiB")


def long_query(index: str, rounds: int) -> None:
    from assistant import privacy
    from indexer.search import MAX_QUERY_CHARS
    from indexer.searcher import Searcher

    searcher = Searcher(index)
    searcher.search("carte grise")  # warm the model and caches

    def serve(text: str):
        query = privacy.mask(text[:MAX_QUERY_CHARS])  # what assistant_app.py does before searching
        return searcher.search(privacy.redact(query) or "x", top=6)

    for name, text in {"3 words (reference)": "carte grise perdue", **QUERIES}.items():
        times, cpu = [], []
        for _ in range(rounds):
            searcher.clear_cache()  # each run embeds the query anew, as a new search would
            started, started_cpu = time.perf_counter(), time.thread_time()
            serve(text)
            times.append((time.perf_counter() - started) * 1000)
            cpu.append((time.thread_time() - started_cpu) * 1000)
        label = name if name.startswith("3 words") else f"200,000 chars, {name}"
        print(f"{label:36}: wall median {statistics.median(times):5.1f} ms (worst {max(times):5.1f}), "
              f"CPU median {statistics.median(cpu):5.1f} ms, over {rounds} runs")


def pathological_markdown() -> None:
    """The slowest Markdown bodies we know of for markdown-it, at the size limit of a sheet (kb.MAX_SHEET_BYTES)."""
    from indexer.kb import MAX_SHEET_BYTES
    from indexer.sheets import parse_sheet

    head = ("---\nid: caf-x\ntitle: x\npartner: caf\nkeywords: [x]\nonline_service: null\n"
            "sources: [https://www.caf.fr]\nupdated: 2026-10-01\n---\n\n## Étapes\n1. x\n\n")
    for name, unit in (("[a]( repeated", "[a]("), ("[ repeated", "["), ("*a repeated", "*a"), ("&# repeated", "&#")):
        text = head + unit * ((MAX_SHEET_BYTES - len(head.encode())) // len(unit))
        started = time.perf_counter()
        parse_sheet(text, "kb/caf/caf-x.md", {"caf"})
        print(f"sheet of {len(text.encode()) / 1000:.0f} kB, {name:14}: parsed and checked in "
              f"{time.perf_counter() - started:.1f} s")


def build_check(index: str, rounds: int) -> None:
    """What checking a build's files against its manifest adds to loading it (once per build, never per query)."""
    from indexer.store import IndexStore, load_build, verify_build

    path = IndexStore(index).current_path()
    size = sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
    checks, loads = [], []
    for _ in range(max(3, rounds // 4)):
        started = time.perf_counter()
        verify_build(path)
        checks.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        load_build(path)
        loads.append((time.perf_counter() - started) * 1000)
    print(f"build of {size / 1e6:.1f} MB: sizes and sha256 checked in {statistics.median(checks):.0f} ms, "
          f"whole load (check included) {statistics.median(loads):.0f} ms (medians)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--index", default=str(ROOT / "index"))
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    alias_bomb()
    pathological_markdown()
    long_query(args.index, args.rounds)
    build_check(args.index, args.rounds)


if __name__ == "__main__":
    main()
