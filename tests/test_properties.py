"""Property-based: the parser and the query analysis never raise, whatever the text; fast paths agree with plain ones."""

from collections import Counter

from hypothesis import given, settings, strategies as st

from indexer.offtopic import SLACK, contains

from indexer.query import Analyzer
from indexer.sheets import parse_sheet
from indexer.text import tokens

ANALYZER = Analyzer(["permis", "conduire", "carte", "grise", "logement"], {"apl": ["aide au logement"]})
markdownish = st.text(alphabet=st.sampled_from(list("---#:\n -1.*[](){}\"'éèàç<>abcdxyz0123456789\t|`")), max_size=400)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=400), markdownish))
def test_parse_sheet_never_raises(text):
    sheet, problems = parse_sheet(text, "kb/caf/caf-x.md", {"caf"})
    assert sheet is not None or any(p.is_error for p in problems)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_query_analysis_never_raises(text):
    analysis = ANALYZER.analyze(text)
    assert isinstance(analysis.dense_text, str)
    assert all(concept.typed for concept in analysis.concepts)
    tokens(text)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=60))
def test_front_matter_values_of_any_text_never_raise(value):
    text = f"---\nid: caf-x\ntitle: {value}\npartner: caf\nupdated: {value}\n---\n## Étapes\n1. a\n"
    parse_sheet(text, "kb/caf/caf-x.md", {"caf"})


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 99999), st.integers(0, 99), st.integers(0, 99))
def test_any_date_like_value_is_validated_not_raised(year, month, day):
    text = f"---\nid: caf-x\ntitle: X\npartner: caf\nsources: [https://www.caf.fr]\nupdated: {year:04d}-{month:02d}-{day:02d}\n---\n## Étapes\n1. a\n"
    sheet, problems = parse_sheet(text, "kb/caf/caf-x.md", {"caf"})
    assert sheet is not None or any(p.line == 6 and "date" in p.message for p in problems)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from("abcde"), max_size=12), st.lists(st.sampled_from("abcde"), min_size=1, max_size=4))
def test_known_gap_window_search_agrees_with_checking_every_window(keys, part):
    width = len(part) + SLACK
    every_window = any(not Counter(part) - Counter(keys[i : i + width]) for i in range(len(keys) + 1))
    assert contains(keys, tuple(part)) == (every_window if len(part) > 1 else part[0] in keys)
