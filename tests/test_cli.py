"""The command line: exit codes, messages naming files, the JSON contract, stdin batches."""

import json
import subprocess
import sys

from indexer.cli import main


def run(*argv, stdin=None):
    return subprocess.run([sys.executable, "-m", "indexer", *argv], input=stdin, capture_output=True, text=True,
                          timeout=120)


def test_rebuild_then_search_json(kb, tmp_path, capsys):
    index = tmp_path / "i"
    assert main(["rebuild", "--kb", str(kb), "--index", str(index), "--model", "hash"]) == 0
    capsys.readouterr()
    assert main(["search", "--index", str(index), "--json", "immatriculer un véhicule"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["answer"].startswith("ants-carte-grise")
    assert data["query"] == "immatriculer un véhicule"


def test_stdin_batch_gives_one_json_line_per_query(index):
    done = run("search", "--index", str(index), "--json", "-", stdin="carte grise\n\nAPL\ncarte vitale perdue\n")
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert [d["answer"] for d in lines] == ["ants-carte-grise-occasion", "caf-aide-logement", "cpam-carte-vitale"]


def test_output_piped_into_a_reader_that_stops_early_is_not_an_error(index):
    command = [sys.executable, "-m", "indexer", "search", "--index", str(index), "--json", "-"]
    search = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    search.stdout.close()  # like `| head -0`: nobody reads what it prints
    _, err = search.communicate(b"carte grise\n" * 200, timeout=120)
    assert search.returncode == 0 and b"Traceback" not in err


def test_broken_sheet_fails_rebuild_names_the_file_and_keeps_serving(kb, index, capsys):
    assert main(["search", "--index", str(index), "--json", "immatriculer un véhicule"]) == 0
    before = capsys.readouterr().out
    path = kb / "ants" / "ants-carte-grise-occasion.md"
    path.write_text(path.read_text(encoding="utf-8").replace("partner: ants", "partner: [ants"), encoding="utf-8")
    assert main(["rebuild", "--kb", str(kb), "--index", str(index), "--model", "hash"]) == 1
    err = capsys.readouterr().err
    assert "ants-carte-grise-occasion.md:4" in err and "index inchangé" in err
    assert main(["search", "--index", str(index), "--json", "immatriculer un véhicule"]) == 0
    assert capsys.readouterr().out == before


def test_validate_exit_codes(kb, capsys):
    assert main(["validate", "--kb", str(kb)]) == 0
    assert main(["validate", "--kb", str(kb), "--strict"]) == 1  # the tiny KB has missing optional sections
    (kb / "caf" / "caf-aide-logement.md").write_text("---\nid: [\n---\n", encoding="utf-8")
    assert main(["validate", "--kb", str(kb)]) == 1
    assert "caf-aide-logement.md:2: erreur : YAML invalide" in capsys.readouterr().err


def test_new_creates_a_template_that_validate_explains(kb, capsys):
    assert main(["new", "--kb", str(kb), "caf", "caf-rsa"]) == 0
    text = (kb / "caf" / "caf-rsa.md").read_text(encoding="utf-8")
    assert "## Étapes\n1. " in text and "## En cas de blocage" in text
    assert main(["new", "--kb", str(kb), "caf", "caf-rsa"]) == 1  # never overwrites
    assert main(["new", "--kb", str(kb), "nope", "x-y"]) == 2
    capsys.readouterr()
    assert main(["validate", "--kb", str(kb)]) == 1
    assert "caf-rsa.md:8: erreur : aucune source officielle" in capsys.readouterr().err


def test_missing_index_is_a_clear_error(tmp_path, capsys):
    assert main(["search", "--index", str(tmp_path / "none"), "x"]) == 3
    assert "python -m indexer rebuild" in capsys.readouterr().err


def test_unchanged_kb_is_already_up_to_date_and_rollback_command(kb, index, capsys):
    assert main(["rebuild", "--kb", str(kb), "--index", str(index), "--model", "hash"]) == 0
    assert "déjà à jour" in capsys.readouterr().out
    assert main(["rebuild", "--kb", str(kb), "--index", str(index), "--model", "hash", "--force"]) == 0
    assert main(["rollback", "--index", str(index)]) == 0
    assert "retour à la version" in capsys.readouterr().out


def test_help_does_not_import_torch():
    done = run("--help")
    assert done.returncode == 0 and "rebuild" in done.stdout
    probe = subprocess.run([sys.executable, "-c", "import sys, indexer.cli; print('torch' in sys.modules)"],
                           capture_output=True, text=True)
    assert probe.stdout.strip() == "False"
