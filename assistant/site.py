"""The France Services site that prints the page: name, address, phone, opening hours. Set once, in a TOML file.

The file is `data/site.toml` (or ASSISTANT_SITE), written by the editors' page and readable by hand:

    name = "France Services de Saint-Martin"
    address = "2 place de la Mairie, 00000 Saint-Martin"
    phone = "01 23 45 67 89"
    hours = "Lundi au vendredi, 9 h – 12 h et 14 h – 17 h"

Nothing is invented when the file is absent: the printed page then has no site block (never blanks to fill).
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import asdict, dataclass, fields
from pathlib import Path

LABELS = {"name": "Nom du site", "address": "Adresse", "phone": "Téléphone", "hours": "Horaires d'ouverture"}


class SiteError(ValueError):
    """A settings file that cannot be used; the message names the file and, where known, the line."""


@dataclass(frozen=True)
class Site:
    name: str = ""
    address: str = ""
    phone: str = ""
    hours: str = ""

    @property
    def configured(self) -> bool:
        return bool(self.name.strip())

    def lines(self) -> list[tuple[str, str]]:
        """(label, value) for every field that is filled in, in print order."""
        return [(LABELS[f.name], getattr(self, f.name).strip()) for f in fields(self) if getattr(self, f.name).strip()]


def site_path() -> Path:
    return Path(os.environ.get("ASSISTANT_SITE") or "data/site.toml")


def load_site(path: Path | None = None) -> Site:
    """The configured site; an empty `Site` when the file does not exist yet."""
    path = path or site_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Site()
    except (OSError, UnicodeDecodeError) as exc:
        raise SiteError(f"{path} : lecture impossible ({exc})") from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:  # its message carries "(at line N, column M)"
        raise SiteError(f"{path} : TOML invalide : {exc}") from exc
    unknown = sorted(set(data) - set(LABELS))
    if unknown:
        raise SiteError(f"{path}:{_line_of(text, unknown[0])}: champ inconnu « {unknown[0]} » "
                        f"(champs reconnus : {', '.join(LABELS)})")
    for key, value in data.items():
        if not isinstance(value, str):
            raise SiteError(f"{path}:{_line_of(text, key)}: « {key} » doit être un texte entre guillemets")
    return Site(**{key: " ".join(value.split()) for key, value in data.items()})


def save_site(site: Site, path: Path | None = None) -> Path:
    """Write the settings atomically (a crash never leaves half a file)."""
    path = path or site_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    body = "# Coordonnées du site France Services, imprimées sur la page remise à l'usager.\n"
    body += "".join(f"{key} = {_quote(value)}\n" for key, value in asdict(site).items())
    temporary = path.with_suffix(".tmp")
    temporary.write_text(body, encoding="utf-8")
    temporary.replace(path)
    return path


def _quote(value: str) -> str:
    escaped = " ".join(value.split()).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def _line_of(text: str, key: str) -> int:
    for number, line in enumerate(text.splitlines(), 1):
        if line.split("=", 1)[0].strip().strip('"') == key:
            return number
    return 1
