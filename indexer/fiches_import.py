"""`import-fiches`: official feed -> corpus folder -> index rebuilt with sheets and fiches, or nothing changed.

The fiches are read, the index is rebuilt through the ordinary build path (same embedding cache: only the
passages of changed fiches are embedded), and only once that build serves is the new corpus put in place.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from indexer.build import BuildReport, rebuild
from indexer.embed import Embedder
from indexer.fiches_corpus import compare, load_corpus, parse_feed, publish, write_corpus_tmp


@dataclass
class ImportReport:
    fiches: int
    added: list[str]
    changed: list[str]
    removed: list[str]
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file, reason)
    ignored: int = 0  # publications of the feed that are not fiches
    build: BuildReport | None = None

    def lines(self) -> list[str]:
        lines = [f"{self.fiches} fiches importées : {len(self.added)} ajoutées, {len(self.changed)} modifiées, "
                 f"{len(self.removed)} retirées"
                 + (f" ; {self.ignored} publications qui ne sont pas des fiches ignorées" if self.ignored else "")]
        lines += [f"{name} : fiche ignorée : {reason}" for name, reason in self.skipped]
        return lines


def import_fiches(feed: str | Path, fiches_dir: str | Path, kb_dir: str | Path, index_dir: str | Path,
                  embedder: Embedder | None, model_spec: str, progress: bool = False,
                  lock_wait: float = 60.0) -> ImportReport:
    """Import the feed (official zip or folder of F*.xml). Raises FeedError, BuildError or StoreError with the
    corpus and the serving index untouched."""
    parsed = parse_feed(feed, progress)
    previous = load_corpus(fiches_dir).get("documents", [])
    diff = compare(previous, parsed.documents)
    tmp = write_corpus_tmp(fiches_dir, parsed, str(Path(feed).name))
    try:
        build = rebuild(kb_dir, index_dir, embedder, model_spec, progress=progress, lock_wait=lock_wait,
                        fiches_dir=fiches_dir, fiches=parsed.documents)
        publish(tmp, fiches_dir)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return ImportReport(len(parsed.documents), diff["added"], diff["changed"], diff["removed"], parsed.skipped,
                        parsed.ignored, build)

