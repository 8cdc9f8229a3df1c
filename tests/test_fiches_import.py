"""import-fiches: feed -> corpus folder -> index with both tiers; ranking policy; freshness; zip guards."""

import io
import json
import shutil
import zipfile
from pathlib import Path

import pytest

from indexer.build import BuildError, rebuild
from indexer.cli import main
from indexer.fiches_corpus import CORPUS_FILE, MAX_FICHE_BYTES, FeedError, load_documents
from indexer.fiches_fresh import stale_sheets
from indexer.fiches_import import import_fiches
from indexer.searcher import Searcher
from indexer.store import IndexStore

FIXTURES = Path(__file__).parent / "data" / "fiches"


@pytest.fixture
def feed(tmp_path) -> Path:
    target = tmp_path / "feed"
    shutil.copytree(FIXTURES, target)
    return target


@pytest.fixture
def imported(kb, feed, tmp_path, embedder):
    index, corpus = tmp_path / "index", tmp_path / "fiches"
    report = import_fiches(feed, corpus, kb, index, embedder, "hash")
    return index, corpus, report


def test_import_builds_both_tiers_and_reports_what_changed(imported):
    index, corpus, report = imported
    assert (report.fiches, report.added, report.changed, report.removed) == (
        4, ["F1050", "F12006", "F2209", "F99001"], [], [])
    assert report.build.sheets == 3 and report.build.fiches == 4
    assert [d.id for d in load_documents(corpus)] == ["F1050", "F12006", "F2209", "F99001"]
    searcher = Searcher(index)
    assert {f.id for f in searcher.fiches()} == {"F1050", "F12006", "F2209", "F99001"}
    assert len(searcher.sheets()) == 3  # the editors' list stays the counter sheets
    assert searcher.sheet("F2209").is_fiche and searcher.sheet("F2209").breadcrumb == ["Étranger", "Titre de séjour"]


def test_a_counter_sheet_answers_first_and_the_fiche_it_cites_comes_next(imported):
    searcher = Searcher(imported[0])
    result = searcher.search("acheter une voiture d'occasion carte grise")
    assert result.answer == "ants-carte-grise-occasion" and result.answer_kind == "sheet"
    assert [(h.id, h.kind) for h in result.results[:2]] == [("ants-carte-grise-occasion", "sheet"), ("F1050", "fiche")]
    data = result.to_json()
    assert [r["kind"] for r in data["results"][:2]] == ["sheet", "fiche"]


def test_without_a_counter_sheet_the_official_fiche_answers(imported):
    result = Searcher(imported[0]).search("renouvellement titre de séjour")
    assert (result.answer, result.answer_kind) == ("F2209", "fiche")
    assert result.redirect is None  # an answer, not a redirection
    assert result.to_json()["results"][0] == {**result.to_json()["results"][0], "id": "F2209", "kind": "fiche"}


def test_nothing_confident_means_no_answer(imported):
    result = Searcher(imported[0]).search("horaires de la piscine municipale")
    assert result.answer is None


def test_source_limits_the_search_to_one_tier(imported):
    searcher = Searcher(imported[0])
    sheets = searcher.search("carte grise occasion", source="sheets")
    assert {h.kind for h in sheets.results} == {"sheet"}
    fiches = searcher.search("carte grise occasion", source="fiches")
    assert {h.kind for h in fiches.results} == {"fiche"} and fiches.answer in (None, "F1050")
    with pytest.raises(ValueError):
        searcher.search("x", source="tout")


def test_reimport_embeds_only_changed_fiches_and_reports_added_changed_removed(kb, feed, imported, embedder, tmp_path):
    index, corpus, _ = imported
    path = feed / "F2209.xml"
    # a change in the body only (BM25 reads it; the fiche's one dense passage is unchanged), one in the description
    path.write_text(path.read_text(encoding="utf-8").replace("deux mois", "trois mois")
                    .replace("vit en France", "réside en France"), encoding="utf-8")
    (feed / "F99001.xml").unlink()
    extra = (feed / "F12006.xml").read_text(encoding="utf-8").replace("F12006", "F12007")
    (feed / "F12007.xml").write_text(extra, encoding="utf-8")
    embedder.calls = 0
    report = import_fiches(feed, corpus, kb, index, embedder, "hash")
    assert (report.added, report.changed, report.removed) == (["F12007"], ["F2209"], ["F99001"])
    # the one changed dense passage of F2209 (F12007's has F12006's text: cached), plus the check query that
    # each tier's new build answers before it serves
    assert embedder.calls == 1 + 2
    assert "trois mois" in Searcher(index).sheet("F2209").sections["Quand faire la demande"].text
    assert Searcher(index).sheet("F99001") is None


def test_a_malformed_fiche_is_skipped_with_its_name_and_reason(kb, feed, tmp_path, embedder):
    (feed / "F777.xml").write_text("<Publication ID='F777'><dc:title>", encoding="utf-8")
    report = import_fiches(feed, tmp_path / "fiches", kb, tmp_path / "index", embedder, "hash")
    assert report.fiches == 4
    assert report.skipped[0][0] == "F777.xml" and "XML mal formé" in report.skipped[0][1]
    assert any(line.startswith("F777.xml : fiche ignorée : XML mal formé") for line in report.lines())


