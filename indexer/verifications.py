"""The verification log (kb/verifications/<partner>.yaml): which fact of which sheet was checked, against what
official source, on what day, with what outcome.

One list per file; each entry:

    - sheet: ants-passeport            # id of a sheet of the KB
      claim: "Passeport adulte : 86 €"  # the fact as the sheet states it
      source: https://www.service-public.fr/particuliers/vosdroits/F34752
      checked: 2026-12-01               # AAAA-MM-JJ
      verdict: confirmed                # confirmed | corrected | rule | removed | unconfirmed

Verdicts: `confirmed` (the source says so), `corrected` (the sheet was corrected from the source), `rule` (a figure
replaced by a rule and the place to check it, the source), `removed` (taken out of the sheet), `unconfirmed` (the
sheet still states it, but no official source was found to confirm it: `source` is the official page to check).

Errors (the KB is refused): unknown sheet, source not in https, bad or future date, unknown verdict, missing field.
Warnings: a check older than 12 months, a confirmed claim whose source is not among the sheet's `sources`, an entry
filed under another partner's file.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from indexer.sheets import Problem, Sheet, YamlLoader

FOLDER = "verifications"
VERDICTS = ("confirmed", "corrected", "rule", "removed", "unconfirmed")
BACKED = ("confirmed", "corrected", "rule")  # checked against a source that says so
FIELDS = ("sheet", "claim", "source", "checked", "verdict")
MAX_AGE_DAYS = 365  # a check older than this is due again
MAX_FILE_BYTES = 1_000_000
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class Verification:
    path: str
    line: int
    sheet: str
    claim: str
    source: str
    checked: dt.date
    verdict: str


def parse_log(text: str, path: str) -> tuple[list[Verification], list[Problem]]:
    """Read one log file's text: well-formed entries, and a problem (file:line) for each malformed one.
    Only structure and field formats are checked here; `check_log` compares the entries with the KB."""
    problems: list[Problem] = []
    try:
        root = yaml.compose(text, Loader=YamlLoader)  # nodes only; anchors, aliases and deep nesting refused
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problems.append(Problem(path, mark.line + 1 if mark else 1, f"YAML invalide : {getattr(exc, 'problem', exc)}"))
        return [], problems
    if root is None:
        return [], problems
    if not isinstance(root, yaml.SequenceNode):
        problems.append(Problem(path, root.start_mark.line + 1, "journal des vérifications : une liste est attendue",
                                "chaque vérification commence par « - sheet: … »"))
        return [], problems
    entries = []
    for item in root.value:
        entry = _entry(item, path, problems)
        if entry is not None:
            entries.append(entry)
    return entries, problems


def _entry(item: yaml.Node, path: str, problems: list[Problem]) -> Verification | None:
    line = item.start_mark.line + 1

    def error(where: int, message: str, hint: str = "") -> None:
        problems.append(Problem(path, where, message, hint))

    if not isinstance(item, yaml.MappingNode):
        error(line, "vérification mal formée : des champs « clé: valeur » sont attendus", ", ".join(FIELDS))
        return None
    fields: dict[str, tuple[str, int]] = {}
    present = set()
    for key, value in item.value:
        name = key.value if isinstance(key, yaml.ScalarNode) else ""
        where = value.start_mark.line + 1
        present.add(name)
        if name not in FIELDS:
            error(key.start_mark.line + 1, f"champ inconnu « {name} »", "champs admis : " + ", ".join(FIELDS))
        elif not isinstance(value, yaml.ScalarNode) or not str(value.value).strip():
            error(where, f"« {name} » doit être un texte non vide")
        else:
            fields[name] = (str(value.value).strip(), where)
    missing = [name for name in FIELDS if name not in present]
    if missing:
        error(line, "champ(s) absent(s) : " + ", ".join(missing), "chaque vérification a " + ", ".join(FIELDS))
    ok = not missing and len(fields) == len(FIELDS)
    if "source" in fields:
        source, where = fields["source"]
        if not source.startswith("https://") or len(source) <= len("https://"):
            error(where, f"source non https « {source} »", "l'adresse https de la source officielle")
            ok = False
    checked = None
    if "checked" in fields:
        text, where = fields["checked"]
        checked = _date(text)
        if checked is None:
            error(where, f"date invalide « {text} »", "format AAAA-MM-JJ, ex. 2026-12-01")
            ok = False
    if "verdict" in fields:
        verdict, where = fields["verdict"]
        if verdict not in VERDICTS:
            error(where, f"verdict inconnu « {verdict} »", "un de : " + ", ".join(VERDICTS))
            ok = False
    if not ok:
        return None
    return Verification(path, line, fields["sheet"][0], fields["claim"][0], fields["source"][0], checked,
                        fields["verdict"][0])


def _date(text: str) -> dt.date | None:
    if not _DATE.match(text):
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def check_log(entries: list[Verification], sheets: dict[str, Sheet], today: dt.date,
              partner: str | None = None, refused: frozenset[str] = frozenset()) -> list[Problem]:
    """Compare well-formed entries with the KB's sheets. `partner`: the partner the file is named after, if any;
    `refused`: ids of sheet files that did not load (their own errors say why, their checks are not judged)."""
    problems = []
    for e in entries:
        sheet = sheets.get(e.sheet)
        if sheet is None and e.sheet in refused:
            continue
        if sheet is None:
            problems.append(Problem(e.path, e.line, f"fiche inconnue « {e.sheet} »",
                                    "l'id d'une fiche de kb/ (nom du fichier sans .md)"))
            continue
        if e.checked > today:
            problems.append(Problem(e.path, e.line, f"date de vérification dans le futur « {e.checked} »",
                                    "la date du jour où la source a été lue"))
            continue
        if partner and sheet.partner != partner:
            problems.append(Problem(e.path, e.line, f"« {e.sheet} » est une fiche de {sheet.partner}, pas de {partner}",
                                    f"la déplacer dans verifications/{sheet.partner}.yaml", "warning"))
        age = (today - e.checked).days
        if age > MAX_AGE_DAYS:
            problems.append(Problem(e.path, e.line, f"vérification de plus de 12 mois ({e.checked}) : {e.claim}",
                                    "relire la source et mettre à jour « checked »", "warning"))
        if e.verdict == "confirmed" and _norm(e.source) not in {_norm(u) for u in sheet.sources}:
            problems.append(Problem(e.path, e.line, f"source absente des « sources » de {e.sheet} : {e.source}",
                                    "l'ajouter aux sources de la fiche, ou citer une de ses sources", "warning"))
    return problems


@dataclass(frozen=True)
class Coverage:
    """How many of a group's claims an official source cited by their sheet backs (see `coverage`)."""

    group: str
    claims: int  # claims the sheets still state: every entry except `removed`
    backed: int  # confirmed, corrected or rule, against a source the sheet cites
    uncited: int  # checked, but against a source missing from the sheet's `sources`
    unconfirmed: int
    removed: int

    @property
    def share(self) -> float:
        return self.backed / self.claims if self.claims else 1.0


