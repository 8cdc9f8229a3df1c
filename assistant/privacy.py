"""Masking personal data in what agents type before it is written anywhere.

Agents paste whatever the citizen hands them: a social security number, a tax number, a phone number, an
e-mail, an IBAN. Search logs and comments are kept for the editors, so these must never reach the database.
Pure: text in, masked text out.

The patterns are applied in order, most specific first, so that a 15-digit NIR is not half-eaten by the
phone pattern, and a fiscal number is not mistaken for a phone number followed by digits.
Digits may be separated by single spaces, dots or dashes, the way people read numbers aloud.
"""

from __future__ import annotations

import re

_SEP = r"[ .\-]?"
_NOT_BEFORE = r"(?<![\w+])"
_NOT_AFTER = r"(?![\w])"

# NIR: sex (1, 2; 3, 4, 7, 8 for temporary numbers), year, month, department (digits or 2A/2B),
# commune, order number, then the 2-digit key.
_NIR_BODY = rf"[1-478](?:{_SEP}\d){{4}}{_SEP}(?:\d{_SEP}\d|2{_SEP}[AaBb])(?:{_SEP}\d){{6}}"

PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("[EMAIL]", re.compile(r"[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+")),
    # French IBAN: FR, 2 check digits, 23 characters, usually written in groups of 4.
    ("[IBAN]", re.compile(r"(?<![\w])FR\s?\d{2}(?:\s?[0-9A-Z]){23}(?![\w])", re.IGNORECASE)),
    # Other countries' IBANs, upper case only so that ordinary words are never caught.
    ("[IBAN]", re.compile(r"(?<![\w])[A-Z]{2}\d{2}(?:\s?[0-9A-Z]{4}){2,7}(?:\s?[0-9A-Z]{1,3})?(?![\w])")),
    ("[NIR]", re.compile(rf"{_NOT_BEFORE}{_NIR_BODY}{_SEP}\d{_SEP}\d{_NOT_AFTER}")),
    # International form first: "0033 1 23 45 67 89" has 13 digits, like a fiscal number.
    ("[TÉLÉPHONE]",
     re.compile(rf"{_NOT_BEFORE}(?:\+|00){_SEP}33{_SEP}(?:\(0\){_SEP})?[1-9](?:{_SEP}\d\d){{4}}{_NOT_AFTER}")),
    # Numéro fiscal (SPI): 13 digits, the first one 0 to 3.
    ("[N° FISCAL]", re.compile(rf"{_NOT_BEFORE}[0-3](?:{_SEP}\d){{12}}{_NOT_AFTER}")),
    ("[NIR]", re.compile(rf"{_NOT_BEFORE}{_NIR_BODY}{_NOT_AFTER}")),  # a NIR typed without its key
    ("[TÉLÉPHONE]", re.compile(rf"{_NOT_BEFORE}0[1-9](?:{_SEP}\d\d){{4}}{_NOT_AFTER}")),
]

def mask(text: str) -> str:
    """The text with every NIR, fiscal number, phone number, e-mail and IBAN replaced by a placeholder."""
    for placeholder, pattern in PATTERNS:
        text = pattern.sub(placeholder, text)
    return text


def redact(text: str) -> str:
    """The text with personal data removed altogether: what is worth searching for.

    A phone number or a NIR pasted with the request says nothing about the procedure, and its digits would
    only dilute the search (and reach code that has no business seeing them).
    """
    for _, pattern in PATTERNS:
        text = pattern.sub(" ", text)
    return " ".join(text.split())
