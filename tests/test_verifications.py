"""The verification log (kb/verifications/*.yaml): every malformed or stale check is reported with file and line."""

import datetime as dt
import json

from indexer.kb import load_kb
from indexer.sheets import Sheet
from indexer.verifications import Verification, check_log, coverage, load_verifications, parse_log

TODAY = dt.date(2026, 12, 1)
LOG = "verifications/ants.yaml"
GOOD = """\
- sheet: ants-carte-grise-occasion
  claim: "Dans le mois qui suit l'achat"
  source: https://www.service-public.fr/particuliers/vosdroits/F1050
  checked: 2026-11-01
  verdict: confirmed
"""


def sheet(sid="ants-carte-grise-occasion", partner="ants",
          sources=("https://www.service-public.fr/particuliers/vosdroits/F1050",)):
    return Sheet(id=sid, title="t", partner=partner, keywords=[], online_service=None, sources=list(sources),
                 updated="2026-11-01", path=f"{sid}.md", sections={}, digest="")


def problems_of(text, sheets=None, today=TODAY, partner="ants"):
    entries, problems = parse_log(text, LOG)
    sheets = {s.id: s for s in (sheets or [sheet()])}
    return entries, problems + check_log(entries, sheets, today, partner)


def found(problems, severity="error"):
    return [(p.line, p.message) for p in problems if p.severity == severity]


def test_the_tiny_kb_log_loads_without_problems(kb):
    loaded = load_kb(kb, TODAY)
    assert [p for p in loaded.problems if "verifications" in p.path] == []
    assert [(v.sheet, v.verdict, v.checked) for v in loaded.verifications] == [
        ("ants-carte-grise-occasion", "confirmed", dt.date(2026, 11, 1)),
        ("ants-carte-grise-occasion", "corrected", dt.date(2026, 11, 1))]
    assert loaded.verifications[1].line == 7 and loaded.verifications[1].path.endswith(LOG)


def test_a_good_entry_is_read_whole():
    [entry], problems = problems_of(GOOD)
    assert problems == []
    assert entry.claim == "Dans le mois qui suit l'achat" and entry.line == 1


def test_unknown_sheet_is_an_error_on_its_line():
    _, problems = problems_of("- sheet: x\n  claim: c\n  source: https://a.fr\n  checked: 2026-11-01\n  verdict: rule\n"
                              + GOOD.replace("ants-carte-grise-occasion", "ants-inconnue"))
    assert found(problems) == [(1, "fiche inconnue « x »"), (6, "fiche inconnue « ants-inconnue »")]


def test_non_https_source_bad_date_and_unknown_verdict_name_their_lines():
    text = GOOD.replace("https://", "http://") + GOOD.replace("2026-11-01", "01/11/2026") \
        + GOOD.replace("confirmed", "vrai") + GOOD.replace("2026-11-01", "2026-02-30")
    entries, problems = problems_of(text)
    assert entries == []
    assert found(problems) == [
        (3, "source non https « http://www.service-public.fr/particuliers/vosdroits/F1050 »"),
        (9, "date invalide « 01/11/2026 »"),
        (15, "verdict inconnu « vrai »"),
        (19, "date invalide « 2026-02-30 »")]


def test_missing_empty_and_unknown_fields():
    text = "- sheet: ants-carte-grise-occasion\n  claim: ''\n  checked: 2026-11-01\n  verdict: removed\n  auteur: moi\n"
    _, problems = problems_of(text)
    assert found(problems) == [(2, "« claim » doit être un texte non vide"), (5, "champ inconnu « auteur »"),
                               (1, "champ(s) absent(s) : source")]


def test_a_future_check_is_an_error():
    _, problems = problems_of(GOOD, today=dt.date(2026, 10, 1))
    assert found(problems) == [(1, "date de vérification dans le futur « 2026-11-01 »")]


def test_a_check_older_than_twelve_months_is_a_warning():
    _, problems = problems_of(GOOD, today=dt.date(2027, 11, 2))
    assert found(problems) == []
    assert found(problems, "warning") == [(1, "vérification de plus de 12 mois (2026-11-01) : Dans le mois qui suit l'achat")]
    assert found(problems_of(GOOD, today=dt.date(2027, 11, 1))[1], "warning") == []


def test_a_confirmed_claim_must_cite_one_of_the_sheets_sources():
    other = GOOD.replace("F1050", "F1050/")  # same page, written with a trailing slash
    assert problems_of(other)[1] == []
    elsewhere = GOOD.replace("F1050", "F12118")
    [warning] = problems_of(elsewhere)[1]
    assert warning.severity == "warning" and "source absente des « sources »" in warning.message
    assert problems_of(elsewhere.replace("confirmed", "corrected"))[1] == []


