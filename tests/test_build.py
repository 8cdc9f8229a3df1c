"""Rebuilds: atomic switch, nothing lost on bad input, incremental, locked, rollback, live reload."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from indexer.build import BuildError, rebuild
from indexer.searcher import Searcher
from indexer.store import IndexStore, LockedError, StoreError

SHEET = "ants/ants-carte-grise-occasion.md"


def break_yaml(kb):
    path = kb / SHEET
    path.write_text(path.read_text(encoding="utf-8").replace('title: "Immatriculer', 'title: Immatriculer: "'),
                    encoding="utf-8")


def test_rebuild_writes_a_build_and_points_to_it(index):
    store = IndexStore(index)
    build_id = store.current_id()
    assert build_id and store.build_ids() == [build_id]
    manifest = Searcher(index).index.manifest
    assert manifest["model"] == "hash-256" and manifest["chunks"] > 3 and len(manifest["sheets"]) == 3


def test_a_failed_rebuild_leaves_the_serving_index(kb, index, embedder):
    before = Searcher(index).search("immatriculer un véhicule").to_json()
    serving = IndexStore(index).current_id()
    break_yaml(kb)
    with pytest.raises(BuildError) as failure:
        rebuild(kb, index, embedder, "hash")
    assert any(p.path.endswith("ants-carte-grise-occasion.md") and p.line == 3 for p in failure.value.problems)
    assert IndexStore(index).current_id() == serving
    assert Searcher(index).search("immatriculer un véhicule").to_json() == before


def test_a_build_failing_its_check_is_never_switched_in(kb, index, embedder, monkeypatch):
    serving = IndexStore(index).current_id()
    monkeypatch.setattr("indexer.build.check_build", lambda *a: (_ for _ in ()).throw(StoreError("contrôle")))
    with pytest.raises(StoreError):
        rebuild(kb, index, embedder, "hash", force=True)
    assert IndexStore(index).current_id() == serving
    assert not [p for p in (index / "builds").iterdir() if p.name.startswith(".tmp-")]


def test_rebuild_reembeds_only_the_changed_sheet(kb, index, embedder):
    full = embedder.calls
    path = kb / "cpam" / "cpam-carte-vitale.md"
    path.write_text(path.read_text(encoding="utf-8").replace("Environ trois semaines.", "Environ deux semaines."),
                    encoding="utf-8")
    embedder.calls = 0
    report = rebuild(kb, index, embedder, "hash")
    assert report.embedded == 0  # a body section is not embedded: the sheet's dense passage did not change
    assert embedder.calls == 1  # the check query run on the new build
    path.write_text(path.read_text(encoding="utf-8").replace("abîmée se remplace", "abîmée se renouvelle"),
                    encoding="utf-8")
    embedder.calls = 0
    report = rebuild(kb, index, embedder, "hash")
    assert report.embedded == 1  # the edited summary is part of the sheet's one dense passage; the others are cached
    assert embedder.calls == 2 < full  # that passage, and the check query
    embedder.calls = 0
    unchanged = rebuild(kb, index, embedder, "hash")
    assert unchanged.up_to_date and unchanged.build_id == report.build_id and embedder.calls == 0


def test_editing_the_known_gaps_makes_a_new_build_without_reembedding(kb, index, embedder):
    gaps = kb / "hors-champ.yaml"
    gaps.write_text(gaps.read_text(encoding="utf-8").replace("titre de séjour]", "titre de séjour, naturalisation]"),
                    encoding="utf-8")
    embedder.calls = 0
    report = rebuild(kb, index, embedder, "hash")
    assert not report.up_to_date and report.embedded == 0
    assert Searcher(index).known_gap("demande de naturalisation").subject == "Titre de séjour"


def test_a_broken_known_gaps_file_is_refused_with_its_line_and_the_index_keeps_serving(kb, index, embedder):
    serving = IndexStore(index).current_id()
    (kb / "hors-champ.yaml").write_text("- sujet: A\n  expressions: [visa\n", encoding="utf-8")
    with pytest.raises(BuildError) as failure:
        rebuild(kb, index, embedder, "hash")
    [problem] = failure.value.problems
    assert problem.path.endswith("hors-champ.yaml") and problem.line >= 2 and "YAML invalide" in problem.message
    assert IndexStore(index).current_id() == serving


def test_a_second_rebuild_waits_for_the_lock_then_gives_up_clearly(kb, index, embedder):
    with IndexStore(index).lock():
        with pytest.raises(LockedError, match="autre reconstruction"):
            rebuild(kb, index, embedder, "hash", lock_wait=0.2, force=True)


def test_rollback_switches_back_and_old_builds_are_pruned(kb, index, embedder):
    store = IndexStore(index)
    first = store.current_id()
    second = rebuild(kb, index, embedder, "hash", force=True).build_id
    assert store.rollback() == first
    assert Searcher(index).index.build_id == first
    for _ in range(6):
        rebuild(kb, index, embedder, "hash", force=True)
    assert len(store.build_ids()) == 5 and second not in store.build_ids()


def test_rollback_without_an_older_build_fails_clearly(index):
    with pytest.raises(StoreError, match="aucune version antérieure"):
        IndexStore(index).rollback()


def test_a_searcher_picks_up_a_new_build_at_the_next_query(kb, index, embedder):
    searcher = Searcher(index, embedder)
    assert searcher.search("passeport").answer is None
    (kb / "ants" / "ants-passeport.md").write_text(
        (kb / SHEET).read_text(encoding="utf-8")
        .replace("ants-carte-grise-occasion", "ants-passeport")
        .replace("Immatriculer un véhicule d'occasion", "Demander un passeport")
        .replace("  - carte grise\n", "  - passeport\n"),
        encoding="utf-8")
    rebuild(kb, index, embedder, "hash")
    assert searcher.search("passeport").answer == "ants-passeport"


KILLED_REBUILD = textwrap.dedent("""
    import sys, time
    from indexer.build import rebuild
    from indexer.embed import HashEmbedder

    class Slow(HashEmbedder):
        def encode(self, texts):
            print("embedding", flush=True)
            time.sleep(60)
            return super().encode(texts)

    rebuild(sys.argv[1], sys.argv[2], Slow(), "hash")
