"""The card's marks of the request's words (assistant/glance.py) against the plain definition: every word of the
text judged one by one. The fast path (a cached vocabulary per section) must mark exactly the same words."""

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from assistant import glance
from indexer.text import fold

WORDS = ["allocation", "allocations", "l'allocation", "logement", "logements", "hérité", "héritée", "héritier",
         "peut-être", "carte", "cartes", "vitale", "perdue", "perdu", "étudiant", "étudiante", "aide", "aides",
         "d'aide", "loyer", "loyers", "APL", "Caf", "déménagement", "déménager", "x", "l'", "-", "’"]
SEPARATORS = [" ", ", ", ". ", "\n", " (", ") ", " : "]


def reference(text: str, stems: set[str], protected: re.Pattern, marker: str) -> str:
    """Each word of each unprotected span, one by one: marked when one of its parts is the same word as a wanted
    one."""
    def matches(word: str) -> bool:
        parts = [fold(p) for p in re.split(r"['’-]", word) if p]
        return any(len(p) >= 4 and any(glance._same_word(p, w) for w in stems) for p in parts)

    def mark(segment: str) -> str:
        return glance._WORD.sub(lambda m: marker.format(m.group(0)) if matches(m.group(0)) else m.group(0), segment)

    if not stems:
        return text
    out, last = [], 0
    for span in protected.finditer(text):
        out += [mark(text[last:span.start()]), span.group(0)]
        last = span.end()
    return "".join(out + [mark(text[last:])])


texts = st.lists(st.tuples(st.sampled_from(WORDS), st.sampled_from(SEPARATORS)), max_size=40).map(
    lambda pairs: "".join(w + s for w, s in pairs))
queries = st.lists(st.sampled_from(WORDS), max_size=5).map(" ".join)


@settings(max_examples=300, deadline=None)
@given(texts, queries)
def test_marks_equal_the_word_by_word_definition(text, query):
    stems = glance.situation_words(query, "Titre")
    html = f"<p>{text}</p><a href='?fiche=x'>{text}</a><code>{text}</code>"
    assert glance.highlight_html(html, stems) == reference(html, stems, glance._HTML_PROTECTED, "<mark>{}</mark>")
    markdown = f"{text} [lien {text}](https://exemple.fr/{query.replace(' ', '-')}) `{text}`"
    assert glance.highlight(markdown, stems) == reference(markdown, stems, glance._PROTECTED,
                                                          ":orange-background[{}]")
    plain = glance._PROTECTED.sub(" ", markdown)
    assert glance.mentions(markdown, stems) == (reference(plain, stems, re.compile("(?!x)x"), "<{}>") != plain)


def test_inflections_and_joined_words_are_marked_and_other_words_are_not():
    stems = glance.situation_words("allocation logement héritée", "Titre")
    marked = glance.highlight_html("<p>L'allocation de logements, l'héritier hérité ; allocataire.</p>", stems)
    assert marked == ("<p><mark>L'allocation</mark> de <mark>logements</mark>, l'héritier <mark>hérité</mark> ; "
                      "allocataire.</p>")
