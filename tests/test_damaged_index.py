"""A damaged index is refused on load with a French message (exit 3), rebuilt by `rebuild`, skipped by `rollback`;
a damaged embedding cache is discarded and rebuilt."""

import json
import shutil
import sqlite3
import subprocess
import sys

import numpy as np
import pytest

from indexer import store as store_module
from indexer.build import rebuild
from indexer.cli import main
from indexer.embed import HashEmbedder
from indexer.searcher import Searcher
from indexer.store import DamagedError, IndexStore, load_build
from tests.conftest import TINY_KB

FILES = ["vectors.faiss", "chunks.json", "sheets.json", "lexicon.json", "manifest.json",
         *[f"bm25-{part}/{name}" for part in ("head", "body", "full")
           for name in ("params.index.json", "vocab.index.json", "data.csc.index.npy", "indices.csc.index.npy",
                        "indptr.csc.index.npy")]]
QUERY = "immatriculer un véhicule"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("built")
    shutil.copytree(TINY_KB, root / "kb")
    rebuild(root / "kb", root / "index", HashEmbedder(), "hash")
    return root


@pytest.fixture
def fresh(built, tmp_path):
    """A private copy of a good KB and index: (kb, index, serving build folder)."""
    shutil.copytree(built / "kb", tmp_path / "kb")
    shutil.copytree(built / "index", tmp_path / "index")
    store = IndexStore(tmp_path / "index")
    return tmp_path / "kb", tmp_path / "index", store.current_path()


def truncate(path):
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def garble(path):
    """Same size, a few bytes changed in the middle: only the hash can tell."""
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    for i in range(middle, min(middle + 8, len(data))):
        data[i] ^= 0x5A
    path.write_bytes(bytes(data))


def remove(path):
    path.unlink()


def search_exit(index, capsys):
    code = main(["search", "--index", str(index), "--json", QUERY])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_the_manifest_lists_every_file_with_its_size_and_hash(fresh):
    _, _, build = fresh
    manifest = json.loads((build / "manifest.json").read_text(encoding="utf-8"))
    assert sorted(manifest["files"]) == sorted(f for f in FILES if f != "manifest.json")
    assert all(len(v["sha256"]) == 64 and v["size"] > 0 for v in manifest["files"].values())
    assert manifest["counts"] == {"sheets": 3, "chunks": manifest["chunks"], "vectors": manifest["chunks"]}


@pytest.mark.parametrize("damage", [truncate, garble, remove])
@pytest.mark.parametrize("name", FILES)
def test_each_damaged_file_gives_exit_3_and_a_french_message(fresh, capsys, name, damage):
    _, index, build = fresh
    damage(build / name)
    code, out, err = search_exit(index, capsys)
    assert code == 3 and out == ""
    assert "endommagée" in err or "illisible" in err or "incohérente" in err
    assert "rebuild" in err and "Traceback" not in err
    with pytest.raises(DamagedError):
        load_build(build)


def test_a_whole_bm25_folder_removed(fresh, capsys):
    _, index, build = fresh
    shutil.rmtree(build / "bm25-body")
    code, _, err = search_exit(index, capsys)
    assert code == 3 and "bm25-body/" in err and "absent" in err


