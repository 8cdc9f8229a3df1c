"""Is a query French? A gate before the answer decision: a sheet is never given as the answer to text in another
language or script, however well its cognates match ("vehicle registration certificate", "carta d'identità").

Pure. A query is foreign when most of its letters are outside the Latin script, or when it has more words that
mark another language (common words of English, Spanish, Italian, Portuguese, German, Dutch, Latin filler text;
none of them French) than French ones (French stopwords and the KB's own words). The agent still sees the closest
sheets as suggestions.
"""

from __future__ import annotations

import unicodedata

from bm25s.stopwords import (STOPWORDS_DUTCH, STOPWORDS_EN_PLUS, STOPWORDS_GERMAN, STOPWORDS_ITALIAN,
                             STOPWORDS_PORTUGUESE, STOPWORDS_SPANISH)

from indexer.text import STOPWORDS, fold, words

# Words of the counter in other languages (none of them French): a foreign query often has no stopword at all.
_DOMAIN = """
passport driving driver license vehicle registration certificate taxes benefit benefits allowance housing health
insurance unemployment retirement birth wedding marriage death residence permit lost stolen renew renewal apply
application help need want card bill electricity
pasaporte tarjeta ayuda vivienda subsidio solicitar renovar perdido necesito quiero impuestos seguro salud
passaporto carta rinnovare aiuto alloggio sussidio perso voglio bisogno tessera sanitaria patente
passaporte cartao ajuda habitacao renovar perdi preciso
reisepass ausweis personalausweis fuhrerschein verloren beantragen hilfe wohngeld steuer krankenversicherung
lorem ipsum dolor amet consectetur adipiscing elit eiusmod tempor incididunt labore dolore magna aliqua
"""
_SHORT = {"my", "of", "to", "is", "it", "we", "he", "do", "in", "at", "by", "be", "if", "or", "so", "up"}
FOREIGN = frozenset(
    w for w in {fold(x) for x in (*STOPWORDS_EN_PLUS, *STOPWORDS_SPANISH, *STOPWORDS_ITALIAN, *STOPWORDS_PORTUGUESE,
                                  *STOPWORDS_GERMAN, *STOPWORDS_DUTCH, *_DOMAIN.split())}
    if (len(w) > 2 or w in _SHORT) and w not in STOPWORDS
)


def _latin_share(text: str) -> float:
    letters = [ch for ch in text if ch.isalpha()]
    if not letters:
        return 1.0
    return sum(unicodedata.name(ch, "").startswith("LATIN") for ch in letters) / len(letters)


def is_foreign(query: str, french_words: frozenset[str] | set[str]) -> bool:
    """Whether the query is written in another language or script. `french_words`: the KB's own (folded) words."""
    if _latin_share(query) < 0.5:
        return True
    typed = words(query)
    foreign = sum(1 for w in typed if w in FOREIGN and w not in french_words)
    french = sum(1 for w in typed if w in STOPWORDS or w in french_words)
    return foreign > french
