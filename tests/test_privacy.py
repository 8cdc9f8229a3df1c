"""Personal data never reaches the database: what agents paste is masked first."""

import pytest

from assistant.privacy import mask, redact


@pytest.mark.parametrize("text, expected", [
    ("nir 1 85 05 78 006 084 36 perdu", "nir [NIR] perdu"),
    ("nir 185057800608436", "nir [NIR]"),
    ("né en Corse 2 85 05 2A 006 084 12", "né en Corse [NIR]"),
    ("numéro fiscal 0123456789012", "numéro fiscal [N° FISCAL]"),
    ("SPI 30 12 345 678 901", "SPI [N° FISCAL]"),
    ("appeler le 06 12 34 56 78 demain", "appeler le [TÉLÉPHONE] demain"),
    ("tel 0612345678", "tel [TÉLÉPHONE]"),
    ("tél. 01.23.45.67.89", "tél. [TÉLÉPHONE]"),
    ("+33 6 12 34 56 78", "[TÉLÉPHONE]"),
    ("+33612345678 ou 0033 1 23 45 67 89", "[TÉLÉPHONE] ou [TÉLÉPHONE]"),
    ("écrire à jean.dupont+caf@example.fr svp", "écrire à [EMAIL] svp"),
    ("rib FR76 3000 6000 0112 3456 7890 189", "rib [IBAN]"),
    ("rib fr7630006000011234567890189.", "rib [IBAN]."),
    ("IBAN DE89 3704 0044 0532 0130 00", "IBAN [IBAN]"),
])
def test_masks_personal_data(text, expected):
    assert mask(text) == expected


@pytest.mark.parametrize("text", [
    "carte grise d'occasion",
    "cerfa 13750 et cerfa 13757",
    "appeler le 34 00 ou le 39 60",
    "ligne 0 809 401 401",
    "APL 2026 pour 3 enfants",
    "aide de 150 euros",
])
def test_leaves_ordinary_queries_alone(text):
    assert mask(text) == text


def test_masks_several_kinds_in_one_text():
    text = "Mme X, 2 90 12 75 123 456 78, mail x@y.fr, tel 07 00 00 00 00"
    assert mask(text) == "Mme X, [NIR], mail [EMAIL], tel [TÉLÉPHONE]"


def test_redact_keeps_only_what_is_worth_searching():
    assert redact("carte grise pour 1 85 05 78 006 084 36, tel 06 12 34 56 78") == "carte grise pour , tel"
    assert redact("0612345678") == ""
