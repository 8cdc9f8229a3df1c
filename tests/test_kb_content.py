"""The shipped knowledge base: every catalogue procedure has one complete, valid sheet."""

import re
from pathlib import Path

import pytest
import yaml

from indexer.kb import load_kb

ROOT = Path(__file__).resolve().parents[1]
CATALOGUE = ROOT / "kb" / "catalogue.yaml"  # the product's scope: one sheet per procedure
KB = load_kb(ROOT / "kb")
SHEETS = {s.id: s for s in KB.sheets}


def catalogue():
    return yaml.safe_load(CATALOGUE.read_text(encoding="utf-8"))


def test_the_kb_validates_without_errors():
    assert [str(p) for p in KB.errors] == []
    assert len(KB.sheets) >= 80


def test_every_catalogue_id_has_exactly_one_sheet_with_its_partner():
    data = catalogue()
    expected = {p["id"]: p["partner"] for p in data["procedures"]}
    assert {sid: s.partner for sid, s in SHEETS.items() if sid in expected} == expected
    assert set(data["partners"]) <= set(KB.partners)
    files = [p.stem for p in (ROOT / "kb").rglob("*.md") if p.name != "README.md"]
    assert sorted(files) == sorted(set(files))
    assert sorted(files) == sorted(expected), "une fiche hors catalogue, ou une démarche du catalogue sans fiche"



@pytest.mark.parametrize("sheet_id", sorted(SHEETS))
def test_each_sheet_is_complete(sheet_id):
    sheet = SHEETS[sheet_id]
    assert len(sheet.steps) >= 3
    assert sheet.documents, "Pièces à fournir est vide"
    for name in ("En bref", "Coût", "Délais", "En cas de blocage"):
        assert sheet.section_text(name).strip(), f"{name} est vide"
    assert any(url.startswith("https://") for url in sheet.sources)
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", sheet.updated)
    assert len(sheet.keywords) >= 5


def test_current_names_are_used():
    for sheet in KB.sheets:
        body = " ".join(s.markdown for s in sheet.sections.values())
        stale = re.findall(r"Pôle emploi(?! \(| est devenu|, devenu| devenu)", body)
        assert not stale or "France Travail" in body, f"{sheet.path}: « Pôle emploi » sans « France Travail »"


def test_glossary_is_large_and_well_formed():
    assert len(KB.glossary) >= 150
    assert all(values and all(isinstance(v, str) and v for v in values) for values in KB.glossary.values())
