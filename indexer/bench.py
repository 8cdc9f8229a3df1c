"""Benchmarks: full vs one-sheet rebuild (whole commands), a synthetic KB at scale, the official fiches at scale.

    python -m indexer bench [--kb kb] [--model default] [--synthetic 10000]
    python -m indexer bench --fiches .snapshot/vosdroits [--model default]

Timings are printed, never asserted: they depend on the machine.
"""

from __future__ import annotations

import math
import random
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from indexer.kb import GLOSSARY_FILE, PARTNERS_FILE, sheet_paths

QUERIES = ["immatriculer un véhicule", "carte vitale perdue", "APL", "prime d'activité", "casier judiciaire",
           "s'actualiser france travail", "pension de réversion", "chèque énergie", "déclarer ses revenus",
           "passeport"]


def _rebuild(kb: Path, index: Path, model: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "indexer", "rebuild", "--quiet", "--kb", str(kb), "--index", str(index),
                    "--model", model], check=True, capture_output=True)
    return time.perf_counter() - started


def rebuild_times(kb_dir: str, model: str, work: Path) -> dict[str, float]:
    """Whole `rebuild` commands: from scratch, then after editing one sheet, then with nothing changed."""
    kb = work / "kb"
    shutil.copytree(kb_dir, kb)
    index = work / "index"
    full = _rebuild(kb, index, model)
    sheet = sheet_paths(kb)[0]
    text = sheet.read_text(encoding="utf-8")
    sheet.write_text(text.replace("## Délais\n", "## Délais\nDélai indicatif, à confirmer auprès du partenaire.\n", 1),
                     encoding="utf-8")
    one = _rebuild(kb, index, model)
    nothing = _rebuild(kb, index, model)
    return {"full": full, "one_sheet": one, "unchanged": nothing}


def synthetic_kb(source: Path, target: Path, count: int, seed: int = 0) -> None:
    """`count` distinct sheets made from the real ones: new ids, shuffled extra sentences from the whole KB."""
    rng = random.Random(seed)
    target.mkdir(parents=True)
    for name in (PARTNERS_FILE, GLOSSARY_FILE):
        shutil.copy(source / name, target / name)
    templates = [(p.parent.name, p.stem, p.read_text(encoding="utf-8")) for p in sheet_paths(source)]
    sentences = [s for _, _, t in templates for s in re.split(r"(?<=[.!?])\s+", t.split("---", 2)[2]) if len(s) > 40]
    for n in range(count):
        partner, sheet_id, text = templates[n % len(templates)]
        new_id = f"{sheet_id}-{n:05d}"
        extra = " ".join(rng.sample(sentences, 3)).replace("\n", " ")
        body = text.replace(f"id: {sheet_id}", f"id: {new_id}", 1).replace("## En bref\n", f"## En bref\n{extra}\n", 1)
        folder = target / partner
        folder.mkdir(exist_ok=True)
        (folder / f"{new_id}.md").write_text(body, encoding="utf-8")


