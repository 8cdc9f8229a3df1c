"""Official service-public.fr fiches ("vos droits", schema Publication 3.3): XML text -> `Sheet` of kind "fiche".

Pure: works on the bytes it is given; reading the feed and the imported corpus is `fiches_corpus.py`'s job.
Parsed with defusedxml: a DTD, an entity declaration or an external reference is refused, never expanded.
A fiche that cannot be read raises `FicheError` with the reason; a publication of a type that is not a fiche
(guided search, list of links…) raises `FicheIgnored`.
"""

from __future__ import annotations

import hashlib
import re
import xml.etree.ElementTree as ET

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from indexer.fiches_rank import FICHE_URL
from indexer.sheets import Section, Sheet

PARTNER = "service-public"
# The types of the feed that are fiches, with their "conditionnée" / "simulateur" variants.
TYPES = ("Fiche d'information", "Fiche Question-réponse", "Fiche Comment faire si")
ID_PATTERN = re.compile(r"^F\d{1,6}$")
SUMMARY = "En bref"
SITUATIONS = "Situations"
BODY = "Informations"
_DATE = re.compile(r"(\d{4}-\d{2}-\d{2})")
_INLINE = {"LienInterne", "LienIntra", "LienExterne", "MiseEnEvidence", "Expression", "Citation", "Valeur",
           "Exposant", "Abreviation", "Indice", "Montant", "Numero"}
_SKIP = {"Condition", "PivotLocal", "Source", "NoticeLiee", "RessourceWeb", "estVrai", "estIndefini", "affecteVrai",
         "affecteFaux"}
_NOTES = {"ANoter": "À noter", "ASavoir": "À savoir", "Attention": "Attention", "Rappel": "Rappel"}
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>#|$~])")


class FicheError(ValueError):
    """The fiche cannot be imported; the message is the reason, in French."""


class FicheIgnored(FicheError):
    """A publication of the feed that is not a fiche (type not imported)."""


def parse_fiche(data: bytes | str, name: str) -> Sheet:
    """One Publication XML document -> a document of kind "fiche". Raises FicheError with the reason."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    try:
        root = fromstring(raw, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise FicheError(f"XML refusé (DTD ou entités interdites) : {type(exc).__name__}") from exc
    except ET.ParseError as exc:
        line = exc.position[0] if getattr(exc, "position", None) else 0
        raise FicheError(f"XML mal formé, ligne {line} : {exc}") from exc
    if root.tag != "Publication":
        raise FicheError(f"élément racine « {root.tag} » au lieu de « Publication »")
    fid = (root.get("ID") or "").strip()
    if not ID_PATTERN.match(fid):
        raise FicheError(f"identifiant de fiche absent ou invalide : {fid!r} (attendu F suivi de chiffres)")
    stem = name.replace("\\", "/").rsplit("/", 1)[-1].rsplit(".", 1)[0]
    if stem != fid:
        raise FicheError(f"le fichier {name} contient la fiche {fid}")
    kind = (root.get("type") or "").strip()
    if not kind.startswith(TYPES):
        raise FicheIgnored(f"publication de type « {kind or 'inconnu'} » : pas une fiche, non importée")
    title = _text(_child(root, "dc:title"))
    if not title:
        raise FicheError("titre (dc:title) absent ou vide")
    modified = _modified(root)
    if modified is None:
        raise FicheError("date de mise à jour (dc:date « modified AAAA-MM-JJ ») absente ou invalide")
    url = (root.get("spUrl") or "").strip()
    if not url.startswith("https://"):
        url = FICHE_URL.format(fid)

    description = _text(_child(root, "dc:description"))
    sections: dict[str, Section] = {}
    cases: list[dict] = []
    intro = _child(root, "Introduction")
    summary_md = _blocks(intro, cases, SUMMARY) if intro is not None else ""
    summary_md = summary_md or _escape(description)
    if summary_md:
        sections[SUMMARY] = Section(SUMMARY, 0, summary_md, _plain(summary_md), [])
    body = _child(root, "Texte")
    if body is not None:
        _chapters(body, sections, cases)
    situations = _child(root, "ListeSituations")
    if situations is not None:
        _situations(situations, sections, cases)
    if len(sections) <= (1 if SUMMARY in sections else 0) and not description:
        raise FicheError("fiche sans texte (ni Introduction, ni Texte, ni ListeSituations)")

    return Sheet(
        id=fid, title=title, partner=PARTNER, keywords=_alternative_titles(root), online_service=None,
        sources=[url], updated=modified, path=name, sections=sections,
        digest=hashlib.sha256(raw).hexdigest(), kind="fiche", breadcrumb=_breadcrumb(root, fid), source_url=url,
        description=description, services=_services(root), where=_where(root), cases=cases, related=_related(root),
    )


def _child(node: ET.Element, tag: str) -> ET.Element | None:
    return node.find(_tag(tag))


def _tag(tag: str) -> str:
    return "{http://purl.org/dc/elements/1.1/}" + tag[3:] if tag.startswith("dc:") else tag


def _text(node: ET.Element | None) -> str:
    """All the text under a node, on one line."""
    return " ".join("".join(node.itertext()).split()) if node is not None else ""


def _modified(root: ET.Element) -> str | None:
    for node in root.findall(_tag("dc:date")):
        text = _text(node)
        match = _DATE.search(text)
        if match and text.startswith("modified"):
            return match.group(1)
    return None


def _breadcrumb(root: ET.Element, fid: str) -> list[str]:
    """Theme › dossier › sous-dossier, from FilDAriane (without the home page and the fiche itself)."""
    trail = root.find("FilDAriane")
    levels = [(n.get("ID") or "", _text(n)) for n in trail.findall("Niveau")] if trail is not None else []
    crumbs = [t for i, t in levels if t and i != fid and i != "Particuliers" and not t.lower().startswith("accueil")]
    if not crumbs:
        theme, folder = root.find("Theme/Titre"), root.find("DossierPere/Titre")
        crumbs = [t for t in (_text(theme), _text(folder)) if t]
    return crumbs


def _alternative_titles(root: ET.Element) -> list[str]:
    return [t for t in (_text(n) for n in root.findall("TitreAlternatif")) if t]


def _https(url: str | None) -> str:
    url = (url or "").strip()
    return url if url.startswith("https://") and " " not in url else ""


def _services(root: ET.Element) -> list[dict]:
    """Téléservices, formulaires (with their cerfa number), simulators: each once, in the fiche's order."""
    seen, services = set(), []
    for node in root.iter("ServiceEnLigne"):
        url, label = _https(node.get("URL")), _text(node.find("Titre"))
        if not url or not label or url in seen:
            continue
        seen.add(url)
        services.append({"type": node.get("type") or "Service en ligne", "label": label, "url": url,
                         "cerfa": (node.get("numerocerfa") or "").strip()})
    return services


