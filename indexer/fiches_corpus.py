"""The imported corpus of official fiches: reading the feed (zip or folder), the corpus folder, the import.

Layout of the corpus folder (default `fiches/`, beside the index; never in git):

    fiches/
      corpus.json   {"format", "imported_at", "source", "documents": [documents of kind "fiche"], "skipped": […]}

`corpus.json` is replaced in one os.replace, and only once the index built with it is serving: a failed import
leaves both the corpus and the serving index as they were.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import secrets
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from indexer.fiches import FicheError, FicheIgnored, parse_fiche
from indexer.sheets import Sheet

CORPUS_FILE = "corpus.json"
CORPUS_FORMAT = 1
NAME = re.compile(r"^F\d{1,6}\.xml$")
MAX_FICHE_BYTES = 5_000_000  # a fiche is a few hundred kB at most
MAX_TOTAL_BYTES = 1_500_000_000  # the whole particuliers feed is about 60 MB of XML
MAX_MEMBERS = 100_000
MAX_RATIO = 100  # uncompressed / compressed size of one zip member: above, a zip bomb


class FeedError(RuntimeError):
    """The feed as a whole cannot be read (not a zip or folder, limits exceeded); nothing was changed."""


@dataclass
class ParsedFeed:
    documents: list[Sheet] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file name, reason): malformed fiches
    ignored: int = 0  # publications that are not fiches (guided searches, link lists…)


def feed_files(path: str | Path) -> Iterator[tuple[str, bytes | None, str]]:
    """(name, bytes, reason) of every F*.xml of the feed; bytes None with a reason when a file is refused.

    A zip is read in memory, member by member, never extracted: no path can leave anything. Each member's real
    size is enforced while reading (the header may lie), as are a total size, a member count and a ratio."""
    path = Path(path)
    if path.is_dir():
        for file in sorted(p for p in path.rglob("F*.xml") if NAME.match(p.name)):
            if file.is_symlink():
                yield file.name, None, "lien symbolique ignoré"
            elif file.stat().st_size > MAX_FICHE_BYTES:
                yield file.name, None, f"fichier trop gros ({file.stat().st_size} octets, maximum {MAX_FICHE_BYTES})"
            else:
                yield file.name, file.read_bytes(), ""
        return
    if not path.is_file():
        raise FeedError(f"{path} introuvable : donner le zip officiel (vosdroits-latest.zip) ou un dossier de F*.xml")
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise FeedError(f"{path} n'est pas un zip lisible : {exc}") from exc
    with archive:
        members = archive.infolist()
        if len(members) > MAX_MEMBERS:
            raise FeedError(f"{path} : {len(members)} fichiers, plus que les {MAX_MEMBERS} admis")
        total = 0
        for info in members:
            name = info.filename.replace("\\", "/").rsplit("/", 1)[-1]
            if info.is_dir() or not NAME.match(name):
                continue
            if info.filename.startswith("/") or ".." in info.filename.split("/"):
                yield name, None, f"chemin refusé dans le zip : {info.filename}"
                continue
            if info.file_size > MAX_FICHE_BYTES or info.file_size > MAX_RATIO * max(info.compress_size, 1) + 10_000:
                yield name, None, f"taille annoncée refusée ({info.file_size} octets pour {info.compress_size} compressés)"
                continue
            with archive.open(info) as handle:
                data = handle.read(MAX_FICHE_BYTES + 1)
            if len(data) > MAX_FICHE_BYTES:
                yield name, None, f"fichier trop gros (plus de {MAX_FICHE_BYTES} octets une fois décompressé)"
                continue
            total += len(data)
            if total > MAX_TOTAL_BYTES:
                raise FeedError(f"{path} : plus de {MAX_TOTAL_BYTES} octets une fois décompressé, import refusé")
            yield name, data, ""


def parse_feed(path: str | Path, progress: bool = False) -> ParsedFeed:
    """Every fiche of the feed as a document; malformed ones are listed with their reason, never fatal."""
    feed = ParsedFeed()
    seen: dict[str, str] = {}
    for name, data, reason in tqdm(feed_files(path), desc="Lecture des fiches", unit="fiche", disable=not progress):
        if data is None:
            feed.skipped.append((name, reason))
            continue
        try:
            document = parse_fiche(data, name)
        except FicheIgnored:
            feed.ignored += 1
            continue
        except FicheError as exc:
            feed.skipped.append((name, str(exc)))
            continue
        if document.id in seen:
            feed.skipped.append((name, f"fiche {document.id} déjà lue dans {seen[document.id]}"))
            continue
        seen[document.id] = name
        feed.documents.append(document)
    if not feed.documents:
        raise FeedError(f"aucune fiche lisible dans {path}" + (f" ({len(feed.skipped)} refusées)" if feed.skipped else ""))
    feed.documents.sort(key=lambda d: d.id)
    return feed


def load_corpus(fiches_dir: str | Path) -> dict:
    """The imported corpus ({} when nothing was imported). Raises FeedError when the file is damaged."""
    path = Path(fiches_dir) / CORPUS_FILE
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise FeedError(f"corpus de fiches illisible {path} : {exc} ; relancer import-fiches") from exc
    if data.get("format") != CORPUS_FORMAT:
        raise FeedError(f"corpus de fiches {path} d'un autre format : relancer import-fiches")
    return data


def load_documents(fiches_dir: str | Path) -> list[Sheet]:
    return [Sheet.from_dict(d) for d in load_corpus(fiches_dir).get("documents", [])]


def fiche_dates(fiches_dir: str | Path) -> dict[str, tuple[str, str]]:
    """{fiche id: (feed's modified date, title)} of the imported corpus."""
    return {d["id"]: (d["updated"], d["title"]) for d in load_corpus(fiches_dir).get("documents", [])}


def write_corpus_tmp(fiches_dir: str | Path, feed: ParsedFeed, source: str) -> Path:
    """Write the new corpus beside the current one; `publish` switches to it."""
    folder = Path(fiches_dir)
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{CORPUS_FILE}.{secrets.token_hex(4)}"
    data = {"format": CORPUS_FORMAT, "imported_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "source": source, "documents": [d.to_dict() for d in feed.documents],
            "skipped": [{"file": n, "reason": r} for n, r in feed.skipped]}
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(data, handle, ensure_ascii=False)
        handle.flush()
        os.fsync(handle.fileno())
    return tmp


def publish(tmp: Path, fiches_dir: str | Path) -> None:
    os.replace(tmp, Path(fiches_dir) / CORPUS_FILE)


def compare(old: list[Sheet] | list[dict], new: list[Sheet]) -> dict[str, list[str]]:
    """Fiche ids added, changed (content digest) and removed between two corpora."""
    before = {(d["id"] if isinstance(d, dict) else d.id): (d["digest"] if isinstance(d, dict) else d.digest)
              for d in old}
    after = {d.id: d.digest for d in new}
    return {"added": sorted(i for i in after if i not in before),
            "changed": sorted(i for i in after if i in before and before[i] != after[i]),
            "removed": sorted(i for i in before if i not in after)}
