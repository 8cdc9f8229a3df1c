"""Masking personal data in what agents type before it is written anywhere or shown back.

Agents paste whatever the citizen hands them: a social security number, a tax number, a phone number, an
e-mail, an IBAN, a card number, a birth date, an address, a name. Search logs and comments are kept for the
editors, so these must never reach the database. Pure: text in, masked text out.

The rules are applied in order, most specific first, so that a 15-digit NIR is not half-eaten by the phone
rule, and a fiscal number is not mistaken for a phone number followed by digits. Digits may be separated by
spaces (including the non-breaking and narrow no-break spaces of text copied from PDFs), dots or dashes.
Numbers that also fit ordinary text are only masked after the word that says what they are ("né le",
"allocataire", "passeport"), or when a checksum confirms them (IBAN, payment card). Every pattern is linear in
the length of the text: a hostile 200,000-character query costs milliseconds.
"""

from __future__ import annotations

import re
from collections.abc import Callable

_SPACE = "\u0020\u00a0\u2007\u2009\u202f\t"  # space, no-break, figure, thin, narrow no-break, tab
_SEP = rf"[{_SPACE}.\-]?"
_GAP = rf"[{_SPACE}]"
_NOT_BEFORE = r"(?<![\w+])"
_NOT_AFTER = r"(?![\w])"
_UPPER = "A-ZÀ-ÖØ-Þ"

# NIR: sex (1, 2; 3, 4, 7, 8 for temporary numbers), year, month, department (digits or 2A/2B),
# commune, order number, then the 2-digit key.
_NIR_BODY = rf"[1-478](?:{_SEP}\d){{4}}{_SEP}(?:\d{_SEP}\d|2{_SEP}[AaBb])(?:{_SEP}\d){{6}}"

_MONTHS = "janvier|février|fevrier|mars|avril|mai|juin|juillet|août|aout|septembre|octobre|novembre|décembre|decembre"
_DATE = (rf"(?:\d{{1,2}}{_GAP}?[/.\-]{_GAP}?\d{{1,2}}{_GAP}?[/.\-]{_GAP}?(?:\d{{4}}|\d{{2}})(?!\d)"
         rf"|(?:1er|\d{{1,2}}){_GAP}+(?:{_MONTHS}){_GAP}+\d{{4}})")
_BORN = (rf"\b(?:née?s?|nee?s?)(?:\(e\)|\(es?\)|·e)?(?:{_GAP}+à{_GAP}+[\w'’\-]+(?:{_GAP}+[\w'’\-]+)?)?"
         rf"(?:{_GAP}+(?:le|en\s+date\s+du))?{_GAP}*"
         rf"|\bdate{_GAP}+de{_GAP}+naissance{_GAP}*:?{_GAP}*|\bDDN{_GAP}*:?{_GAP}*")

# Types de voie that are rarely anything else take a name in any case ("12 rue de la paix"); the others only a
# capitalised one ("2 cours Lafayette", not "2 cours de français").
_VOIE = ("rue|avenue|av\\.|bd|boulevard|allée|allee|impasse|imp\\.|chemin|quai|square|résidence|residence|lotissement|"
         "lieu-dit|chaussée|faubourg|fbg|rond-point|esplanade|parvis|montée|ruelle|hameau|cité|cite")
_VOIE_NAMED = "place|pl\\.|route|rte|cours|passage|sentier|villa|voie|promenade|traverse|sente|domaine|clos|mail"
_PARTICLE = r"(?:de|du|des|la|le|les|l['’]|d['’]|aux?|sur|sous|en|et|lès|lez)"
_CAP_WORD = rf"(?!(?:Mme|Mlle|M|Madame|Monsieur|Mademoiselle)\b)[{_UPPER}][\w'’\-]*"
_NUMBER = rf"\b\d{{1,4}}(?:{_GAP}?(?i:bis|ter|quater|[a-d])\b)?,?{_GAP}+"
# number (3, 3 bis, 3B), type de voie, then its name: particles, a first word, capitalised words
_ADDRESS = re.compile(
    rf"{_NUMBER}(?:(?i:{_VOIE}){_GAP}+(?:(?i:{_PARTICLE}){_GAP}*)*[\w’'\-]+"
    rf"|(?i:{_VOIE_NAMED}){_GAP}+(?:(?i:{_PARTICLE}){_GAP}*)*{_CAP_WORD})"
    rf"(?:{_GAP}+(?:{_PARTICLE}{_GAP}+)*{_CAP_WORD})*")