def _where(root: ET.Element) -> list[dict]:
    seen, places = set(), []
    for node in root.iter("OuSAdresser"):
        label = _text(node.find("Titre"))
        if not label or label in seen:
            continue
        seen.add(label)
        web = node.find("RessourceWeb")
        places.append({"label": label, "type": node.get("type") or "",
                       "url": _https(web.get("URL")) if web is not None else ""})
    return places


def _related(root: ET.Element) -> list[dict]:
    related, seen = [], set()
    nodes = root.findall("QuestionReponse") + root.findall("CommentFaireSi") + root.findall("VoirAussi/Fiche")
    for node in nodes:
        fid = node.get("ID") or ""
        title = _text(node.find("Titre")) if node.find("Titre") is not None else _text(node)
        if ID_PATTERN.match(fid) and title and fid not in seen:
            seen.add(fid)
            related.append({"id": fid, "title": title})
    return related


def _chapters(body: ET.Element, sections: dict[str, Section], cases: list[dict]) -> None:
    """Each Chapitre is a section named by its title; text before the first chapter is the section "Informations"."""
    loose = [n for n in body if n.tag != "Chapitre"]
    if loose:
        holder = ET.Element("Texte")
        holder.extend(loose)
        _add_section(sections, BODY, holder, cases)
    for chapter in body.findall("Chapitre"):
        _add_section(sections, _text(chapter.find("Titre")) or BODY, chapter, cases)


def _situations(node: ET.Element, sections: dict[str, Section], cases: list[dict]) -> None:
    """ListeSituations: each Situation is a case of one section "Situations"."""
    block = len({c["block"] for c in cases})
    texts = []
    for situation in node.findall("Situation"):
        title = _text(situation.find("Titre")) or "Situation"
        markdown = _blocks(situation.find("Texte"), cases, SITUATIONS)
        cases.append({"section": SITUATIONS, "block": block, "title": title, "markdown": markdown})
        texts.append(f"{title}. {_plain(markdown)}")
    if texts:
        sections[_unique(sections, SITUATIONS)] = Section(SITUATIONS, 0, "", "\n".join(texts), [])


