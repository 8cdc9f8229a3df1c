"""The partners' national lines (kb/partenaires.yaml): each one sourced, and not repeated in the sheets' text."""

import datetime as dt
import re
from pathlib import Path

import pytest
import yaml

from indexer.kb import load_kb

ROOT = Path(__file__).resolve().parents[1]
PARTNERS = yaml.safe_load((ROOT / "kb" / "partenaires.yaml").read_text(encoding="utf-8"))
KB = load_kb(ROOT / "kb")
SHEETS = {s.id: s for s in KB.sheets}
# Partners whose sheets refer to their national line by name (the card shows the number).
BY_NAME = ("caf", "cpam", "cnav", "agirc-arrco", "msa", "france-travail")


@pytest.mark.parametrize("partner", sorted(p for p, info in PARTNERS.items() if info.get("phone")))
def test_every_national_line_has_an_official_source_and_a_check_date(partner):
    info = PARTNERS[partner]
    assert str(info.get("phone_source", "")).startswith("https://"), f"{partner} : phone_source https manquant"
    checked = dt.date.fromisoformat(str(info.get("phone_checked")))
    assert checked <= dt.date.today()


def test_phone_not_for_names_sheets_of_the_same_partner():
    for partner, info in PARTNERS.items():
        for sheet_id in info.get("phone_not_for", []):
            assert sheet_id in SHEETS, f"{partner} : fiche inconnue « {sheet_id} »"
            assert SHEETS[sheet_id].partner == partner
    assert "ants-amende" in PARTNERS["ants"]["phone_not_for"]


def test_a_partner_without_a_line_says_where_to_find_one():
    for partner, info in PARTNERS.items():
        assert info.get("phone") or info.get("contact"), f"{partner} : ni « phone » ni « contact »"


def test_the_unconfirmed_agirc_arrco_line_is_gone():
    texts = [yaml.safe_dump(PARTNERS, allow_unicode=True)]
    texts += [" ".join(s.markdown for s in sheet.sections.values()) for sheet in KB.sheets]
    assert not any(re.search(r"09 ?71 ?10 ?20 ?30", text) for text in texts)


@pytest.mark.parametrize("sheet_id", sorted(s.id for s in KB.sheets
                                             if s.partner in BY_NAME and PARTNERS[s.partner].get("phone")))
def test_sheets_name_their_partner_instead_of_repeating_its_number(sheet_id):
    sheet = SHEETS[sheet_id]
    number = PARTNERS[sheet.partner]["phone"]
    body = " ".join(s.markdown for s in sheet.sections.values())
    pattern = r"(?<!\d)" + r"\s?".join(re.escape(d) for d in number.replace(" ", "")) + r"(?!\d)"
    assert not re.search(pattern, body), f"{sheet.path} : le numéro {number} est déjà affiché par la fiche"