def test_a_manifest_with_altered_counts_is_inconsistent(fresh, capsys):
    _, index, build = fresh
    manifest = json.loads((build / "manifest.json").read_text(encoding="utf-8"))
    manifest["counts"]["chunks"] += 1
    (build / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    code, _, err = search_exit(index, capsys)
    assert code == 3 and "incohérente" in err


def test_a_manifest_pointing_outside_the_build_is_refused(fresh, capsys):
    _, index, build = fresh
    manifest = json.loads((build / "manifest.json").read_text(encoding="utf-8"))
    manifest["files"]["../../CURRENT"] = {"size": 1, "sha256": "0" * 64}
    (build / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    code, _, err = search_exit(index, capsys)
    assert code == 3 and "manifeste altéré" in err


@pytest.mark.parametrize("content", [b"\xff\xfe\x00garbage\x01", b"../../../etc/passwd\n", b"un id\navec des lignes",
                                     b"20991231T000000000000-ffffff\n"])
def test_a_damaged_current_pointer_gives_exit_3(fresh, capsys, content):
    _, index, _ = fresh
    (index / "CURRENT").write_bytes(content)
    code, _, err = search_exit(index, capsys)
    assert code == 3 and ("CURRENT" in err or "version absente" in err)
    assert "Traceback" not in err


def test_the_real_command_prints_no_traceback(fresh):
    _, index, build = fresh
    garble(build / "vectors.faiss")
    done = subprocess.run([sys.executable, "-m", "indexer", "search", "--index", str(index), QUERY],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 3
    assert done.stderr.startswith("échec : version d'index") and "vectors.faiss" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("name", ["vectors.faiss", "bm25-head/vocab.index.json", "manifest.json", "CURRENT"])
def test_rebuild_replaces_a_damaged_serving_build_instead_of_saying_up_to_date(fresh, capsys, name):
    kb, index, build = fresh
    target = index / "CURRENT" if name == "CURRENT" else build / name
    garble(target) if name != "CURRENT" else target.write_text("n'importe quoi", encoding="utf-8")
    assert main(["rebuild", "--kb", str(kb), "--index", str(index), "--model", "hash"]) == 0
    captured = capsys.readouterr()
    assert "déjà à jour" not in captured.out and "reconstruction complète" in captured.err
    assert IndexStore(index).current_id() != build.name
    code, out, _ = search_exit(index, capsys)
    assert code == 0 and json.loads(out)["answer"] == "ants-carte-grise-occasion"
    assert main(["rebuild", "--kb", str(kb), "--index", str(index), "--model", "hash"]) == 0
    assert "déjà à jour" in capsys.readouterr().out  # and once repaired, it is


def _three_builds(kb, index):
    """Builds A (fixture), B, C; returns their ids, C serving."""
    ids = [IndexStore(index).current_id()]
    for n in (1, 2):
        path = kb / "caf" / "caf-aide-logement.md"
        path.write_text(path.read_text(encoding="utf-8") + f"\nMise à jour {n}.\n", encoding="utf-8")
        ids.append(rebuild(kb, index, HashEmbedder(), "hash").build_id)
    return ids


def test_rollback_skips_a_build_that_does_not_load(fresh, capsys):
    kb, index, _ = fresh
    a, b, c = _three_builds(kb, index)
    garble(index / "builds" / b / "chunks.json")
    assert main(["rollback", "--index", str(index)]) == 0
    captured = capsys.readouterr()
    assert IndexStore(index).current_id() == a
    assert f"version {b} écartée" in captured.err and f"retour à la version {a}" in captured.out


def test_rollback_with_no_loadable_older_build_changes_nothing(fresh, capsys):
    kb, index, _ = fresh
    a, b, c = _three_builds(kb, index)
    remove(index / "builds" / a / "lexicon.json")
    truncate(index / "builds" / b / "vectors.faiss")
    assert main(["rollback", "--index", str(index)]) == 3
    assert "ne se charge" in capsys.readouterr().err
    assert IndexStore(index).current_id() == c


def test_rollback_works_when_current_is_damaged(fresh, capsys):
    kb, index, _ = fresh
    a, b, c = _three_builds(kb, index)
    (index / "CURRENT").write_bytes(b"\x00\x01")
    assert main(["rollback", "--index", str(index)]) == 0
    assert IndexStore(index).current_id() == c  # every build counts as older: the newest that loads


def test_hashes_are_checked_when_a_build_is_loaded_not_per_query(fresh, monkeypatch):
    _, index, build = fresh
    calls = []
    real = store_module._sha256
    monkeypatch.setattr(store_module, "_sha256", lambda path: calls.append(path) or real(path))
    searcher = Searcher(index, HashEmbedder())
    loaded = len(calls)
    assert loaded == len(FILES) - 1
    for _ in range(5):
        searcher.search(QUERY)
    assert len(calls) == loaded
    garble(build / "chunks.json")  # damaged after loading: the loaded copy keeps serving
    assert searcher.search(QUERY).answer == "ants-carte-grise-occasion"


def _cache(index):
    return index / "embeddings.sqlite"


def _wrong_size(path):
    db = sqlite3.connect(path)
    with db:
        db.execute("UPDATE vectors SET vector = ?", (np.ones(5, dtype=np.float32).tobytes(),))
    db.close()


def _not_finite(path):
    db = sqlite3.connect(path)
    with db:
        db.execute("UPDATE vectors SET vector = ?", (np.full(256, np.nan, dtype=np.float32).tobytes(),))
    db.close()


def _garbage(path):
    path.write_bytes(b"ceci n'est pas une base SQLite" * 100)


@pytest.mark.parametrize("damage", [truncate, _garbage, garble, _wrong_size, _not_finite])
def test_a_damaged_embedding_cache_is_discarded_and_rebuilt(fresh, damage):
    kb, index, build = fresh
    before = json.loads((build / "chunks.json").read_text(encoding="utf-8"))
    damage(_cache(index))
    report = rebuild(kb, index, HashEmbedder(), "hash", force=True)
    assert report.chunks == len(before)
    sheets = len({c["sheet"] for c in before})  # one dense passage per sheet
    # nothing damaged was taken from the cache (a garbled vector is caught by its norm, alone)
    assert report.embedded == sheets or (damage is garble and 1 <= report.embedded < sheets)
    assert any("cache d'encodage" in note for note in report.notes)
    assert Searcher(index, HashEmbedder()).search(QUERY).answer == "ants-carte-grise-occasion"
    again = rebuild(kb, index, HashEmbedder(), "hash", force=True)
    assert again.notes == [] and again.embedded == 0  # the new cache serves


def test_a_damaged_build_is_not_read_again_at_every_query(fresh, monkeypatch):
    kb, index, _ = fresh
    searcher = Searcher(index, HashEmbedder())
    new = rebuild(kb, index, HashEmbedder(), "hash", force=True).build_id
    garble(index / "builds" / new / "chunks.json")  # CURRENT now names a damaged build
    calls = []
    real = store_module._sha256
    monkeypatch.setattr(store_module, "_sha256", lambda path: calls.append(path) or real(path))
    for _ in range(5):
        with pytest.raises(DamagedError, match="chunks.json"):
            searcher.search(QUERY)
    assert 0 < len(calls) < len(FILES)  # one check, stopped at the damaged file, then remembered
