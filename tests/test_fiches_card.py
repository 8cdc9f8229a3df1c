"""The official fiche's card through Streamlit's AppTest, on a fixture fiche (no index, no model)."""

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
    return "\n".join(m.value for m in at.markdown)


def test_the_card_tells_an_official_fiche_at_a_glance_and_shows_its_parts():
    at = AppTest.from_string(SCRIPT, default_timeout=30).run()
    assert not at.exception
    assert at.header[0].value == "Carte grise d'un véhicule acheté d'occasion"
    assert "Fiche officielle service-public.fr · vérifiée le 20 novembre 2026" in at.caption[0].value
    assert "Transports › Carte grise" in at.caption[0].value
    assert not at.warning  # checked less than a year before `today`
    text = markdown(at)
    assert "1. Se connecter avec FranceConnect." in text
    assert "- Un justificatif de domicile" in text
    assert "[France Services](https://lannuaire.service-public.fr/" in text
    buttons = {b.proto.label: b.proto.url for b in at.get("link_button")}
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