def test_an_entry_filed_under_another_partner_is_a_warning():
    caf = sheet("caf-rsa", "caf")
    _, problems = problems_of(GOOD.replace("ants-carte-grise-occasion", "caf-rsa"), [caf])
    assert found(problems, "warning") == [(1, "« caf-rsa » est une fiche de caf, pas de ants")]


def test_not_a_list_and_invalid_yaml():
    assert found(problems_of("sheet: x\n")[1]) == [(1, "journal des vérifications : une liste est attendue")]
    [(line, message)] = found(problems_of("- sheet: [x\n")[1])
    assert message.startswith("YAML invalide") and line == 2
    assert problems_of("") == ([], [])


def test_aliases_are_not_expanded():
    bomb = "- &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"- &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n" for i in range(20))
    entries, problems = problems_of(bomb)
    [problem] = problems  # refused at the first anchor, before anything is built from it
    assert entries == [] and problem.line == 1 and "refusé" in problem.message


def test_loaded_with_the_kb_and_errors_refuse_it(kb):
    (kb / "verifications" / "caf.yaml").write_text(GOOD.replace("confirmed", "faux"), encoding="utf-8")
    loaded = load_kb(kb, TODAY)
    [error] = loaded.errors
    assert error.path.endswith("verifications/caf.yaml") and error.line == 5 and "verdict inconnu" in error.message


def test_bad_files_are_reported_and_the_others_still_load(kb):
    (kb / "verifications" / "caf.yaml").write_bytes("- sheet: é\n".encode("latin-1"))
    entries, problems = load_verifications(kb, [sheet()], TODAY)
    assert len(entries) == 2
    assert [(p.line, p.message) for p in problems] == [(1, "le fichier n'est pas en UTF-8")]


def test_checks_of_a_refused_sheet_are_not_judged(kb):
    sheet_file = kb / "ants" / "ants-carte-grise-occasion.md"
    sheet_file.write_text(sheet_file.read_text(encoding="utf-8").replace("partner: ants", "partner: inconnu"),
                          encoding="utf-8")
    loaded = load_kb(kb, TODAY)
    assert [p for p in loaded.problems if "verifications" in p.path] == []
    assert len(loaded.verifications) == 2


def entry(verdict, sid="ants-carte-grise-occasion", source="https://www.service-public.fr/particuliers/vosdroits/F1050"):
    return Verification("verifications/ants.yaml", 1, sid, "un fait", source, TODAY, verdict)


def test_coverage_counts_only_claims_backed_by_a_source_the_sheet_cites():
    other = sheet("caf-rsa", partner="caf", sources=("https://www.caf.fr",))
    entries = [entry("confirmed"), entry("corrected"), entry("rule"),
               entry("confirmed", source="https://www.ants.gouv.fr"),  # checked, but the sheet does not cite it
               entry("unconfirmed"), entry("removed"),
               entry("confirmed", sid="caf-rsa", source="https://www.caf.fr/"),  # same address, trailing slash
               entry("confirmed", sid="inconnue")]
    rows = {r.group: r for r in coverage(entries, [sheet(), other])}
    ants = rows["ants"]
    assert (ants.claims, ants.backed, ants.uncited, ants.unconfirmed, ants.removed) == (5, 3, 1, 1, 1)
    assert ants.share == 3 / 5
    assert (rows["caf"].claims, rows["caf"].backed) == (1, 1)
    total = rows["total"]
    assert (total.claims, total.backed, total.removed) == (6, 4, 1)


def test_coverage_of_an_empty_log_is_a_zero_total():
    (total,) = coverage([], [sheet()])
    assert (total.group, total.claims, total.share) == ("total", 0, 1.0)


def test_unconfirmed_is_a_known_verdict():
    entries, problems = problems_of(GOOD.replace("verdict: confirmed", "verdict: unconfirmed"))
    assert entries[0].verdict == "unconfirmed" and not problems


def test_the_cli_prints_the_share_per_partner(kb, capsys):
    from indexer.cli import main

    assert main(["verifications", "--kb", str(kb)]) == 0
    out = capsys.readouterr().out
    assert "total" in out and "%" in out


def test_the_cli_can_count_per_sheet(kb, capsys):
    from indexer.cli import main

    assert main(["verifications", "--kb", str(kb), "--by", "sheet", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows[-1]["group"] == "total" and len(rows) > 1
    assert all(r["group"] in {p.stem for p in kb.rglob("*.md")} for r in rows[:-1])