_POSTCODE = re.compile(
    rf"(?<![\w,.])(?:0[1-9]|[1-8]\d|9[0-5]|97[1-6])(?:{_GAP}?\d{{3}})(?![\d,.]){_GAP}+"
    rf"(?!(?:Euros?|EUR|Ans|Habitants)\b){_CAP_WORD}(?:[{_SPACE}\-]+(?:(?:sur|sous|en|le|la|les|de|du|des|lès|lez)"
    rf"[{_SPACE}\-]+)?{_CAP_WORD})*(?:{_GAP}+CEDEX(?:{_GAP}+\d{{1,2}})?)?")

_CIVILITY = re.compile(r"(?<![\w.])(?:Madame|Monsieur|Mademoiselle|Mme|Mlle|Mr|M)\.?(?=[" + _SPACE + r"])",
                       re.IGNORECASE)
_SELF = re.compile(rf"\b(?:je{_GAP}+m['’]{_GAP}*appelle|mon{_GAP}+nom{_GAP}+(?:est|c['’]est)|"
                   rf"(?:pr[ée])?nom(?:{_GAP}+(?:de{_GAP}+naissance|d['’]usage|de{_GAP}+famille))?{_GAP}*:)",
                   re.IGNORECASE)
_NAME_PARTICLES = {"de", "du", "des", "la", "le", "van", "von", "der", "di", "da", "del", "ben", "el", "d'", "d’"}
# words that follow "madame"/"je m'appelle" in a request without being a name
_NOT_NAMES = set("""a à ai au aux avec besoin c ce cet cette chez dans de demande demandé désire doit dont du
    elle en est et était fait il je la le les leur lui ma mais me mes moi mon n ne né née nom nous ou où par pas pour
    prénom prenom qu que qui sa se ses son souhaite souhaiterait sur ta veut vient voudrait vous y""".split())
_WORD = re.compile(rf"[{_SPACE}]*([\w][\w'’\-]*\.?)")


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def _luhn(number: str) -> bool:
    total = 0
    for n, ch in enumerate(reversed(number)):
        d = int(ch)
        if n % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _iban_ok(compact: str) -> bool:
    """ISO 13616 check: move the first four characters to the end, letters to numbers, mod 97 == 1."""
    if not 15 <= len(compact) <= 34:
        return False
    moved = (compact[4:] + compact[:4]).upper()
    try:
        return int("".join(str(int(ch, 36)) for ch in moved)) % 97 == 1
    except ValueError:
        return False


def _card(match: re.Match) -> str:
    digits = _digits(match.group(0))
    return "[CARTE BANCAIRE]" if 13 <= len(digits) <= 19 and _luhn(digits) else match.group(0)


def _international_phone(match: re.Match) -> str:
    return "[TÉLÉPHONE]" if 8 <= len(_digits(match.group(0))) <= 15 else match.group(0)


def _iban(match: re.Match) -> str:
    """A checked IBAN, possibly followed by words the loose pattern took in: keep the longest valid prefix."""
    text = match.group(0)
    compact, ends = "", []  # characters kept, and where each one ends in `text`
    for n, ch in enumerate(text):
        if ch.isalnum():
            compact += ch
            ends.append(n + 1)
    for size in range(min(len(compact), 34), 14, -1):
        if (ends[size - 1] == len(text) or not text[ends[size - 1]].isalnum()) and _iban_ok(compact[:size]):
            return "[IBAN]" + text[ends[size - 1]:]
    return text


def _keep_label(placeholder: str) -> Callable[[re.Match], str]:
    """Replace the `value` group only: the words before it ("né le", "allocataire") stay."""
    def replace(match: re.Match) -> str:
        start, end = match.span("value")
        whole = match.group(0)
        offset = match.start()
        return whole[: start - offset] + placeholder + whole[end - offset :]
    return replace