""")


def test_kill_9_during_a_rebuild_leaves_the_previous_build_serving(kb, index, embedder):
    before = Searcher(index).search("carte vitale perdue").to_json()
    serving = IndexStore(index).current_id()
    (kb / "cpam" / "cpam-carte-vitale.md").write_text(
        (kb / "cpam" / "cpam-carte-vitale.md").read_text(encoding="utf-8") + "\nNouvelle phrase.\n", encoding="utf-8")
    child = subprocess.Popen([sys.executable, "-c", KILLED_REBUILD, str(kb), str(index)], stdout=subprocess.PIPE,
                             text=True, cwd=os.getcwd())
    try:
        assert child.stdout.readline().strip() == "embedding"  # mid-rebuild, lock held, temp build on disk
        assert [p for p in (index / "builds").iterdir() if p.name.startswith(".tmp-")]
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    assert IndexStore(index).current_id() == serving
    assert Searcher(index).search("carte vitale perdue").to_json() == before
    report = rebuild(kb, index, embedder, "hash")  # the lock died with its holder
    assert report.removed_leftovers and not [p for p in (index / "builds").iterdir() if p.name.startswith(".tmp-")]


CONCURRENT_REBUILD = textwrap.dedent("""
    import sys
    from indexer.build import rebuild
    from indexer.embed import HashEmbedder
    print(rebuild(sys.argv[1], sys.argv[2], HashEmbedder(), "hash", lock_wait=120, force=True).build_id)
