"""Reading a KB folder: every bad file is reported with its name and line, the rest still load."""

import os

from indexer.kb import MAX_SHEET_BYTES, load_kb

SHEET = "ants/ants-carte-grise-occasion.md"


def errors_for(kb, name):
    return [p for p in load_kb(kb).errors if p.path.endswith(name)]


def test_tiny_kb_is_valid(kb):
    loaded = load_kb(kb)
    assert loaded.errors == []
    assert sorted(s.id for s in loaded.sheets) == ["ants-carte-grise-occasion", "caf-aide-logement", "cpam-carte-vitale"]
    assert loaded.glossary["apl"] == ["aide personnalisée au logement", "aide au logement"]
    assert set(loaded.partners) == {"ants", "caf", "cpam"}


def test_duplicate_id_is_refused(kb):
    text = (kb / SHEET).read_text(encoding="utf-8")
    (kb / "caf" / "ants-carte-grise-occasion.md").write_text(text.replace("partner: ants", "partner: caf"), encoding="utf-8")
    loaded = load_kb(kb)
    duplicates = [p for p in loaded.errors if "déjà utilisé" in p.message]
    assert len(duplicates) == 1 and duplicates[0].line == 2


def test_not_utf8_names_the_line(kb):
    (kb / "caf" / "caf-rsa.md").write_bytes("---\nid: caf-rsa\ntitle: é\n".encode("latin-1"))
    [problem] = errors_for(kb, "caf-rsa.md")
    assert "UTF-8" in problem.message and problem.line == 3


def test_binary_file_is_refused(kb):
    (kb / "caf" / "caf-rsa.md").write_bytes(b"---\nid: caf-rsa\n\x00\x01\x02")
    [problem] = errors_for(kb, "caf-rsa.md")
    assert "binaire" in problem.message


def test_oversized_file_is_refused(kb):
    (kb / "caf" / "caf-rsa.md").write_text("a" * (MAX_SHEET_BYTES + 1), encoding="utf-8")
    [problem] = errors_for(kb, "caf-rsa.md")
    assert "trop gros" in problem.message


def test_symlink_leaving_the_kb_is_refused(kb, tmp_path):
    outside = tmp_path / "outside.md"
    outside.write_text((kb / SHEET).read_text(encoding="utf-8"), encoding="utf-8")
    os.symlink(outside, kb / "ants" / "ants-lien.md")
    [problem] = errors_for(kb, "ants-lien.md")
    assert "lien symbolique" in problem.message


def test_every_problem_of_every_sheet_is_reported_at_once(kb):
    (kb / SHEET).write_text((kb / SHEET).read_text(encoding="utf-8").replace("partner: ants", "partner: inconnu"),
                            encoding="utf-8")
    (kb / "caf" / "caf-aide-logement.md").write_text("pas d'en-tête\n", encoding="utf-8")
    loaded = load_kb(kb)
    assert {p.path.rsplit("/", 1)[-1] for p in loaded.errors} == {"ants-carte-grise-occasion.md", "caf-aide-logement.md"}
    assert [s.id for s in loaded.sheets] == ["cpam-carte-vitale"]