def test_a_failed_import_changes_neither_the_corpus_nor_the_serving_index(kb, feed, imported, embedder, tmp_path):
    index, corpus, _ = imported
    serving, before = IndexStore(index).current_id(), (corpus / CORPUS_FILE).read_bytes()
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "F1.xml").write_text("pas du XML", encoding="utf-8")
    with pytest.raises(FeedError, match="aucune fiche lisible"):
        import_fiches(empty, corpus, kb, index, embedder, "hash")
    sheet = kb / "ants" / "ants-carte-grise-occasion.md"
    sheet.write_text(sheet.read_text(encoding="utf-8").replace("id: ants-carte-grise-occasion", "id: Mauvais"),
                     encoding="utf-8")
    (feed / "F2209.xml").unlink()
    with pytest.raises(BuildError):
        import_fiches(feed, corpus, kb, index, embedder, "hash")
    assert IndexStore(index).current_id() == serving
    assert (corpus / CORPUS_FILE).read_bytes() == before
    assert [p.name for p in corpus.iterdir()] == [CORPUS_FILE]


def test_rebuild_keeps_the_imported_fiches(kb, imported, embedder):
    index, corpus, _ = imported
    report = rebuild(kb, index, embedder, "hash")  # the corpus the serving build was made with
    assert report.up_to_date and report.fiches == 4
    sheet = kb / "caf" / "caf-aide-logement.md"
    sheet.write_text(sheet.read_text(encoding="utf-8") + "\nUne phrase de plus.\n", encoding="utf-8")
    report = rebuild(kb, index, embedder, "hash")
    assert not report.up_to_date and report.fiches == 4
    assert Searcher(index).sheet("F1050").is_fiche


def zipped(tmp_path, members: dict[str, bytes]) -> Path:
    path = tmp_path / "vosdroits-latest.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def test_the_official_zip_is_imported_with_traversal_and_bombs_refused(kb, tmp_path, embedder):
    members = {f"vosdroits/{p.name}": p.read_bytes() for p in FIXTURES.glob("F*.xml")}
    members["../F5.xml"] = (FIXTURES / "F2209.xml").read_bytes().replace(b"F2209", b"F5")
    members["vosdroits/F6.xml"] = b" " * (MAX_FICHE_BYTES + 10)
    members["vosdroits/N19812.xml"] = b"<Publication/>"  # dossiers and themes are not fiches: not read
    report = import_fiches(zipped(tmp_path, members), tmp_path / "fiches", kb, tmp_path / "index", embedder, "hash")
    assert report.fiches == 4
    reasons = dict(report.skipped)
    assert "chemin refusé" in reasons["F5.xml"] and "refusée" in reasons["F6.xml"]


def test_a_file_that_is_not_a_zip_is_refused(kb, tmp_path, embedder):
    bad = tmp_path / "feed.zip"
    bad.write_bytes(b"not a zip")
    with pytest.raises(FeedError, match="pas un zip"):
        import_fiches(bad, tmp_path / "fiches", kb, tmp_path / "index", embedder, "hash")


def test_cli_import_search_json_and_validate_freshness(kb, feed, tmp_path, capsys, monkeypatch):
    index, corpus = tmp_path / "index", tmp_path / "fiches"
    assert main(["import-fiches", str(feed), "--kb", str(kb), "--index", str(index), "--fiches", str(corpus),
                 "--model", "hash", "--quiet"]) == 0
    assert "4 fiches importées : 4 ajoutées, 0 modifiées, 0 retirées" in capsys.readouterr().out
    assert main(["search", "--index", str(index), "--json", "renouvellement", "titre", "de", "séjour"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["answer"] == "F2209" and data["results"][0]["kind"] == "fiche"
    assert main(["search", "--index", str(index), "renouvellement titre de séjour"]) == 0
    assert "Réponse (fiche officielle service-public.fr)" in capsys.readouterr().out
    assert main(["validate", "--kb", str(kb), "--fiches", str(corpus)]) == 0
    err = capsys.readouterr().err
    # tiny KB: the ANTS sheet (updated 2026-11-01) cites F1050, changed 2026-11-20, at line 13; the CAF sheet's
    # F12006 changed before the sheet was checked
    assert "ants-carte-grise-occasion.md:13: avertissement : la fiche officielle F1050" in err
    assert "2026-11-20" in err and "F12006" not in err
    rows = stale_sheets(kb, corpus)
    assert [(r["sheet"], r["fiche"], r["line"], r["fiche_changed"]) for r in rows] == [
        ("ants-carte-grise-occasion", "F1050", 13, "2026-11-20")]


def test_cli_reports_an_unreadable_feed_with_exit_1(kb, tmp_path, capsys):
    assert main(["import-fiches", str(tmp_path / "absent.zip"), "--kb", str(kb), "--index", str(tmp_path / "i"),
                 "--fiches", str(tmp_path / "f"), "--model", "hash"]) == 1
    assert "introuvable" in capsys.readouterr().err


def test_the_scale_benchmark_runs_on_a_small_feed(kb, feed, tmp_path):
    from indexer.bench import change_fiches, fiches_scale

    assert change_fiches(feed, tmp_path / "changed", 0.5) == 2  # every second fiche of four
    result = fiches_scale(str(kb), str(feed), "hash", tmp_path / "work")
    assert result["fiches"] == 4 and result["changed"] == 1  # 1 %: every hundredth fiche, here the first
    # one dense passage per fiche: a changed fiche is embedded again at most once (not at all when the change is
    # in its body, which only BM25 reads)
    assert result["reported_changed"] == 1 and result["embedded_again"] <= result["reported_changed"]
    assert result["query_p50_ms"] > 0 and result["build_mb"] > 0