def coverage(entries: list[Verification], sheets: list[Sheet], group=lambda sheet: sheet.partner) -> list[Coverage]:
    """Per group of sheets (their partner by default), then in total: of the claims the log records and the sheets
    still state, how many are backed by an official source that the sheet itself cites. Pure; `entries` for unknown
    sheets are ignored (`validate` reports them)."""
    by_id = {s.id: s for s in sheets}
    counts: dict[str, list[int]] = {}
    for e in entries:
        sheet = by_id.get(e.sheet)
        if sheet is None:
            continue
        row = counts.setdefault(group(sheet), [0, 0, 0, 0, 0])
        if e.verdict == "removed":
            row[4] += 1
            continue
        row[0] += 1
        if e.verdict == "unconfirmed":
            row[3] += 1
        elif _norm(e.source) in {_norm(u) for u in sheet.sources}:
            row[1] += 1
        else:
            row[2] += 1
    rows = [Coverage(name, *values) for name, values in sorted(counts.items())]
    total = [sum(values) for values in zip(*(counts.values() or [[0] * 5]))]
    return rows + [Coverage("total", *total)]


def _norm(url: str) -> str:
    return url.strip().split("#", 1)[0].rstrip("/")


def log_paths(root: Path) -> list[Path]:
    folder = root / FOLDER
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())


def load_verifications(root: str | Path, sheets: list[Sheet], today: dt.date | None = None, shown=str,
                       refused: frozenset[str] = frozenset()) -> tuple[list[Verification], list[Problem]]:
    """Every log file of <root>/verifications/, parsed and checked against `sheets`. Never raises for bad content.
    `shown` turns a path into the text used in problems (the KB loader passes its own); `refused`: see check_log."""
    today = today or dt.date.today()
    by_id = {s.id: s for s in sheets}
    entries: list[Verification] = []
    problems: list[Problem] = []
    partners = {s.partner for s in sheets}
    for path in log_paths(Path(root)):
        name = shown(path)
        if path.stat().st_size > MAX_FILE_BYTES:
            problems.append(Problem(name, 0, f"fichier trop gros (maximum {MAX_FILE_BYTES} octets)",
                                    "un fichier par partenaire"))
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            problems.append(Problem(name, 1, "le fichier n'est pas en UTF-8"))
            continue
        found, bad = parse_log(text, name)
        problems.extend(bad)
        problems.extend(check_log(found, by_id, today, path.stem if path.stem in partners else None,
                                 refused))
        entries.extend(found)
    return entries, problems
