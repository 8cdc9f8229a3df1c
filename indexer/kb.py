"""Reading a knowledge-base folder: sheets, partners, glossary and known gaps, with every problem found at once."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from indexer.negation import negates, without_missing
from indexer.offtopic import expression_key
from indexer.sheets import Problem, Sheet, YamlLoader, parse_sheet
from indexer.verifications import Verification, load_verifications

MAX_SHEET_BYTES = 100_000  # 14 times the longest sheet; hostile Markdown parses at tens of µs a character
PARTNERS_FILE = "partenaires.yaml"
GLOSSARY_FILE = "glossaire.yaml"
OFF_TOPICS_FILE = "hors-champ.yaml"  # optional


@dataclass
class KnowledgeBase:
    root: Path
    sheets: list[Sheet] = field(default_factory=list)
    partners: dict[str, dict] = field(default_factory=dict)
    glossary: dict[str, list[str]] = field(default_factory=dict)
    # Requests the KB has no sheet for: {"subject", "direction", "expressions"} (see indexer/offtopic.py)
    off_topics: list[dict] = field(default_factory=list)
    # The verification log, kb/verifications/*.yaml (see indexer/verifications.py)
    verifications: list[Verification] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    files: int = 0

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.is_error]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if not p.is_error]


def sheet_paths(root: Path) -> list[Path]:
    """Every `*.md` file of the KB except its README, in a stable order."""
    return sorted(p for p in root.rglob("*.md") if p.name.lower() != "readme.md")


def load_kb(root: str | Path, today: dt.date | None = None) -> KnowledgeBase:
    """Read and validate a whole KB. Never raises for bad content: problems are collected."""
    root = Path(root)
    kb = KnowledgeBase(root=root)
    if not root.is_dir():
        kb.problems.append(Problem(str(root), 0, "dossier de fiches introuvable", "vérifier --kb"))
        return kb
    kb.partners = _load_partners(root / PARTNERS_FILE, kb.problems)
    kb.glossary = _load_glossary(root / GLOSSARY_FILE, kb.problems)
    seen: dict[str, str] = {}
    for path in sheet_paths(root):
        kb.files += 1
        shown = _shown(path)
        text = _read_sheet(path, root, shown, kb.problems)
        if text is None:
            continue
        sheet, problems = parse_sheet(text, shown, set(kb.partners) or None, today)
        kb.problems.extend(problems)
        if sheet is None:
            continue
        if sheet.id in seen:
            line = _line_of_key(text, "id")
            kb.problems.append(Problem(shown, line, f"id « {sheet.id} » déjà utilisé par {seen[sheet.id]}",
                                       "chaque fiche a un id unique"))
            continue
        seen[sheet.id] = shown
        kb.sheets.append(sheet)
    kb.off_topics = _load_off_topics(root / OFF_TOPICS_FILE, kb.sheets, kb.problems)
    refused = frozenset(p.stem for p in sheet_paths(root)) - {s.id for s in kb.sheets}
    kb.verifications, problems = load_verifications(root, kb.sheets, today, _shown, refused)
    kb.problems.extend(problems)
    return kb


def _shown(path: Path) -> str:
    """The path as an editor would type it: relative to the working directory when possible."""
    absolute = path.absolute()
    return str(absolute.relative_to(Path.cwd())) if absolute.is_relative_to(Path.cwd()) else str(absolute)


def _read_sheet(path: Path, root: Path, shown: str, problems: list[Problem]) -> str | None:
    if path.is_symlink():
        target = path.resolve()
        if not target.is_relative_to(root.resolve()):
            problems.append(Problem(shown, 0, f"lien symbolique vers {target}, hors du dossier des fiches",
                                    "copier la fiche dans kb/ au lieu d'un lien"))
            return None
    size = path.stat().st_size
    if size > MAX_SHEET_BYTES:
        problems.append(Problem(shown, 0, f"fichier trop gros ({size} octets, maximum {MAX_SHEET_BYTES})",
                                "une fiche tient en quelques pages"))
        return None
    data = path.read_bytes()
    if b"\x00" in data:
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        problems.append(Problem(shown, line, "fichier binaire (octet nul), pas une fiche texte",
                                "enregistrer la fiche en texte Markdown UTF-8"))
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        problems.append(Problem(shown, line, "le fichier n'est pas en UTF-8",
                                "l'enregistrer en UTF-8 dans l'éditeur (Enregistrer sous… › Encodage UTF-8)"))
        return None


def _line_of_key(text: str, key: str) -> int:
    for n, line in enumerate(text.splitlines(), 1):
        if line.startswith(f"{key}:"):
            return n
    return 1


def load_partners(root: str | Path) -> dict[str, dict]:
    """Only the partners of a KB (for `new`): no sheet is read."""
    return _load_partners(Path(root) / PARTNERS_FILE, [])


def _load_yaml(path: Path, problems: list[Problem]):
    if not path.exists():
        problems.append(Problem(_shown(path), 0, "fichier absent", "voir kb/README.md"))
        return None
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=YamlLoader)  # noqa: S506 - safe, no aliases
    except UnicodeDecodeError:
        problems.append(Problem(_shown(path), 1, "le fichier n'est pas en UTF-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problems.append(Problem(_shown(path), mark.line + 1 if mark else 1,
                                f"YAML invalide : {getattr(exc, 'problem', exc)}"))
    return None


def _load_partners(path: Path, problems: list[Problem]) -> dict[str, dict]:
    data = _load_yaml(path, problems)
    if data is None:
        return {}
    if not isinstance(data, dict) or not all(isinstance(v, dict) and v.get("name") for v in data.values()):
        problems.append(Problem(_shown(path), 1, "chaque partenaire doit avoir au moins « name »"))
        return {}
    return {str(k): v for k, v in data.items()}


def _load_glossary(path: Path, problems: list[Problem]) -> dict[str, list[str]]:
    data = _load_yaml(path, problems)
    if data is None:
        return {}
    if not isinstance(data, dict):
        problems.append(Problem(_shown(path), 1, "le glossaire doit associer un terme à une liste d'équivalents"))
        return {}
    glossary = {}
    for term, values in data.items():
        if isinstance(values, str):
            values = [values]
        if not isinstance(values, list):
            problems.append(Problem(_shown(path), _line_of_key(path.read_text(encoding="utf-8"), str(term)),
                                    f"« {term} » : la valeur doit être une liste"))
            continue
        glossary[str(term)] = [str(v) for v in values]
    return glossary


def _load_off_topics(path: Path, sheets: list[Sheet], problems: list[Problem]) -> list[dict]:
    """kb/hors-champ.yaml: a list of {sujet, expressions, orienter}. An expression that is a sheet's title or
    keyword is dropped with a warning: that sheet covers it, so it is not a gap."""
    if not path.exists():
        return []
    shown = _shown(path)
    try:
        root = yaml.compose(path.read_text(encoding="utf-8"), Loader=YamlLoader)
    except UnicodeDecodeError:
        problems.append(Problem(shown, 1, "le fichier n'est pas en UTF-8"))
        return []
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problems.append(Problem(shown, mark.line + 1 if mark else 1, f"YAML invalide : {getattr(exc, 'problem', exc)}"))
        return []
    if root is None:
        return []
    if not isinstance(root, yaml.SequenceNode):
        problems.append(Problem(shown, root.start_mark.line + 1, "hors-champ : une liste de sujets est attendue",
                                "voir l'en-tête du fichier"))
        return []
    # a sheet covers an expression that is one of its names (title or keyword, without what it says is missing)
    names = [(s.id, {frozenset(expression_key(without_missing(n))) for n in [s.title, *s.keywords]}) for s in sheets]
    topics = []
    for item in root.value:
        line = item.start_mark.line + 1
        fields = {k.value: v for k, v in item.value} if isinstance(item, yaml.MappingNode) else {}
        subject, direction, expressions = fields.get("sujet"), fields.get("orienter"), fields.get("expressions")
        if not (isinstance(subject, yaml.ScalarNode) and subject.value.strip()
                and isinstance(direction, yaml.ScalarNode) and direction.value.strip()
                and isinstance(expressions, yaml.SequenceNode) and expressions.value):
            problems.append(Problem(shown, line, "sujet hors champ incomplet",
                                    "chaque sujet a « sujet », « expressions » (liste) et « orienter »"))
            continue
        kept = []
        for node in expressions.value:
            where = node.start_mark.line + 1
            key = expression_key(str(node.value)) if isinstance(node, yaml.ScalarNode) else ()
            if not key:
                problems.append(Problem(shown, where, f"expression vide ou sans mot utile : {node.value!r}"))
                continue
            if negates(str(node.value)):  # "divorcer sans juge" would also find "devant le juge pour mon divorce"
                problems.append(Problem(shown, where, f"« {node.value} » : une négation n'est pas lue dans une "
                                        "expression, qui trouverait aussi le contraire : expression ignorée",
                                        "la reformuler sans négation (« divorce par consentement mutuel »)", "warning"))
                continue
            covered = [sid for sid, keys in names if frozenset(key) in keys]
            if covered:
                problems.append(Problem(shown, where, f"« {node.value} » figure dans le titre ou les mots-clés de "
                                        f"{', '.join(covered)} : expression ignorée",
                                        "la retirer d'ici, ou des mots-clés de la fiche", "warning"))
                continue
            kept.append(str(node.value))
        if kept:
            topics.append({"subject": subject.value.strip(), "direction": " ".join(direction.value.split()),
                           "expressions": kept})
    return topics