def _unique(sections: dict[str, Section], name: str) -> str:
    n, unique = 2, name
    while unique in sections:
        unique, n = f"{name} ({n})", n + 1
    return unique


def _add_section(sections: dict[str, Section], name: str, node: ET.Element, cases: list[dict]) -> None:
    name = _unique(sections, name)
    first = len(cases)
    markdown = _blocks(node, cases, name)
    items = _numbered(node)
    text = "\n".join([_plain(markdown)] + [f"{c['title']}. {_plain(c['markdown'])}" for c in cases[first:]])
    if text.strip():
        sections[name] = Section(name, 0, markdown, text.strip(), items)


def _numbered(node: ET.Element) -> list[str]:
    """Items of the first numbered list (Liste type="numero") outside the cases: the ordered procedure."""
    for liste in node.iter("Liste"):
        if liste.get("type") == "numero":
            return [_inline(item) for item in liste.findall("Item") if _inline(item)]
    return []


def _blocks(node: ET.Element | None, cases: list[dict], section: str, depth: int = 0) -> str:
    """Block content as Markdown. BlocCas are taken out as cases (the card shows the one the agent picks)."""
    if node is None:
        return ""
    out: list[str] = []
    for child in node:
        tag = child.tag
        if tag in _SKIP or tag == "Titre":
            continue
        if tag == "Paragraphe":
            text = _inline(child)
            if text:
                out.append(text)
        elif tag == "Liste":
            numbered = child.get("type") == "numero"
            for n, item in enumerate(child.findall("Item"), 1):
                text = " ".join(_blocks(item, cases, section, depth + 1).split("\n\n"))
                if text:
                    out.append(("  " * depth) + (f"{n}. " if numbered else "- ") + text)
        elif tag == "BlocCas":
            block = len({c["block"] for c in cases})
            for case in child.findall("Cas"):
                cases.append({"section": section, "block": block, "title": _text(case.find("Titre")) or "Cas",
                              "markdown": _blocks(case, cases, section, depth)})
        elif tag == "SousChapitre":
            title = _text(child.find("Titre"))
            inner = _blocks(child, cases, section, depth)
            out.append((f"**{_escape(title)}**\n\n" if title else "") + inner)
        elif tag in _NOTES:
            inner = _blocks(child, cases, section, depth)
            if inner:
                out.append(f"**{_NOTES[tag]}** : " + inner)
        elif tag == "Tableau":
            for row in child.iter("Rangée"):
                cells = [_text(c) for c in row.findall("Cellule")]
                if any(cells):
                    out.append("- " + " · ".join(_escape(c) for c in cells if c))
        elif tag == "ServiceEnLigne":
            label = _text(child.find("Titre"))
            if label:
                kind = child.get("type") or "Service en ligne"
                cerfa = f" (cerfa {child.get('numerocerfa')})" if child.get("numerocerfa") else ""
                out.append(f"{kind} : {_escape(label)}{_escape(cerfa)}")
        elif tag == "OuSAdresser":
            label = _text(child.find("Titre"))
            if label:
                out.append(f"Où s'adresser : {_escape(label)}")
        else:  # Texte, Chapitre, FragmentConditionne, Item content… : their blocks
            inner = _blocks(child, cases, section, depth)
            if inner:
                out.append(inner)
    return "\n\n".join(p for p in out if p.strip())


def _inline(node: ET.Element) -> str:
    """A paragraph's text with its inline elements (links, emphasis, values), Markdown-escaped, on one line."""
    parts: list[str] = []

    def walk(n: ET.Element) -> None:
        if n.tag in _SKIP:
            if n.tail:
                parts.append(n.tail)
            return
        if n.text:
            parts.append(n.text)
        for c in n:
            if c.tag in _INLINE or c.tag in _SKIP or c.tag == "Paragraphe":
                walk(c)
                if c.tag == "Paragraphe":
                    parts.append(" ")
            else:
                walk(c)
        if n.tail and n is not node:
            parts.append(n.tail)

    walk(node)
    return _escape(" ".join("".join(parts).split()))


def _escape(text: str) -> str:
    return _MD_SPECIAL.sub(r"\\\1", text)


def _plain(markdown: str) -> str:
    """Markdown of this module -> plain text for indexing."""
    text = re.sub(r"\\(.)", r"\1", markdown.replace("**", ""))
    return "\n".join(line.lstrip(" -").strip() for line in text.splitlines() if line.strip())
