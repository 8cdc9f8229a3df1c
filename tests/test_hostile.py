"""Hostile input: over-long queries, alias bombs and deep nesting in YAML, deep Markdown lists, images and remote
addresses in sheets, `new` outside kb/, bad --top and --partner. Each refused clearly (file:line), nothing lost."""

import json
import subprocess
import sys
import textwrap

import pytest

from indexer.cli import main
from indexer.kb import load_kb
from indexer.search import MAX_QUERY_CHARS
from indexer.searcher import Searcher
from indexer.bodycheck import MAX_LIST_DEPTH
from indexer.sheets import parse_sheet
from tools.hostile_bench import BOMB

GOOD = textwrap.dedent("""\
    ---
    id: caf-test
    title: "Une fiche"
    partner: caf
    keywords: [test]
    online_service: null
    sources: [https://www.caf.fr/aide]
    updated: 2026-10-01
    ---

    ## Étapes
    1. Première étape.
    2. Deuxième étape.
    """)

ALIAS_BOMB = BOMB  # nine lines that a YAML loader expanding aliases would turn into 9**9 strings


def sheet(front_extra: str = "", body: str = "") -> str:
    head, rest = GOOD.split("updated: 2026-10-01\n")
    return head + "updated: 2026-10-01\n" + front_extra + rest + body


def problems_of(text):
    found, problems = parse_sheet(text, "kb/caf/caf-test.md", {"caf"})
    return found, [str(p) for p in problems]


# --- queries -------------------------------------------------------------------------------------------------------

def test_a_long_query_is_cut_and_says_so(index):
    searcher = Searcher(index)
    result = searcher.search("immatriculer un véhicule " + "blabla " * 20_000)
    assert result.truncated and len(result.query) == MAX_QUERY_CHARS
    assert result.to_json()["truncated"] is True
    short = searcher.search("immatriculer un véhicule")
    assert not short.truncated and "truncated" not in short.to_json()


def test_a_200000_character_query_is_answered(index):
    searcher = Searcher(index)
    for text in ("a" * 200_000, "carte grise " * 17_000, "é" * 200_000, "1 " * 100_000):
        result = searcher.search(text)
        assert result.truncated and len(result.query) == MAX_QUERY_CHARS


def test_the_command_line_tells_a_query_was_cut(index):
    query = "immatriculer un véhicule " + "x" * 2000
    done = subprocess.run([sys.executable, "-m", "indexer", "search", "--index", str(index), "--json", "-"],
                          input=query + "\n", capture_output=True, text=True, timeout=120)
    assert done.returncode == 0
    assert json.loads(done.stdout)["truncated"] is True
    assert f"seuls les {MAX_QUERY_CHARS} premiers" in done.stderr


# --- YAML ----------------------------------------------------------------------------------------------------------

def test_an_alias_bomb_in_front_matter_is_refused_with_its_line():
    bomb = "".join(f"x{line}\n" for line in ALIAS_BOMB.splitlines())
    text = sheet(ALIAS_BOMB)
    found, problems = problems_of(text)
    assert found is None
    anchor_line = text.splitlines().index(ALIAS_BOMB.splitlines()[0]) + 1
    assert any(p.startswith(f"kb/caf/caf-test.md:{anchor_line}: erreur : YAML invalide : ancre « &a »") for p in problems)
    assert bomb  # the bomb itself is never expanded: see tools/hostile_bench.py for time and memory


@pytest.mark.parametrize("extra, refused, line", [
    ("notes: &n texte\nautre: *n\n", "ancre « &n »", 9),
    ("autre: *n\n", "alias « *n »", 9),
    ("notes: " + "[" * 5000 + "]" * 5000 + "\n", "imbrication trop profonde", 9),
    ("notes:\n" + "".join("  " * d + f"- k{d}:\n" for d in range(1, 60)), "imbrication trop profonde", 19),
])
def test_yaml_references_and_deep_nesting_are_refused(extra, refused, line):
    found, problems = problems_of(sheet(extra))
    assert found is None and any(refused in p and f"caf-test.md:{line}:" in p for p in problems), problems


@pytest.mark.parametrize("name", ["partenaires.yaml", "glossaire.yaml", "hors-champ.yaml"])
def test_an_alias_bomb_in_a_kb_file_is_refused_with_its_line(kb, name):
    path = kb / name
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join(["# bombe"] + ALIAS_BOMB.splitlines() + lines) + "\n", encoding="utf-8")
    result = load_kb(kb)
    errors = [str(p) for p in result.errors]
    assert any(f"{name}:2: erreur : YAML invalide : ancre « &a »" in e for e in errors), errors


def test_validate_refuses_an_alias_bomb_with_exit_1(kb, capsys):
    path = kb / "caf" / "caf-aide-logement.md"
    path.write_text(path.read_text(encoding="utf-8").replace("updated: 2026-10-01\n",
                                                              "updated: 2026-10-01\n" + ALIAS_BOMB), encoding="utf-8")
    assert main(["validate", "--kb", str(kb)]) == 1
    assert "caf-aide-logement.md:11: erreur : YAML invalide : ancre « &a »" in capsys.readouterr().err


