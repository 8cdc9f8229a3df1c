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


# Facts found wrong or outdated by the December 2026 audit: they must not come back in a sheet's text.
STALE = {
    r"6 chiffres.{0,40}chaque connexion|chaque connexion demande.{0,40}code": "le code impots.gouv.fr vaut 6 mois par appareil depuis juin 2025",
    r"espèces.{0,120}centre des finances publiques": "plus d'espèces aux guichets des finances publiques",
    r"au plus tard le 3e mois qui suit la déclaration du changement": "taux appliqué dans les 2 mois après transmission",
    r"timbre fiscal \(électronique ou papier\)": "le timbre fiscal papier n'existe plus en France",
    r"téléchargez le relevé d'information restreint": "remplacé par l'attestation de droits à conduire sécurisée",
    r"médiation familiale préalable est obligatoire": "expérimentation terminée au 31 décembre 2024",
    r"AAC\)? entre 15 et 17 ans : dispensé": "attestation de recensement dès 16 ans",
}


@pytest.mark.parametrize("pattern", sorted(STALE))
def test_facts_found_wrong_by_the_audit_do_not_come_back(pattern):
    for sheet in KB.sheets:
        body = " ".join(s.markdown for s in sheet.sections.values())
        assert not re.search(pattern, body, re.IGNORECASE), f"{sheet.path}: {STALE[pattern]}"




def _digits(text):
    return re.sub(r"\D", "", text)


def test_a_sheet_names_other_partners_instead_of_writing_their_national_number():
    """Partners' national lines live in kb/partenaires.yaml only: one place to correct when a number changes."""
    phones = {pid: _digits(p["phone"]) for pid, p in KB.partners.items() if p.get("phone")}
    for sheet in KB.sheets:
        body = " ".join(s.markdown for s in sheet.sections.values())
        numbers = {_digits(n) for n in re.findall(r"(?<!\d)(?:\+33 ?|0)?\d(?:[ .]?\d){3,9}(?!\d)", body)}
        for pid, phone in phones.items():
            assert pid == sheet.partner or phone not in numbers, f"{sheet.path}: numéro national de {pid}"


def test_the_verification_log_names_only_known_sheets_and_official_https_sources():
    assert KB.verifications, "kb/verifications/ est vide"
    assert {v.sheet for v in KB.verifications} <= set(SHEETS)
    assert all(v.source.startswith("https://") for v in KB.verifications)