""")


def test_two_concurrent_rebuilds_both_finish_and_leave_a_consistent_index(kb, index):
    children = [subprocess.Popen([sys.executable, "-c", CONCURRENT_REBUILD, str(kb), str(index)],
                                 stdout=subprocess.PIPE, text=True) for _ in range(2)]
    ids = [child.communicate(timeout=120)[0].strip() for child in children]
    assert all(child.returncode == 0 for child in children)
    assert len(set(ids)) == 2 and IndexStore(index).current_id() == max(ids)
    searcher = Searcher(index)
    assert searcher.index.vectors.ntotal == len(searcher.index.chunks)
    assert searcher.search("carte vitale perdue").answer == "cpam-carte-vitale"


def _replace(old, new):
    def apply(kb):
        path = kb / SHEET
        text = path.read_text(encoding="utf-8")
        assert old in text
        path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return apply


def _write(name, data):
    def apply(kb):
        (kb / "ants" / name).write_bytes(data)
    return apply


def _symlink(kb):
    outside = kb.parent / "ailleurs.md"
    outside.write_text((kb / SHEET).read_text(encoding="utf-8").replace("ants-carte-grise-occasion", "ants-lien"),
                       encoding="utf-8")
    (kb / "ants" / "ants-lien.md").symlink_to(outside)


BAD_INPUTS = {
    "invalid YAML": (_replace('title: "Immatriculer', 'title: Immatriculer: "'), "ants-carte-grise-occasion.md:3"),
    "missing id": (_replace("id: ants-carte-grise-occasion\n", ""), "ants-carte-grise-occasion.md:1"),
    "duplicate id": (lambda kb: (kb / "caf" / "ants-carte-grise-occasion.md").write_text(
        (kb / SHEET).read_text(encoding="utf-8").replace("partner: ants", "partner: caf"), encoding="utf-8"),
        "ants-carte-grise-occasion.md:2"),
    "id is not the file name": (_replace("id: ants-carte-grise-occasion", "id: ants-carte-grise"),
                                "ants-carte-grise-occasion.md:2"),
    "unknown partner": (_replace("partner: ants", "partner: antai"), "ants-carte-grise-occasion.md:4"),
    "no Étapes": (_replace("## Étapes", "## Démarche"), "ants-carte-grise-occasion.md:"),
    "bad date": (_replace("updated: 2026-11-01", "updated: 2026-13-01"), "ants-carte-grise-occasion.md:14"),
    "not UTF-8": (_write("ants-latin1.md", "---\nid: ants-latin1\ntitle: Démarche\n".encode("latin-1")),
                  "ants-latin1.md:3"),
    "binary file": (_write("ants-binaire.md", b"\x89PNG\r\n\x1a\n\x00\x00"), "ants-binaire.md:"),
    "file over 1 MB": (_write("ants-gros.md", b"---\n" + b"a" * 1_000_001), "ants-gros.md:0"),
    "symlink leaving kb/": (_symlink, "ants-lien.md:0"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_is_refused_with_file_and_line_and_the_index_is_untouched(kb, index, embedder, case):
    damage, where = BAD_INPUTS[case]
    serving = IndexStore(index).current_id()
    before = Searcher(index).search("carte grise").to_json()
    damage(kb)
    with pytest.raises(BuildError) as failure:
        rebuild(kb, index, embedder, "hash")
    assert any(str(p).split(": ")[0].endswith(where.rstrip(":")) or where in str(p) for p in failure.value.problems), \
        [str(p) for p in failure.value.problems]
    assert IndexStore(index).current_id() == serving
    assert Searcher(index).search("carte grise").to_json() == before


def test_a_misspelling_listed_among_keywords_is_recorded_as_rare_and_means_the_word(kb, embedder, tmp_path):
    path = kb / "ants" / "ants-carte-grise-occasion.md"
    path.write_text(path.read_text(encoding="utf-8").replace("  - carte grise\n", "  - carte grise\n  - voiture d'ocasion\n"),
                    encoding="utf-8")
    rebuild(kb, tmp_path / "built", embedder, "hash")
    searcher = Searcher(tmp_path / "built")
    rare = searcher.index.lexicon["rare"]
    assert "ocasion" in rare  # one sheet's keywords only
    assert "occasion" not in rare and "apl" not in rare  # in a title or a body; in the glossary
    assert searcher.refresh().analyzer.analyze("acheter en ocasion").corrections == {"ocasion": "occasion"}
