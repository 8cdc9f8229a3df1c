"""The official fiche's card through Streamlit's AppTest, on a fixture fiche (no index, no model)."""

import re
from html import unescape
from pathlib import Path

from streamlit.testing.v1 import AppTest

FIXTURE = Path(__file__).parent / "data" / "fiches" / "F1050.xml"

SCRIPT = f"""
import datetime as dt
from pathlib import Path
from assistant.fichecard import fiche_card
from indexer.fiches import parse_fiche

path = Path({str(FIXTURE)!r})
fiche_card(parse_fiche(path.read_bytes(), path.name), today=dt.date(2026, 12, 1))
"""


def markdown(at: AppTest) -> str:
    """The card's HTML blocks (what the agent reads), one after the other."""
    return "\n".join(h.proto.body for h in at.get("html"))


def links(at: AppTest) -> dict[str, str]:
    """Link text -> address of the links styled as buttons (services, forms, the fiche itself)."""
    return {unescape(text): unescape(url) for url, text in
            re.findall(r'<a class="fs-link" href="([^"]+)"[^>]*>(.*?)<span', markdown(at))}


def test_the_card_tells_an_official_fiche_at_a_glance_and_shows_its_parts():
    at = AppTest.from_string(SCRIPT, default_timeout=30).run()
    assert not at.exception
    text = markdown(at)
    assert "<h2>Carte grise d&#x27;un véhicule acheté d&#x27;occasion</h2>" in text
    assert re.search(r'<p class="fs-date">Fiche officielle service-public.fr · vérifiée le 20 novembre 2026 · '
                     r'[^<]*Transports › Carte grise', text)
    assert not at.warning  # checked less than a year before `today`
    assert re.search(r"<ol><li>Se connecter avec FranceConnect.</li>", text)
    assert re.search(r"<li>\s*(<p>)?Un justificatif de domicile", text)
    assert re.search(r'<a href="https://lannuaire.service-public.fr/[^"]*"[^>]*>France Services<', text)
    buttons = links(at)
    assert buttons["Formulaire : Certificat de cession d'un véhicule d'occasion · cerfa 15776*02"] == \
        "https://www.service-public.fr/simulateur/calcul/15776"
    assert buttons["Téléservice : Faire sa carte grise en ligne"] == "https://immatriculation.ants.gouv.fr"
    assert buttons["Voir la fiche sur service-public.fr"] == "https://www.service-public.fr/particuliers/vosdroits/F1050"


def test_the_agent_picks_the_citizens_situation_and_sees_only_that_case():
    at = AppTest.from_string(SCRIPT, default_timeout=30).run()
    radio = at.radio[0]
    assert radio.options == ["Le vendeur est un particulier", "Le vendeur est un garage"]
    assert "habilité" not in markdown(at) and "barrée" not in markdown(at)
    radio.set_value("Le vendeur est un garage").run()
    assert "habilité" in markdown(at) and "barrée" not in markdown(at)


def test_an_old_fiche_is_flagged():
    at = AppTest.from_string(SCRIPT.replace("2026, 12, 1", "2028, 12, 1"), default_timeout=30).run()
    assert "vérifier qu'elle est toujours à jour" in at.warning[0].value
