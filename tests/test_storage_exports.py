"""CSV exports for the editors: every column, French spreadsheet settings, and no cell a spreadsheet would run."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest

from assistant import exports
from assistant.exports import export, export_bytes, neutralise
from assistant.storage import Store

NOW = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.timezone.utc)


def read(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text), delimiter=";"))


@pytest.mark.parametrize("cell", ["=HYPERLINK(\"http://x\")", "+33 6", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd",
                                  "\uff1dcmd", "\uff0b1", "\uff0d1", "\uff20x", "\ufe66x", "  =1+1", "\u00a0=1"])
def test_formula_like_cells_are_neutralised(cell):
    assert neutralise(cell) == "'" + cell


@pytest.mark.parametrize("cell", ["carte grise", "APL = aide au logement", "0,91", "", "'déjà cité", "e-mail"])
def test_ordinary_cells_are_left_alone(cell):
    assert neutralise(cell) == cell


def test_none_is_an_empty_cell():
    assert neutralise(None) == ""


def test_feedback_export_on_both_backends(store_target):
    with Store(store_target) as store:
        store.record_feedback("=1+1 carte vitale", "cpam-carte-vitale", False, "wrong_sheet",
                              "@appel 06 12 34 56 78", now=NOW, expected="cpam-carte-vitale-perdue")
        first = store.feedback()[0]["id"]
        store.mark_handled(first, now=NOW + dt.timedelta(hours=2))
        store.record_feedback("apl", "caf-aide-logement", True, now=NOW)
        header, negative, positive = read(export(store, "feedback"))
    assert header == ["Date", "Jour", "Recherche", "Fiche", "Utile", "Raison", "Commentaire", "Fiche attendue",
                      "Traité le"]
    assert negative == ["2026-11-20 13:00", "2026-11-20", "'=1+1 carte vitale", "cpam-carte-vitale", "non",
                        "pas la bonne fiche", "'@appel [TÉLÉPHONE]", "cpam-carte-vitale-perdue", "2026-11-20 15:00"]
    assert positive == ["2026-11-20 13:00", "2026-11-20", "apl", "caf-aide-logement", "oui", "", "", "", ""]


def test_searches_export_is_for_a_french_spreadsheet(tmp_path):
    with Store(tmp_path / "assistant.sqlite") as store:
        store.log_search("-recette", None, 0.123, now=NOW)
        store.log_search("apl", "caf-aide-logement", 0.9, "caf", now=NOW)
        data = export_bytes(store, "searches")
    assert data.startswith("\ufeff".encode()) and b"\r\n" in data
    rows = read(data.decode("utf-8-sig"))
    assert rows[1] == ["2026-11-20 13:00", "2026-11-20", "'-recette", "", "0,12", ""]
    assert rows[2][2:] == ["apl", "caf-aide-logement", "0,90", "caf"]


def test_unknown_export_is_refused(tmp_path):
    with Store(tmp_path / "assistant.sqlite") as store, pytest.raises(ValueError, match="export inconnu"):
        export(store, "agents")


def test_command_line_exports_and_purges(tmp_path, capsys):
    db = str(tmp_path / "assistant.sqlite")
    with Store(db) as store:
        store.log_search("ancienne", None, 0.1, now=dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=40))
        store.log_search("+récente", None, 0.1)
    out = tmp_path / "recherches.csv"
    assert exports.main(["searches", "--db", db, "-o", str(out)]) == 0
    assert [r[2] for r in read(out.read_bytes().decode("utf-8-sig"))[1:]] == ["ancienne", "'+récente"]
    assert exports.main(["purge", "--db", db, "--days", "30"]) == 0
    assert "1 recherche(s) et 0 avis supprimés" in capsys.readouterr().out
    with Store(db) as store:
        assert [r["query"] for r in store.searches()] == ["+récente"]


def test_command_line_says_when_the_store_is_unusable(tmp_path, capsys):
    (tmp_path / "fichier").write_text("x")
    assert exports.main(["feedback", "--db", str(tmp_path / "fichier" / "a.sqlite")]) == 3
    assert "inutilisable" in capsys.readouterr().err
