"""Checks on a sheet's body that protect the agent: no images (fetched from another site), only https addresses
(a site other than the State's or the sheet's own sources is pointed out), bounded nesting, raw HTML flagged.

Pure: works on markdown-it tokens; each finding is (line, message, hint, severity) for `sheets.Problem`.
"""

from __future__ import annotations

import re

from markdown_it.token import Token

MAX_LIST_DEPTH = 4  # nested Markdown lists in a sheet body
_RAW_HTML = re.compile(r"<\s*/?\s*[a-zA-Z][a-zA-Z0-9-]*(?:\s[^<>]*)?/?\s*>")
Finding = tuple  # (line, message, hint[, severity]), the arguments of `sheets.Problem` after the path
_URL = re.compile(r"(?<![\w@/])(?:[a-zA-Z][a-zA-Z0-9+.\-]*://|www\.|(?:javascript|vbscript|data):)[^\s<>\[\]«»\"']+",
                  re.IGNORECASE)
_IMG_TAG = re.compile(r"<\s*img\b", re.IGNORECASE)
_OFFICIAL = ("gouv.fr", "service-public.fr", "legifrance.gouv.fr")


def _trim(url: str) -> str:
    """A URL found in running text, without the punctuation or closing bracket that follows it."""
    url = url.rstrip(".,;:!?")
    while url.endswith(")") and url.count("(") < url.count(")"):
        url = url[:-1].rstrip(".,;:!?")
    return url


def host(url: str) -> str:
    rest = url.split("://", 1)[1] if "://" in url else url
    return rest.split("/", 1)[0].split("?", 1)[0].split(":", 1)[0].rstrip(".,;").lower()


def _known_host(name: str, allowed: set[str]) -> bool:
    name = name.removeprefix("www.")
    return any(name == a or name.endswith("." + a) for a in (*_OFFICIAL, *allowed))


def check_body(tokens: list[Token], max_nesting: int, allowed_hosts: set[str] = frozenset()) -> list[Finding]:
    """Links must be https and images absent (an agent's browser would fetch them from another site); an address
    of a site other than the State's or the sheet's own sources is reported; lists nest at most MAX_LIST_DEPTH
    deep; raw HTML is allowed but only ever shown as text."""
    found: list[Finding] = []
    depth = 0
    for t in tokens:
        if t.type in ("bullet_list_open", "ordered_list_open"):
            depth += 1
            if depth == MAX_LIST_DEPTH + 1 and t.map:
                found.append((t.map[0] + 1, f"listes imbriquées sur plus de {MAX_LIST_DEPTH} niveaux",
                                        "aplatir la liste : une étape, puis au plus quelques sous-points"))
        elif t.type in ("bullet_list_close", "ordered_list_close"):
            depth -= 1
        if t.level >= max_nesting - 1 and t.map and depth <= MAX_LIST_DEPTH:
            found.append((t.map[0] + 1, "imbrication trop profonde (citations ou listes)",
                                    "aplatir le texte"))
            break
        if t.type != "inline" or not t.map:
            continue
        line = t.map[0] + 1
        urls: list[str] = []
        for child in t.children or []:
            if child.type == "image":
                found.append((line, f"image dans la fiche : « {child.attrs.get('src', '')} »",
                                        "pas d'image : l'agent la chargerait depuis un autre site ; décrire en texte"))
            elif child.type == "link_open" and isinstance(child.attrs.get("href"), str):
                urls.append(child.attrs["href"])
            elif child.type == "text":
                urls += [_trim(u) for u in _URL.findall(child.content)]
        if _IMG_TAG.search(t.content):
            found.append((line, "balise <img> dans la fiche : affichée comme du texte, jamais chargée",
                                    "pas d'image : décrire en texte", "warning"))
        for url in dict.fromkeys(urls):
            scheme = url.split(":", 1)[0].lower() if re.match(r"^[a-zA-Z][\w+.\-]*:", url) else ""
            if scheme == "http":
                found.append((line, f"adresse non https : « {url} »", "utiliser l'adresse https officielle"))
            elif scheme not in ("", "https", "mailto", "tel"):
                found.append((line, f"adresse « {url} » refusée ({scheme}:)",
                                        "seules les adresses https sont permises"))
            elif scheme in ("", "https") and "." in url and not _known_host(host(url), allowed_hosts):
                found.append((line, f"adresse externe « {host(url)} » : ni un site de l'État ni une "
                                        "source de la fiche", "vérifier le site, ou l'ajouter aux sources",
                                        "warning"))
        if _RAW_HTML.search(t.content):
            found.append((line, "HTML brut dans le texte : il sera affiché tel quel, jamais exécuté",
                                    "écrire en Markdown", "warning"))
    return found