def scale(kb_dir: str, count: int, work: Path) -> dict[str, float]:
    """Build and search a synthetic KB of `count` sheets with the hash embedder (no model time: index costs only)."""
    from indexer.build import rebuild
    from indexer.embed import HashEmbedder
    from indexer.searcher import Searcher

    kb = work / "synthetic"
    synthetic_kb(Path(kb_dir), kb, count)
    started = time.perf_counter()
    report = rebuild(kb, work / "synthetic-index", HashEmbedder(), "hash")
    build = time.perf_counter() - started
    searcher = Searcher(work / "synthetic-index")
    searcher.search("échauffement")
    times = []
    for _ in range(5):
        for query in QUERIES:
            started = time.perf_counter()
            searcher.search(query + " ", top=10)  # distinct text each round: no vector cache
            times.append((time.perf_counter() - started) * 1000)
    return {"sheets": report.sheets, "chunks": report.chunks, "build_s": build,
            "query_p50_ms": statistics.median(times), "query_p95_ms": sorted(times)[int(0.95 * len(times))],
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


FICHE_QUERIES = ["faire une demande de logement social", "renouveler titre de séjour", "divorce à l'amiable",
                 "se pacser", "contrôle technique voiture", "certificat de non gage", "naturalisation",
                 "voter par procuration", "permis de construire", "dossier de surendettement"]


def change_fiches(feed: Path, target: Path, share: float) -> int:
    """Copy the feed's F*.xml to `target`, adding a sentence to the first paragraph of `share` of them (every
    n-th fiche): the passages holding that paragraph change, the others are found in the embedding cache."""
    target.mkdir(parents=True)
    files = sorted(feed.rglob("F*.xml"))
    step = max(1, round(1 / share))
    changed = 0
    for n, path in enumerate(files):
        data = path.read_bytes()
        if n % step == 0 and b"<Paragraphe>" in data:
            data = data.replace(b"<Paragraphe>", "<Paragraphe>Phrase ajoutée pour la mesure. ".encode(), 1)
            changed += 1
        (target / path.name).write_bytes(data)
    return changed


def fiches_scale(kb_dir: str, feed: str, model: str, work: Path) -> dict[str, float]:
    """Import a whole feed into a fresh index (model loading included), re-import it after 1 % of the fiches
    changed, then time queries over both tiers. Peak memory is the whole process's."""
    from indexer.embed import make_embedder
    from indexer.fiches_import import import_fiches
    from indexer.searcher import Searcher
    from indexer.store import IndexStore

    index, corpus = work / "fiches-index", work / "fiches-corpus"
    started = time.perf_counter()
    embedder = make_embedder(model)
    first = import_fiches(feed, corpus, kb_dir, index, embedder, model)
    first_s = time.perf_counter() - started
    changed = change_fiches(Path(feed), work / "feed-1pc", 0.01)
    started = time.perf_counter()
    again = import_fiches(work / "feed-1pc", corpus, kb_dir, index, embedder, model)
    again_s = time.perf_counter() - started
    del embedder  # queries as the app and the CLI run them: the build's model loaded by the searcher, with its
    # query engine (ONNX Runtime for the default model), ready before the first timed query
    searcher = Searcher(index, many_queries=True)
    searcher.search("échauffement", wait=True)
    times = []
    for _ in range(5):
        for query in QUERIES + FICHE_QUERIES:
            searcher.clear_cache()  # every query embedded as if new (the cache keys on the analysed text)
            started = time.perf_counter()
            searcher.search(query, top=10, wait=True)
            times.append((time.perf_counter() - started) * 1000)
    build = _size_mb(IndexStore(index).current_path())
    return {"fiches": first.fiches, "chunks": first.build.chunks, "first_s": first_s, "changed": changed,
            "reported_changed": len(again.changed), "embedded_again": again.build.embedded, "again_s": again_s,
            "query_p50_ms": statistics.median(times), "query_p95_ms": sorted(times)[int(0.95 * len(times))],
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "build_mb": build, "corpus_mb": _size_mb(corpus)}


def _size_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in Path(path).rglob("*") if p.is_file()) / 1e6


