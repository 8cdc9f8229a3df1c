"""Facts about a sheet that the card, the handout and the editors' view all show the same way. Pure.

A sheet nobody has checked for a year may give a wrong amount or a dead procedure: the agent must see it.
"""

from __future__ import annotations

import datetime as dt
import re

from indexer.fiches_rank import FICHE_URL
from indexer.sheets import STALE_DAYS

MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
          "novembre", "décembre")


def age_days(updated: str, today: dt.date | None = None) -> int:
    """Days since the sheet's `updated` date (ISO)."""
    return ((today or dt.date.today()) - dt.date.fromisoformat(updated)).days


def is_stale(updated: str, today: dt.date | None = None) -> bool:
    return age_days(updated, today) > STALE_DAYS


def french_date(iso: str) -> str:
    """`2026-11-01` -> `1er novembre 2026`, without depending on the machine's locale."""
    day = dt.date.fromisoformat(iso)
    number = "1er" if day.day == 1 else str(day.day)
    return f"{number} {MONTHS[day.month - 1]} {day.year}"


def partner_label(partners: dict[str, dict], partner: str) -> str:
    """The badge text: the partner's short name, or its id if partenaires.yaml has none."""
    return str(partners.get(partner, {}).get("short") or partner)


def partner_contact(partners: dict[str, dict], partner: str, sheet_id: str | None = None) -> str | None:
    """The partner's national line for the public, or where to find the right one.

    A partner's phone is shown only on the sheets it serves: `phone_not_for` in kb/partenaires.yaml lists the
    sheets of that partner whose procedure another line handles (the ANTS line is not the ANTAI fines line).
    """
    info = partners.get(partner, {})
    short = partner_label(partners, partner)
    excluded = info.get("phone_not_for") or []
    if isinstance(excluded, str):
        excluded = [excluded]
    if info.get("phone") and sheet_id not in {str(s) for s in excluded}:
        return f"Ligne {short} : {info['phone']}"
    if info.get("contact"):
        return str(info["contact"])
    return None


_LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)")
_AUTOLINK = re.compile(r"<(https?://[^>\s]+)>")
_EMPHASIS = re.compile(r"(?<!\w)(\*\*|__|\*|_|`)(\S(?:.*?\S)?)\1(?!\w)")


def plain(markdown: str) -> str:
    """Inline Markdown as plain words: `**x**` -> `x`, `[texte](url)` -> `texte (url)`. For print and labels."""
    text = _LINK.sub(lambda m: m.group(1) if m.group(1) == m.group(2) else f"{m.group(1)} ({m.group(2)})", markdown)
    text = _AUTOLINK.sub(r"\1", text)
    return re.sub(r"\s*\n\s*", " ", _EMPHASIS.sub(r"\2", text)).strip()


def source_label(url: str) -> str:
    """A readable name for a source link: the site and page, without the scheme."""
    return url.removeprefix("https://").removeprefix("http://").removeprefix("www.").rstrip("/")


# A counter sheet cites a service-public.fr fiche by its id ("voir la fiche F1050"): the agent gets a link to it, the
# citizen's handout says where that fiche is (an id alone means nothing to them).
OFFICIAL_MENTION = re.compile(r"\b(fiche\s+)(F\d{1,6})\b(?!\])")
NAMED = re.compile(r"\s+(?:de|sur)\s+service-public")  # the mention says where already


def link_official_fiches(markdown: str) -> str:
    """« fiche F1050 » → « fiche [F1050](https://www.service-public.fr/particuliers/vosdroits/F1050) »."""
    return OFFICIAL_MENTION.sub(lambda m: f"{m.group(1)}[{m.group(2)}]({FICHE_URL.format(m.group(2))})", markdown)


def name_official_fiches(text: str) -> str:
    """« fiche F1050 » → « fiche F1050 sur service-public.fr », for the citizen."""
    return OFFICIAL_MENTION.sub(lambda m: m.group(0) if NAMED.match(text, m.end())
                                else f"{m.group(1)}{m.group(2)} sur service-public.fr", text)
