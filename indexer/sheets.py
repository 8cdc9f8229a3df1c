"""Procedure sheets: Markdown text -> `Sheet`, with validation problems naming file and line.

Pure: works on the text it is given; reading files is `kb.py`'s job.
A sheet is YAML front matter followed by level-2 sections (see kb/README.md).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import asdict, dataclass, field

import yaml
from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.front_matter import front_matter_plugin

from indexer.bodycheck import check_body, host
from indexer.text import fold

SECTIONS = (
    "En bref",
    "Qui est concerné",
    "Pièces à fournir",
    "Étapes",
    "Coût",
    "Délais",
    "Cas particuliers",
    "En cas de blocage",
)
STEPS = "Étapes"
DOCUMENTS = "Pièces à fournir"
STALE_DAYS = 365  # a sheet not checked for a year is flagged to editors and agents
FIELDS = ("id", "title", "partner", "keywords", "online_service", "sources", "updated")
ID_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_CANONICAL = {fold(name): name for name in SECTIONS}

MAX_YAML_DEPTH = 20  # nested mappings/lists in a YAML file; a sheet's front matter needs 3


class YamlLoader(yaml.SafeLoader):
    """The only YAML loader of the KB (sheets' front matter, partenaires, glossaire, hors-champ).

    A SafeLoader that refuses anchors and aliases (« &a », « *a ») before anything is built from them, so that an
    "alias bomb" (a few lines expanding to billions of nodes) costs nothing, and refuses nesting deeper than
    MAX_YAML_DEPTH (the composer recurses). Dates are left as text: `updated` is checked by `_date`, so that
    "2026-13-01" is a validation error on its line instead of an exception from the YAML constructor.
    """

    def compose_node(self, parent, index):
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            kind = "alias « *" if isinstance(event, yaml.AliasEvent) else "ancre « &"
            raise yaml.composer.ComposerError(
                None, None, f"{kind}{event.anchor} » refusé(e) : les références YAML ne sont pas permises, "
                "écrire la valeur en entier", event.start_mark)
        self._depth = getattr(self, "_depth", 0) + 1
        try:
            if self._depth > MAX_YAML_DEPTH:
                raise yaml.composer.ComposerError(
                    None, None, f"imbrication trop profonde (plus de {MAX_YAML_DEPTH} niveaux)", event.start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


YamlLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader = YamlLoader

# html=False: raw HTML in a sheet stays text and is never rendered as markup.
_md = MarkdownIt("commonmark", {"html": False}).use(front_matter_plugin)


@dataclass(frozen=True)
class Problem:
    """One validation finding. Errors refuse the sheet; warnings do not."""

    path: str
    line: int
    message: str
    hint: str = ""
    severity: str = "error"

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def __str__(self) -> str:
        label = "erreur" if self.is_error else "avertissement"
        hint = f" (conseil : {self.hint})" if self.hint else ""
        return f"{self.path}:{self.line}: {label} : {self.message}{hint}"


@dataclass
class Section:
    name: str  # canonical name, e.g. "Pièces à fournir"
    line: int  # 1-based line of the heading
    markdown: str  # the section's body as written
    text: str  # plain text, for indexing
    items: list[str] = field(default_factory=list)  # top-level list items (Markdown), e.g. the steps


@dataclass
class Sheet:
    id: str
    title: str
    partner: str
    keywords: list[str]
    online_service: dict | None
    sources: list[str]
    updated: str  # ISO date
    path: str
    sections: dict[str, Section]
    digest: str  # sha256 of the source text: what the embedding cache and the manifest key on
    # Official fiches (service-public.fr, read by indexer/fiches.py) are documents of the same type; for a counter
    # sheet these fields keep their defaults. `updated` is the date the content was last checked (for a fiche, the
    # feed's "modified" date).
    kind: str = "sheet"  # "sheet" (kb/*.md) or "fiche" (official fiche)
    breadcrumb: list[str] = field(default_factory=list)  # theme › dossier › sous-dossier
    source_url: str = ""  # the fiche's page (spUrl)
    description: str = ""  # the fiche's summary (dc:description)
    services: list[dict] = field(default_factory=list)  # {"type", "label", "url", "cerfa"}: téléservices, formulaires
    where: list[dict] = field(default_factory=list)  # Où s'adresser: {"label", "type", "url"}
    cases: list[dict] = field(default_factory=list)  # situations: {"section", "block", "title", "markdown"}
    related: list[dict] = field(default_factory=list)  # related questions and fiches: {"id", "title"}

    @property
    def is_fiche(self) -> bool:
        return self.kind == "fiche"

    @property
    def steps(self) -> list[str]:
        if STEPS in self.sections:
            return self.sections[STEPS].items
        if self.is_fiche:  # a fiche's ordered procedure: the first numbered list
            return next((s.items for s in self.sections.values() if s.items), [])
        return []

    @property
    def documents(self) -> list[str]:
        return self.sections[DOCUMENTS].items if DOCUMENTS in self.sections else []

    def section_text(self, name: str) -> str:
        section = self.sections.get(name)
        return section.markdown if section else ""

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "Sheet":
        sections = {name: Section(**s) for name, s in data["sections"].items()}
        return cls(**{**data, "sections": sections})


def parse_sheet(
    text: str, path: str, partners: set[str] | None = None, today: dt.date | None = None
) -> tuple[Sheet | None, list[Problem]]:
    """Parse one sheet. Returns the sheet (None when it has errors) and every problem found."""
    problems: list[Problem] = []

    def error(line: int, message: str, hint: str = "") -> None:
        problems.append(Problem(path, line, message, hint))

    def warn(line: int, message: str, hint: str = "") -> None:
        problems.append(Problem(path, line, message, hint, "warning"))

    tokens = _md.parse(text)
    if not tokens or tokens[0].type != "front_matter":
        error(1, "en-tête YAML absent", "commencer le fichier par une ligne '---', les champs, puis '---'")
        return None, problems
    meta, key_lines = _front_matter(tokens[0], path, problems)
    if meta is None:
        return None, problems
    fm_line = tokens[0].map[0] + 1 if tokens[0].map else 1

    def line_of(key: str) -> int:
        return key_lines.get(key, fm_line)

    sheet_id = meta.get("id")
    stem = path.replace("\\", "/").rsplit("/", 1)[-1].removesuffix(".md")
    if sheet_id is None or sheet_id == "":
        error(fm_line, "champ « id » absent", f"ajouter « id: {stem} »")
    elif not isinstance(sheet_id, str) or not ID_PATTERN.match(sheet_id):
        error(line_of("id"), f"id « {sheet_id} » invalide", "minuscules, chiffres et tirets : ants-carte-grise-occasion")
    elif sheet_id != stem:
        error(line_of("id"), f"id « {sheet_id} » différent du nom du fichier « {stem} »",
              f"renommer le fichier en {sheet_id}.md ou corriger l'id")

    title = meta.get("title")
    if not isinstance(title, str) or not title.strip():
        error(line_of("title"), "champ « title » absent ou vide", "donner le titre que l'agent lira en premier")

    partner = meta.get("partner")
    if not isinstance(partner, str) or not partner:
        error(line_of("partner"), "champ « partner » absent", "un identifiant de kb/partenaires.yaml")
    elif partners is not None and partner not in partners:
        error(line_of("partner"), f"partenaire inconnu « {partner} »", "connus : " + ", ".join(sorted(partners)))
    else:
        folder = path.replace("\\", "/").rsplit("/", 2)
        if len(folder) == 3 and partners is not None and folder[1] in partners and folder[1] != partner:
            error(line_of("partner"), f"fiche rangée dans « {folder[1]} » mais partner: {partner}",
                  f"déplacer la fiche dans kb/{partner}/ ou corriger partner")

    keywords = meta.get("keywords") or []
    if not isinstance(keywords, list) or not all(isinstance(k, (str, int)) for k in keywords):
        error(line_of("keywords"), "« keywords » doit être une liste de mots ou d'expressions", "- carte grise")
        keywords = []
    keywords = [str(k) for k in keywords]
    if not keywords:
        warn(line_of("keywords"), "aucun mot-clé", "ajouter les mots des usagers : sigles, mots courants, fautes fréquentes")

    online_service = meta.get("online_service")
    if "online_service" not in meta:
        warn(fm_line, "champ « online_service » absent", "mettre « online_service: null » s'il n'y a pas de téléservice")
    elif online_service is not None:
        if not isinstance(online_service, dict) or not online_service.get("url") or not online_service.get("label"):
            error(line_of("online_service"), "« online_service » doit avoir label et url (ou valoir null)")
            online_service = None
        else:
            online_service = {"label": str(online_service["label"]), "url": str(online_service["url"])}
            _check_url(online_service["url"], line_of("online_service"), error)

    sources = meta.get("sources") or []
    if isinstance(sources, str):
        sources = [sources]
    if not isinstance(sources, list) or not sources:
        error(line_of("sources"), "aucune source officielle", "ajouter la fiche service-public.fr ou la page du partenaire")
        sources = []
    sources = [str(s) for s in sources]
    for url in sources:
        _check_url(url, line_of("sources"), error)

    updated = _date(meta.get("updated"))
    if updated is None:
        error(line_of("updated"), f"date « updated » invalide ou absente : {meta.get('updated')!r}", "format AAAA-MM-JJ")
    elif (today or dt.date.today()) - updated > dt.timedelta(days=STALE_DAYS):
        warn(line_of("updated"), f"fiche non vérifiée depuis le {updated.isoformat()}", "relire la fiche et mettre à jour la date")

    for key in meta:
        if key not in FIELDS:
            warn(line_of(key), f"champ inconnu « {key} »", "champs reconnus : " + ", ".join(FIELDS))

    sections = _sections(tokens, text.splitlines(), path, problems)
    steps = sections.get(STEPS)
    if steps is None:
        error(_last_line(text), "rubrique « ## Étapes » absente", "ajouter « ## Étapes » suivie d'une liste numérotée 1. 2. 3.")
    elif not steps.items:
        error(steps.line, "la rubrique « Étapes » n'a pas de liste numérotée", "écrire les étapes en « 1. … », « 2. … »")
    for name in SECTIONS:
        if name != STEPS and name not in sections:
            warn(_last_line(text), f"rubrique « {name} » absente")

    hosts = {host(u).removeprefix("www.") for u in [*sources, *([online_service["url"]] if online_service else [])]}
    problems.extend(Problem(path, *finding) for finding in check_body(tokens, _md.options["maxNesting"], hosts))

    if any(p.is_error for p in problems):
        return None, problems
    sheet = Sheet(
        id=sheet_id, title=title.strip(), partner=partner, keywords=keywords, online_service=online_service,
        sources=sources, updated=updated.isoformat(), path=path, sections=sections,
        digest=hashlib.sha256(text.encode("utf-8")).hexdigest(),
    )
    return sheet, problems


def _front_matter(token: Token, path: str, problems: list[Problem]) -> tuple[dict | None, dict[str, int]]:
    """The front matter as a dict, and the 1-based file line of each top-level key."""
    first = (token.map[0] if token.map else 0) + 2  # file line of the YAML's first line (after '---')
    try:
        node = yaml.compose(token.content, Loader=_Loader)  # refuses aliases and deep nesting: nothing built yet
        meta = _Loader(token.content).construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        # An unclosed quote or bracket is detected lines later: point at where it was opened instead.
        context = getattr(exc, "context", None) or ""
        opened = getattr(exc, "context_mark", None) if ("scanning" in context or "flow" in context) else None
        mark = opened or getattr(exc, "problem_mark", None)
        line = first + mark.line if mark is not None else first
        reason = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        problems.append(Problem(path, line, f"YAML invalide : {reason}",
                                "vérifier l'indentation, les deux-points et mettre entre guillemets les textes contenant « : »"))
        return None, {}
    if not isinstance(meta, dict):
        problems.append(Problem(path, first, "l'en-tête YAML doit être une liste de champs « clé: valeur »"))
        return None, {}
    lines = {}
    if isinstance(node, yaml.MappingNode):
        for key_node, _ in node.value:
            lines[str(key_node.value)] = first + key_node.start_mark.line
    return meta, lines


def _check_url(url: str, line: int, error) -> None:
    if not url.startswith("https://") or len(url) <= len("https://") or " " in url:
        error(line, f"adresse non https : « {url} »", "utiliser une adresse officielle commençant par https://")


def _date(value) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def _last_line(text: str) -> int:
    return max(1, text.count("\n") + (0 if text.endswith("\n") else 1))


def _sections(tokens: list[Token], lines: list[str], path: str, problems: list[Problem]) -> dict[str, Section]:
    """Split the body at level-2 headings; keep each section's Markdown, plain text and top-level list items."""
    starts = [i for i, t in enumerate(tokens) if t.type == "heading_open" and t.tag == "h2"]
    sections: dict[str, Section] = {}
    for n, start in enumerate(starts):
        end = starts[n + 1] if n + 1 < len(starts) else len(tokens)
        heading = tokens[start + 1].content.strip()
        line = tokens[start].map[0] + 1
        name = _CANONICAL.get(fold(heading).strip(" :"))
        if name is None:
            problems.append(Problem(path, line, f"rubrique inconnue « {heading} »",
                                    "rubriques : " + " · ".join(SECTIONS), "warning"))
            name = heading
        if name in sections:
            problems.append(Problem(path, line, f"rubrique « {name} » en double", "fusionner les deux rubriques"))
            continue
        body = tokens[start + 3 : end]
        first = tokens[start].map[1]
        last = tokens[end].map[0] if end < len(tokens) and tokens[end].map else len(lines)
        markdown = "\n".join(lines[first:last]).strip()
        wanted = "ordered_list_open" if name == STEPS else None
        sections[name] = Section(name, line, markdown, _plain(body), _items(body, lines, wanted))
    return sections


def _plain(tokens: list[Token]) -> str:
    parts = []
    for t in tokens:
        if t.type == "inline":
            parts.append("".join(c.content for c in t.children or [] if c.type in ("text", "code_inline")) or t.content)
        elif t.type in ("fence", "code_block"):
            parts.append(t.content)
    return "\n".join(p.strip() for p in parts if p.strip())


_MARKER = re.compile(r"^\s*(?:\d+[.)]|[-*+])\s+(?:\[[ xX]\]\s+)?")


def _items(tokens: list[Token], lines: list[str], wanted: str | None) -> list[str]:
    """Items of the section's first top-level list (of the wanted kind), as Markdown without the list marker."""
    items: list[str] = []
    depth = 0
    in_list = False
    for t in tokens:
        if t.type in ("bullet_list_open", "ordered_list_open"):
            if depth == 0 and not items and (wanted is None or t.type == wanted):
                in_list = True
            depth += 1
        elif t.type in ("bullet_list_close", "ordered_list_close"):
            depth -= 1
            if depth == 0 and in_list:
                break
        elif t.type == "list_item_open" and depth == 1 and in_list and t.map:
            chunk = lines[t.map[0] : t.map[1]]
            text = "\n".join([_MARKER.sub("", chunk[0], count=1)] + [c.strip() for c in chunk[1:]]).strip()
            items.append(re.sub(r"\n\s*\n", "\n", text))
    return items