_RULES: list[tuple[str | Callable[[re.Match], str], re.Pattern[str]]] = [
    ("[EMAIL]", re.compile(r"(?<![\w.+\-])[\w.+\-]{1,64}@[\w\-]{1,63}(?:\.[\w\-]{1,63}){1,8}")),
    # French IBAN: FR, 2 check digits, 23 characters, in groups of 4 or not, with spaces or dashes.
    ("[IBAN]", re.compile(rf"(?<![\w])FR{_SEP}\d{{2}}(?:{_SEP}[0-9A-Z]){{23}}(?![\w])", re.IGNORECASE)),
    # Other countries: only when the IBAN check digits agree, so that words and references are never caught.
    (_iban, re.compile(rf"(?<![\w])[A-Za-z]{{2}}\d{{2}}(?:{_SEP}[0-9A-Za-z]){{11,30}}(?![\w])")),
    ("[NIR]", re.compile(rf"{_NOT_BEFORE}{_NIR_BODY}{_SEP}\d{_SEP}\d{_NOT_AFTER}")),
    # International phone numbers: +33 6…, 0033 (0)1…, (+32) 2…, +1 (555) 123-4567.
    (_international_phone, re.compile(
        rf"(?<![\w+])\(?(?:\+|00){_GAP}?[1-9]\d{{0,2}}\)?(?:{_SEP}\(\d{{1,4}}\)|{_SEP}\d{{1,5}}){{1,6}}{_NOT_AFTER}")),
    # Numéro fiscal (SPI): 13 digits, the first one 0 to 3.
    ("[N° FISCAL]", re.compile(rf"{_NOT_BEFORE}[0-3](?:{_SEP}\d){{12}}{_NOT_AFTER}")),
    # Payment cards: 13 to 19 digits that pass the Luhn check.
    (_card, re.compile(rf"{_NOT_BEFORE}\d(?:[{_SPACE}\-]?\d){{12,18}}{_NOT_AFTER}")),
    ("[NIR]", re.compile(rf"{_NOT_BEFORE}{_NIR_BODY}{_NOT_AFTER}")),  # a NIR typed without its key
    # French phones: 01 to 07 and 09 (08 numbers are services' lines, published, never a person's).
    ("[TÉLÉPHONE]", re.compile(rf"{_NOT_BEFORE}\(?0\)?[1-79](?:{_SEP}\d){{8}}{_NOT_AFTER}")),
    (_keep_label("[DATE DE NAISSANCE]"), re.compile(rf"(?:{_BORN})(?P<value>{_DATE})", re.IGNORECASE)),
    # CAF / MSA allocataire numbers (7 digits, sometimes a key letter) after the word that names them.
    (_keep_label("[N° ALLOCATAIRE]"), re.compile(
        rf"\b(?:allocataire|caf|msa|matricule)(?:{_GAP}+(?:n°|no|num(?:éro|ero)?|d['’]allocataire|caf|:))*"
        rf"{_GAP}*:?{_GAP}*(?P<value>\d{{6,8}}(?:{_GAP}?[A-Za-z])?){_NOT_AFTER}", re.IGNORECASE)),
    # Identity documents: a French passport number (2 digits, 2 letters, 5 digits) anywhere; any number with a
    # digit after "passeport", "carte d'identité", "CNI", "titre de séjour".
    ("[N° PIÈCE D'IDENTITÉ]", re.compile(rf"{_NOT_BEFORE}\d{{2}}[A-Za-z]{{2}}\d{{5}}{_NOT_AFTER}")),
    (_keep_label("[N° PIÈCE D'IDENTITÉ]"), re.compile(
        rf"\b(?:passeport|carte{_GAP}+(?:nationale{_GAP}+)?d['’]?{_GAP}*identit[ée]|CNI|"
        rf"pi[èe]ce{_GAP}+d['’]?{_GAP}*identit[ée]|"
        rf"titre{_GAP}+de{_GAP}+s[ée]jour)(?:{_GAP}+(?:n°|no|num(?:éro|ero)?|:))*{_GAP}*:?{_GAP}*"
        rf"(?P<value>(?=[0-9A-Za-z]*\d)[0-9A-Za-z]{{8,12}}){_NOT_AFTER}", re.IGNORECASE)),
    ("[ADRESSE]", _ADDRESS),
    ("[ADRESSE]", _POSTCODE),
]
_MERGE = re.compile(rf"\[ADRESSE\](?:,?[{_SPACE}]*\[ADRESSE\])+")