# --- Markdown body -------------------------------------------------------------------------------------------------

def nested_list(depth: int) -> str:
    return "\n## Pièces à fournir\n" + "".join("  " * d + f"- niveau {d + 1}\n" for d in range(depth))


def test_lists_nested_up_to_the_limit_are_fine():
    found, problems = problems_of(sheet(body=nested_list(MAX_LIST_DEPTH)))
    assert found is not None and not any("imbriqu" in p for p in problems)


def test_lists_nested_deeper_are_refused_at_their_line():
    text = sheet(body=nested_list(MAX_LIST_DEPTH + 1))
    found, problems = problems_of(text)
    line = text.splitlines().index("  " * MAX_LIST_DEPTH + f"- niveau {MAX_LIST_DEPTH + 1}") + 1
    assert found is None
    assert any(p.startswith(f"kb/caf/caf-test.md:{line}: erreur : listes imbriquées sur plus de {MAX_LIST_DEPTH} niveaux")
               for p in problems), problems


@pytest.mark.parametrize("body", [
    "".join("  " * d + "- x\n" for d in range(2000)),
    "".join("> " * d + "x\n" for d in range(200)),
    "> " * 5000 + "x\n",
])
def test_pathological_nesting_is_refused_not_crashed(body):
    found, problems = problems_of(sheet(body="\n## Cas particuliers\n" + body))
    assert found is None and any("imbri" in p for p in problems)


@pytest.mark.parametrize("body, expected", [
    ("![logo](https://pixel.example.com/t.gif)", "erreur : image dans la fiche : « https://pixel.example.com/t.gif »"),
    ("voir ![schéma](schema.png)", "erreur : image dans la fiche : « schema.png »"),
    ('<img src="https://tracker.example.net/x.png">', "avertissement : balise <img> dans la fiche"),
    ("[formulaire](http://www.caf.fr/form)", "erreur : adresse non https : « http://www.caf.fr/form »"),
    ("aller sur http://exemple.org/page", "erreur : adresse non https : « http://exemple.org/page »"),
    ("[cliquer](javascript:alert(1))", "erreur : adresse « javascript:alert(1) » refusée (javascript:)"),
    ("[fichier](file:///etc/passwd)", "erreur : adresse « file:///etc/passwd » refusée (file:)"),
    ("sur https://arnaque.example.com/aide", "avertissement : adresse externe « arnaque.example.com »"),
    ("sur www.site-inconnu.com", "avertissement : adresse externe « www.site-inconnu.com »"),
])
def test_images_and_remote_addresses_are_reported_with_their_line(body, expected):
    text = sheet(body=f"\n## Cas particuliers\n{body}\n")
    _, problems = problems_of(text)
    line = len(text.splitlines())
    assert any(p.startswith(f"kb/caf/caf-test.md:{line}: {expected}") for p in problems), problems


@pytest.mark.parametrize("body", [
    "sur https://www.service-public.fr/particuliers/vosdroits/F1",
    "sur https://www.impots.gouv.fr ou www.ants.gouv.fr",
    "sur https://www.caf.fr/aide/simulateur (une source de la fiche)",
    "[le simulateur](https://wwwd.caf.fr/wps/portal)",
])
def test_official_and_source_addresses_are_fine(body):
    found, problems = problems_of(sheet(body=f"\n## Cas particuliers\n{body}\n"))
    assert found is not None and not any("adresse" in p for p in problems), problems


def test_validate_reports_an_image_with_exit_1(kb, capsys):
    path = kb / "cpam" / "cpam-carte-vitale.md"
    path.write_text(path.read_text(encoding="utf-8") + "\n![photo](https://example.com/p.png)\n", encoding="utf-8")
    assert main(["validate", "--kb", str(kb)]) == 1
    assert "cpam-carte-vitale.md:" in capsys.readouterr().err


# --- command line --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("partner, sheet_id", [
    ("caf", "../../evil"), ("caf", "/tmp/evil"), ("caf", "caf/../../x"), ("caf", "Majuscules"), ("caf", ""),
    ("..", "caf-x"), ("../..", "caf-x"), ("/tmp", "caf-x"), ("inconnu", "caf-x"), ("caf/../ants", "caf-x"),
])
def test_new_refuses_what_would_leave_kb_or_is_unknown(kb, tmp_path, capsys, partner, sheet_id):
    before = sorted(p for p in tmp_path.rglob("*"))
    assert main(["new", "--kb", str(kb), partner, sheet_id]) == 2
    assert capsys.readouterr().err.strip()
    assert sorted(p for p in tmp_path.rglob("*")) == before


def test_new_refuses_an_id_another_partner_uses(kb, capsys):
    assert main(["new", "--kb", str(kb), "cpam", "caf-aide-logement"]) == 1
    err = capsys.readouterr().err
    assert "id « caf-aide-logement » déjà utilisé par" in err and "caf/caf-aide-logement.md" in err
    assert not (kb / "cpam" / "caf-aide-logement.md").exists()


