import datetime as dt

import pytest

from indexer.sheets import parse_sheet

PARTNERS = {"ants", "caf"}
GOOD = """---
id: caf-rsa
title: "Demander le RSA"
partner: caf
keywords: [rsa, revenu de solidarité]
online_service:
  label: "caf.fr"
  url: https://www.caf.fr
sources:
  - https://www.service-public.fr/particuliers/vosdroits/F19778
updated: 2026-11-01
---

## En bref
Le RSA se demande en ligne.

## Qui est concerné
Les personnes de 25 ans et plus.

## Pièces à fournir
- Une pièce d'identité
- Un RIB

## Étapes
1. Faire le simulateur.
2. Remplir la demande **en ligne**.
3. Signer le contrat d'engagement.

## Coût
Gratuit.

## Délais
Un mois environ.

## Cas particuliers
Hébergé chez un tiers : attestation d'hébergement.

## En cas de blocage
Appeler la CAF.
"""
TODAY = dt.date(2026, 11, 26)


def parse(text, path="kb/caf/caf-rsa.md"):
    return parse_sheet(text, path, PARTNERS, TODAY)


def messages(problems, severity="error"):
    return [(p.line, p.message) for p in problems if p.severity == severity]


def test_a_good_sheet_becomes_a_structured_object():
    sheet, problems = parse(GOOD)
    assert problems == []
    assert sheet.id == "caf-rsa" and sheet.partner == "caf" and sheet.updated == "2026-11-01"
    assert sheet.steps == ["Faire le simulateur.", "Remplir la demande **en ligne**.", "Signer le contrat d'engagement."]
    assert sheet.documents == ["Une pièce d'identité", "Un RIB"]
    assert sheet.online_service == {"label": "caf.fr", "url": "https://www.caf.fr"}
    assert sheet.sections["Étapes"].line == 24
    assert "Remplir la demande en ligne." in sheet.sections["Étapes"].text


def test_round_trip_through_dict():
    sheet, _ = parse(GOOD)
    assert type(sheet).from_dict(sheet.to_dict()) == sheet


def test_invalid_yaml_names_the_line():
    sheet, problems = parse(GOOD.replace('title: "Demander le RSA"', "title: Demander: le RSA"))
    assert sheet is None
    [(line, message)] = messages(problems)
    assert "YAML invalide" in message and line == 3


def test_missing_front_matter():
    sheet, problems = parse("## Étapes\n1. a\n")
    assert sheet is None and messages(problems) == [(1, "en-tête YAML absent")]


@pytest.mark.parametrize(
    "old, new, line, fragment",
    [
        ("id: caf-rsa\n", "", 1, "« id » absent"),
        ("id: caf-rsa", "id: caf-rs", 2, "différent du nom du fichier"),
        ("partner: caf", "partner: cafe", 4, "partenaire inconnu « cafe »"),
        ("partner: caf", "partner: ants", 4, "rangée dans « caf »"),
        ("updated: 2026-11-01", "updated: 01/11/2026", 11, "date « updated » invalide"),
        ("url: https://www.caf.fr", "url: http://www.caf.fr", 6, "adresse non https"),
        ("  - https://www.service-public.fr/particuliers/vosdroits/F19778", "  - www.service-public.fr", 9, "non https"),
        ("title: \"Demander le RSA\"", "title: \"\"", 3, "« title » absent"),
    ],
)
def test_front_matter_errors_name_file_and_line(old, new, line, fragment):
    assert old in GOOD
    sheet, problems = parse(GOOD.replace(old, new))
    assert sheet is None
    errors = [p for p in problems if p.is_error]
    assert any(fragment in p.message and p.line == line for p in errors), errors
    assert all(p.path == "kb/caf/caf-rsa.md" for p in errors)
    assert str(errors[0]).startswith(f"kb/caf/caf-rsa.md:{errors[0].line}: erreur")


def test_missing_steps_section_is_an_error():
    text = GOOD.replace("## Étapes\n1. Faire le simulateur.\n2. Remplir la demande **en ligne**.\n3. Signer le contrat d'engagement.\n", "")
    sheet, problems = parse(text)
    assert sheet is None and any("« ## Étapes » absente" in m for _, m in messages(problems))


def test_steps_without_numbered_list_is_an_error():
    sheet, problems = parse(GOOD.replace("1. Faire le simulateur.", "- Faire le simulateur.", 1)
                            .replace("2. Remplir", "- Remplir").replace("3. Signer", "- Signer"))
    assert sheet is None and messages(problems) == [(24, "la rubrique « Étapes » n'a pas de liste numérotée")]


def test_http_link_in_body_is_an_error():
    sheet, problems = parse(GOOD.replace("Appeler la CAF.", "Voir [le site](http://www.caf.fr)."))
    assert sheet is None and messages(problems) == [(39, "adresse non https : « http://www.caf.fr »")]


def test_missing_optional_sections_are_warnings_only():
    sheet, problems = parse(GOOD.replace("## Délais\nUn mois environ.\n", ""))
    assert sheet is not None
    assert [m for _, m in messages(problems, "warning")] == ["rubrique « Délais » absente"]


def test_old_sheet_and_raw_html_are_warnings():
    text = GOOD.replace("updated: 2026-11-01", "updated: 2024-01-01").replace(
        "Le RSA se demande en ligne.", "Le RSA <script>alert(1)</script> se demande.")
    sheet, problems = parse(text)
    assert sheet is not None
    warnings = [m for _, m in messages(problems, "warning")]
    assert any("non vérifiée depuis" in w for w in warnings) and any("HTML brut" in w for w in warnings)
    assert "<script>" in sheet.sections["En bref"].markdown  # kept as text; the app escapes it


def test_unknown_section_and_field_are_warnings():
    sheet, problems = parse(GOOD.replace("## Coût", "## Tarifs").replace("updated:", "auteur: moi\nupdated:"))
    assert sheet is not None
    warnings = [m for _, m in messages(problems, "warning")]
    assert "rubrique inconnue « Tarifs »" in warnings and "champ inconnu « auteur »" in warnings
