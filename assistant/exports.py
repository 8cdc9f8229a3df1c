"""CSV exports of the search log and the feedback for the editors, safe to open in a spreadsheet.

A comment typed at the counter may start with "=", "+", "-" or "@": a spreadsheet would run it as a formula
(CSV injection). Every text cell that starts with one of these (or a tab, a carriage return, their full-width
and small forms, possibly after spaces) is prefixed with an apostrophe, which spreadsheets show as text.
French spreadsheet settings: semicolons, UTF-8 with a byte order mark, local times.

    python -m assistant.exports searches [--db TARGET] [-o FILE]     # or feedback
    python -m assistant.exports purge [--db TARGET] [--days N]       # what the app does at start and daily
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
from collections.abc import Iterable

from assistant import config
from assistant.storage import REASONS, StorageError, Store, local_time

# = + - @ tab CR, their full-width forms (U+FF1D, U+FF0B, U+FF0D, U+FF20) and small forms (U+FE66, U+FE62, U+FE63,
# U+FE6B): spreadsheets read all of them as the start of a formula.
FORMULA_START = frozenset("=+-@\t\r\uff1d\uff0b\uff0d\uff20\ufe66\ufe62\ufe63\ufe6b")

COLUMNS = {
    "searches": [("Date", lambda r: local_time(r["ts"])), ("Jour", "day"), ("Recherche", "query"),
                 ("Fiche proposée", "answer"), ("Confiance", lambda r: f"{r['confidence']:.2f}".replace(".", ",")),
                 ("Partenaire", "partner")],
    "feedback": [("Date", lambda r: local_time(r["ts"])), ("Jour", "day"), ("Recherche", "query"), ("Fiche", "sheet"),
                 ("Utile", lambda r: "oui" if r["useful"] else "non"),
                 ("Raison", lambda r: REASONS.get(r["reason"], r["reason"] or "")), ("Commentaire", "comment"),
                 ("Fiche attendue", "expected"),
                 ("Traité le", lambda r: local_time(r["handled_at"]) if r["handled_at"] else "")],
}


def neutralise(value: object) -> str:
    """The cell as text a spreadsheet never runs: formula-like text gets a leading apostrophe."""
    text = "" if value is None else str(value)
    stripped = text.lstrip(" \u00a0")
    if stripped and stripped[0] in FORMULA_START or text[:1] in FORMULA_START:
        return "'" + text
    return text


def to_csv(header: list[str], rows: Iterable[Iterable[object]]) -> str:
    """A CSV text (semicolons, CRLF) with every cell neutralised."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow([neutralise(h) for h in header])
    for row in rows:
        writer.writerow([neutralise(cell) for cell in row])
    return out.getvalue()


def export(store: Store, table: str) -> str:
    """One table of the store as CSV text, in the order the rows were written."""
    if table not in COLUMNS:
        raise ValueError(f"export inconnu {table!r} : {', '.join(COLUMNS)}")
    columns = COLUMNS[table]
    rows = ([get(r) if callable(get) else r[get] for _, get in columns] for r in store.rows(table))
    return to_csv([name for name, _ in columns], rows)


def export_bytes(store: Store, table: str) -> bytes:
    """The export as a file for a download button: UTF-8 with a byte order mark, so spreadsheets read accents."""
    return export(store, table).encode("utf-8-sig")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m assistant.exports", description="exports et purge du journal")
    parser.add_argument("what", choices=[*COLUMNS, "purge"])
    parser.add_argument("--db", default=None, help="fichier SQLite ou URL postgresql:// (défaut : ASSISTANT_DB)")
    parser.add_argument("-o", "--output", help="fichier CSV à écrire (défaut : la sortie standard)")
    parser.add_argument("--days", type=int, help="purge : garder ce nombre de jours (défaut : la rétention)")
    args = parser.parse_args(argv)
    if args.days is not None and args.days < 1:
        parser.error("--days : au moins 1 jour")
    try:
        with Store(args.db or config.db_target()) as store:
            if args.what == "purge":
                deleted = store.purge(args.days)
                print(f"{deleted['searches']} recherche(s) et {deleted['feedback']} avis supprimés "
                      f"(plus de {args.days or store.retention} jours)")
                return 0
            data = export_bytes(store, args.what)
    except StorageError as exc:
        print(f"erreur : {exc}", file=sys.stderr)
        return 3
    if args.output:
        with open(args.output, "wb") as out:
            out.write(data)
    else:
        sys.stdout.buffer.write(data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