def run_bench(kb_dir: str, model: str, synthetic: int = 0, fiches: str | None = None) -> str:
    lines = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if fiches:
            r = fiches_scale(kb_dir, fiches, model, work)
            return "\n".join([
                f"Flux {fiches} : {r['fiches']} fiches officielles + les fiches de {kb_dir}, {r['chunks']} passages, "
                f"modèle {model} :",
                f"  import complet (chargement du modèle et premier encodage compris)  {r['first_s']:8.1f} s",
                f"  réimport après modification de {r['changed']} fiches (1 %)                {r['again_s']:8.1f} s  "
                f"({r['reported_changed']} signalées modifiées, {r['embedded_again']} passages encodés)",
                f"  recherche p50 / p95 (les deux niveaux, encodage de la requête compris)  "
                f"{r['query_p50_ms']:.1f} / {r['query_p95_ms']:.1f} ms",
                f"  mémoire maximale (processus)                                      {r['peak_rss_mb']:8.0f} Mo",
                f"  taille de la version d'index / du corpus importé                   {r['build_mb']:.0f} Mo / "
                f"{r['corpus_mb']:.0f} Mo",
            ])
        times = rebuild_times(kb_dir, model, work)
        lines += [
            f"KB {kb_dir}, modèle {model} (commandes complètes « python -m indexer rebuild ») :",
            f"  reconstruction complète        {times['full']:7.1f} s",
            f"  après modification d'une fiche {times['one_sheet']:7.1f} s  ({times['one_sheet'] / times['full']:.2f} × la complète)",
            f"  sans modification              {times['unchanged']:7.1f} s",
        ]
        if synthetic:
            result = scale(kb_dir, synthetic, work)
            lines += [
                f"Base synthétique de {result['sheets']} fiches, {result['chunks']} passages (encodeur hash, sans modèle) :",
                f"  construction                   {result['build_s']:7.1f} s",
                f"  recherche p50 / p95            {result['query_p50_ms']:.1f} / {result['query_p95_ms']:.1f} ms",
                f"  mémoire maximale (processus)   {result['peak_rss_mb']:.0f} Mo",
            ]
    return "\n".join(lines)


def read_queries(path: str | Path) -> list[str]:
    """The queries of an evaluation file (JSON lines with a "query"), or of a plain text file (one per line)."""
    import json

    found = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        if line.lstrip().startswith("{"):
            try:
                found.append(json.loads(line)["query"])
            except (ValueError, KeyError, TypeError) as exc:
                raise ValueError(f"{path}:{number}: ligne illisible ({exc})") from exc
        else:
            found.append(line.strip())
    return found


def _quantiles(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    return statistics.median(ordered), ordered[max(0, -(-95 * len(ordered) // 100) - 1)]


def query_times(index: str, queries: list[str], modes: list[str], rounds: int = 1, source: str = "all") -> list[dict]:
    """Warm queries, one mode after the other: the model is loaded and a query run first; the query-vector cache is
    cleared before every query, so each one is embedded as if it were new. Wall and CPU (process) milliseconds
    per query (each query's best of `rounds`: the machine's other work only ever adds time), the part spent embedding
    the query (wall, same round)."""
    from indexer.searcher import Searcher

    searcher = Searcher(index, many_queries=True)
    searcher.search("échauffement", wait=True)
    rows = []
    for mode in modes:
        searcher.search("échauffement", mode=mode, wait=True, source=source)
        best = [(math.inf, math.inf)] * len(queries)  # (wall, its embedding part) of each query's fastest round
        cpu = [math.inf] * len(queries)
        for _ in range(rounds):
            for n, query in enumerate(queries):
                searcher.clear_cache()
                started, cpu_started = time.perf_counter(), time.process_time()
                result = searcher.search(query, mode=mode, wait=True, source=source)
                cpu[n] = min(cpu[n], (time.process_time() - cpu_started) * 1000)
                best[n] = min(best[n], ((time.perf_counter() - started) * 1000, result.timings.get("embed", 0.0) * 1000))
        wall, embed = [w for w, _ in best], [e for _, e in best]
        rows.append({"mode": mode, "queries": len(wall), "wall": _quantiles(wall), "cpu": _quantiles(cpu),
                     "embed": _quantiles(embed)})
    return rows


def format_query_times(rows: list[dict], label: str) -> str:
    lines = [f"Requêtes à chaud, {label} (cache des vecteurs vidé avant chacune ; pour chaque requête, le meilleur "
             "des passages), p50 / p95 en ms :",
             f"  {'mode':8} {'requêtes':>8} {'temps réel':>16} {'CPU':>16} {'dont encodage':>16}"]
    for r in rows:
        cells = [f"{a:7.1f} / {b:6.1f}" for a, b in (r["wall"], r["cpu"], r["embed"])]
        lines.append(f"  {r['mode']:8} {r['queries']:8d} {cells[0]:>16} {cells[1]:>16} {cells[2]:>16}")
    return "\n".join(lines)