def _names(text: str) -> str:
    """Mask the name after "Madame", "M.", "je m'appelle"…: capitalised words (and particles between them); one
    lower-case word too, unless it is a common word ("madame veut…")."""
    out: list[str] = []
    pos = 0
    triggers = sorted([*_CIVILITY.finditer(text), *_SELF.finditer(text)], key=lambda m: m.start())
    for trigger in triggers:
        if trigger.start() < pos:
            continue
        cursor, end, taken = trigger.end(), None, 0
        civility = trigger.re is _CIVILITY
        initial = civility and trigger.group(0).rstrip(".").lower() == "m"  # "M." before a lower-case word: not a name
        while taken < 4:
            word = _WORD.match(text, cursor)
            if not word:
                break
            bare = word.group(1).rstrip(".")
            if bare[:1].isupper() and bare.lower() not in ("madame", "monsieur"):
                end, cursor, taken = word.end(), word.end(), taken + 1
                continue
            if bare.lower() in _NAME_PARTICLES:  # "Mme de la Fontaine", "M. Van der Berg"
                following = word
                while following and following.group(1).lower() in _NAME_PARTICLES:
                    following = _WORD.match(text, following.end())
                if following and following.group(1)[:1].isupper():
                    cursor = word.end()
                    continue
            lower_ok = bare.isalpha() and len(bare) > 1 and bare.lower() not in _NOT_NAMES
            if lower_ok and not civility and taken < 3 or lower_ok and civility and not taken and not initial:
                end, cursor, taken = word.end(), word.end(), taken + 1
                if civility:
                    break
                continue
            break
        if end is not None:
            out.append(text[pos : trigger.end()])
            out.append(" [NOM]")
            pos = end
    out.append(text[pos:])
    return "".join(out)


def mask(text: str) -> str:
    """The text with every kind of personal data above replaced by a placeholder such as [NIR] or [NOM]."""
    for placeholder, pattern in _RULES:
        text = pattern.sub(placeholder, text)
    text = _MERGE.sub("[ADRESSE]", text)
    return _names(text)


_PLACEHOLDER = re.compile(r"\[(?:EMAIL|IBAN|NIR|TÉLÉPHONE|N° FISCAL|CARTE BANCAIRE|DATE DE NAISSANCE|ADRESSE|"
                          r"N° ALLOCATAIRE|N° PIÈCE D'IDENTITÉ|NOM)\]")


def redact(text: str) -> str:
    """The text with personal data removed altogether: what is worth searching for.

    A phone number or a NIR pasted with the request says nothing about the procedure, and its digits would
    only dilute the search (and reach code that has no business seeing them).
    """
    return " ".join(_PLACEHOLDER.sub(" ", mask(text)).split())


# What each placeholder stands for, in the order the rules apply (the README's masking table).
PLACEHOLDERS = {
    "[EMAIL]": "e-mail address",
    "[IBAN]": "IBAN: French ones in any grouping (spaces, dashes, none); others when their check digits agree",
    "[NIR]": "social security number (NIR), with or without its key, Corsica 2A/2B",
    "[TÉLÉPHONE]": "phone: +33/0033/(+32)/+1 (555)… international forms, French 01–07 and 09",
    "[N° FISCAL]": "fiscal number (SPI): 13 digits starting 0–3",
    "[CARTE BANCAIRE]": "payment card: 13–19 digits passing the Luhn check",
    "[DATE DE NAISSANCE]": "a date after « né(e) le », « date de naissance », « DDN »",
    "[N° ALLOCATAIRE]": "6–8 digits after « allocataire », « CAF », « MSA », « matricule »",
    "[N° PIÈCE D'IDENTITÉ]": "French passport number (12AB34567); a number after « passeport », « CNI »…",
    "[ADRESSE]": "number + type de voie + name; postcode + town",
    "[NOM]": "the name after Madame/Monsieur/M./Mme/Mlle, « je m'appelle », « mon nom est », « (pré)nom : »",
}