def test_new_refuses_a_partner_folder_that_links_outside(kb, tmp_path, capsys):
    outside = tmp_path / "ailleurs"
    outside.mkdir()
    (kb / "ants").rename(tmp_path / "ants-moved")
    (kb / "ants").symlink_to(outside)
    assert main(["new", "--kb", str(kb), "ants", "ants-nouvelle"]) == 2
    assert "sortirait du dossier des fiches" in capsys.readouterr().err
    assert not list(outside.iterdir())


def test_new_without_partners_file_refuses(kb, capsys):
    (kb / "partenaires.yaml").unlink()
    assert main(["new", "--kb", str(kb), "caf", "caf-x"]) == 2
    assert "partenaires.yaml" in capsys.readouterr().err


@pytest.mark.parametrize("top", ["0", "51", "-3", "abc", "1e9", "99999999999999999999"])
def test_top_must_be_between_1_and_50(index, capsys, top):
    with pytest.raises(SystemExit) as exit_:
        main(["search", "--index", str(index), "--top", top, "carte grise"])
    assert exit_.value.code == 2
    assert f"« {top} » : donner un nombre entier de 1 à 50" in capsys.readouterr().err


@pytest.mark.parametrize("top, count", [("1", 1), ("50", 3)])
def test_top_within_bounds(index, capsys, top, count):
    assert main(["search", "--index", str(index), "--json", "--top", top, "carte grise"]) == 0
    assert len(json.loads(capsys.readouterr().out)["results"]) == count


def test_an_unknown_partner_says_so(index, capsys):
    assert main(["search", "--index", str(index), "--partner", "cnaf", "carte grise"]) == 2
    err = capsys.readouterr().err
    assert "partenaire inconnu « cnaf »" in err and "ants, caf, cpam" in err


# --- gibberish and other languages ---------------------------------------------------------------------------------

GIBBERISH = ["xkcd qwrtz plomf", "asdfghjkl", "zzzz zzzz zzzz", "lorem ipsum dolor sit amet consectetur",
             "azerty uiop qsdf", "blorp fneeg skrab vlim", "a" * 40, "kjhdf kjsdhf ksjdhf", "!!! ??? ...",
             "1234 5678 9012", "😀😀😀 🚗", "ééééé èèèè", "grzbl carte", "@@@@ #### $$$$"]
FOREIGN = ["how do I renew my driving licence", "I lost my passport what should I do", "housing benefit application",
           "where can I get my tax return", "vehicle registration certificate", "lost health card",
           "unemployment benefits registration", "wie beantrage ich einen Reisepass",
           "ich habe meine Krankenversicherungskarte verloren", "¿cómo solicito el subsidio de vivienda?",
           "quiero renovar mi pasaporte", "come rinnovare la carta d'identità", "preciso renovar meu passaporte",
           "مرحبا كيف أجدد جواز السفر", "我想办护照", "паспорт потерял что делать", "pasaport yenileme",
           "renew passport", "tax declaration online"]
FRENCH = ["carte grise d'occasion", "mot de passe oublié pour mon compte ameli", "problème de login sur mon espace",
          "un an de chômage", "APL 300 euros", "j'ai perdu mon passeport", "renouveler carte d'identité",
          "déclaration de revenus en ligne", "carte vitale perdue", "imatriculer vehicul"]


@pytest.mark.parametrize("query", FOREIGN[:14])
def test_other_languages_and_scripts_are_recognised(query):
    from indexer.language import is_foreign
    assert is_foreign(query, frozenset({"passeport", "carte", "identite", "vehicule", "revenus"}))


@pytest.mark.parametrize("query", FRENCH)
def test_french_queries_are_french(query):
    from indexer.language import is_foreign
    assert not is_foreign(query, frozenset({"passeport", "carte", "identite", "vehicule", "revenus", "login"}))


@pytest.mark.parametrize("query", GIBBERISH + FOREIGN)
def test_gibberish_and_other_languages_get_no_answer_on_the_tiny_kb(index, query):
    result = Searcher(index).search(query)
    assert result.answer is None, (query, result.confidence)


@pytest.mark.model
def test_gibberish_and_other_languages_never_get_a_confident_card(real_index):
    searcher = Searcher(real_index)
    answered = {q: searcher.search(q).answer for q in GIBBERISH + FOREIGN}
    assert {q: a for q, a in answered.items() if a} == {}
    assert searcher.search("j'ai perdu mon passeport").answer  # French still answered


def test_no_query_of_the_evaluation_sets_is_taken_for_another_language():
    """The gate must cost French queries nothing: none of the ~1,800 French eval queries (typos included) trips it."""
    from pathlib import Path

    from indexer.build import lexicon_of, sheet_tokens
    from indexer.kb import load_kb
    from indexer.language import is_foreign

    root = Path(__file__).resolve().parents[1]
    kb = load_kb(root / "kb")
    french = frozenset(lexicon_of(kb, [sheet_tokens(s) for s in kb.sheets])["vocabulary"])
    queries = [json.loads(line)["query"] for f in sorted((root / "tests" / "eval").glob("*.jsonl"))
               for line in f.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len(queries) > 1000
    assert [q for q in queries if is_foreign(q, french)] == []
