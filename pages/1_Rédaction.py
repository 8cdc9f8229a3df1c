"""Editors' view: which sheets to fix, which questions have no sheet yet, what agents said; rebuild the index.

Reads the KB as `indexer.kb.load_kb` validates it, the index in service, and the assistant's database.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st
from indexer.build import BuildError, BuildReport, rebuild
from indexer.embed import ModelError
from indexer.store import StoreError

from assistant import card, chrome, config, editorial, exports, resources, signin
from assistant.feedback import REASONS, local_time
from assistant.sheetinfo import french_date
from indexer.fiches_fresh import stale_sheets
from assistant.site import LABELS, Site, SiteError, load_site, save_site, site_path

signin.require_editor()  # checked on the server at every run, even when the page's URL is typed

LOW_CONFIDENCE_MARGIN = 0.15  # answered, but this close to the threshold: worth an editor's look


def rebuild_index() -> None:
    """Rebuild with the model of the serving index; the Searcher switches to it at the next query."""
    searcher = resources.searcher()
    spec = searcher.index.manifest.get("model_spec") or "default"
    try:
        with st.spinner("Reconstruction de l'index…"):
            report: BuildReport = rebuild(config.kb_dir(), config.index_dir(), searcher.embedder, spec)
    except BuildError as exc:
        st.error(f"Index inchangé : {exc}")
        if exc.problems:
            st.code("\n".join(str(p) for p in exc.problems), language=None)
        return
    except (StoreError, ModelError) as exc:
        st.error(f"Index inchangé : {exc}")
        return
    st.success(f"Index reconstruit : version {report.build_id}, {report.sheets} fiches, {report.chunks} passages "
               f"({report.embedded} ré-encodés) en {report.seconds:.1f} s. Il sert dès la prochaine recherche.")
    if report.warnings:
        with st.expander(f"{len(report.warnings)} avertissement(s)"):
            st.code("\n".join(str(p) for p in report.warnings), language=None)


def site_form() -> None:
    """The France Services site printed on every page given to citizens: set once, here."""
    try:
        site = load_site()
    except SiteError as exc:
        st.error(f"{exc} : corrigez le fichier ou enregistrez le formulaire pour le remplacer.")
        site = Site()
    if not site.configured:
        st.warning("Coordonnées non renseignées : la page imprimée pour l'usager n'a pas de bloc « Votre France "
                   "Services ».", icon=":material/warning:")
    with st.form("site"):
        values = {key: st.text_input(label, value=getattr(site, key), key=f"site-{key}", max_chars=200)
                  for key, label in LABELS.items()}
        if st.form_submit_button("Enregistrer les coordonnées", icon=":material/save:"):
            if not values["name"].strip():
                st.error("Le nom du site est obligatoire.")
            else:
                path = save_site(Site(**values))
                st.success(f"Coordonnées enregistrées dans {path} : elles figurent sur les prochaines impressions.")


def chart(frame: pd.DataFrame, x: str, y: str, kind: str = "bar", horizontal: bool = False, percent: bool = False):
    """A Vega-Lite chart with French axis titles and labels never cut (long sheet titles included)."""
    value = {"field": y, "type": "quantitative", "title": y, "axis": {"labelLimit": 0, "format": "d" if not percent
                                                                    else ".0f"}}
    category = {"field": x, "type": "nominal" if horizontal else "ordinal", "title": x,
                "axis": {"labelLimit": 0, "labelAngle": 0 if horizontal else -40}}
    if horizontal:
        category["sort"] = "-x"
    encoding = {"y": category, "x": value} if horizontal else {"x": category, "y": value}
    spec = {"mark": {"type": kind, "tooltip": True, "color": "#000091", "point": kind == "line"} if kind == "line"
            else {"type": kind, "tooltip": True, "color": "#000091"},
            "encoding": encoding, "height": 40 + 28 * len(frame) if horizontal else 260,
            "config": {"axis": {"labelFontSize": 12, "titleFontSize": 12}, "bar": {"discreteBandSize": 22}}}
    st.vega_lite_chart(frame, spec)


def worklist_tab(items: list[dict]) -> None:
    st.header("Réponses probablement fausses", anchor=False)
    st.caption("Avis négatifs des agents (avec la fiche qui aurait dû sortir), recherches sans réponse ou peu sûres. "
               "Corrigez la fiche, ses mots-clés ou le glossaire, puis marquez l'élément comme traité.")
    if not items:
        st.success("Rien à traiter.", icon=":material/task_alt:")
        return
    for item in items[:30]:
        with st.container(border=True):
            text, button = st.columns([6, 2], vertical_alignment="center")
            shown = f"« {item['query']} »" + (f" → {item['sheet']}" if item["sheet"] else "")
            text.markdown(f"**{shown}**  \n{item['detail']} · {local_time(item['ts'])}")
            button.button("Marquer comme traité", key=f"handled-{item['key']}", on_click=store.mark_handled,
                          args=(item["key"],), help=f"Traité : {shown}")
    if len(items) > 30:
        st.caption(f"… et {len(items) - 30} autre(s) : traitez d'abord ceux-ci.")


def preview_tab() -> None:
    """A sheet on disk as the agent will see it after the rebuild, with its validation problems."""
    st.header("Aperçu d'une fiche avant reconstruction", anchor=False)
    paths = sorted({s.path for s in kb.sheets} | {p.path for p in kb.problems if p.path.endswith(".md")})
    by_path = {s.path: s for s in kb.sheets}
    path = st.selectbox("Fiche à prévisualiser", paths, index=None, key="preview",
                        format_func=lambda p: f"{by_path[p].title} ({p})" if p in by_path else f"{p} (refusée)",
                        placeholder="Choisir une fiche")
    if path is None:
        return
    problems = [p for p in kb.problems if p.path == path]
    if any(p.is_error for p in problems):
        st.error("Cette fiche est refusée : elle ne sera pas servie tant que ces erreurs restent.")
    if problems:
        st.code("\n".join(str(p) for p in problems), language=None)
    else:
        st.success("Aucun problème de validation.")
    if path in by_path:
        titles = {s.id: s.title for s in kb.sheets}
        card.answer_card(by_path[path], card.View(partners, 0, None, set(), load_site_quietly(), titles))


def load_site_quietly():
    try:
        return load_site()
    except SiteError:
        return None


def table(rows: list[dict], empty: str, **columns) -> None:
    if rows:
        st.dataframe(pd.DataFrame(rows), hide_index=True, column_config=columns or None)
    else:
        st.caption(empty)


st.set_page_config(page_title="Rédaction · Assistant France Services", layout="wide")
chrome.dress("Rechercher une démarche")
# The tables' own toolbar would download raw CSV, formulas included: exports go through assistant/exports.py only.
st.html("<style>[data-testid='stElementToolbar'] { display: none; }</style>")
st.title("Rédaction des fiches", anchor=False)
with st.container(border=True):
    st.markdown("Après avoir modifié des fiches dans le dossier des fiches, reconstruisez l'index : seules les fiches "
                "modifiées sont ré-encodées, et si une fiche a une erreur l'index en service n'est pas touché.")
    if st.button("Reconstruire l'index", key="rebuild", icon=":material/refresh:"):
        rebuild_index()

searcher = resources.searcher()
store = resources.store()
kb = resources.knowledge_base()
index = searcher.index
partners = kb.partners or searcher.partners()
manifest = index.manifest
built = french_date(str(manifest["built_at"])[:10]) if manifest.get("built_at") else "?"
st.caption(f"Index en service : version {index.build_id} · {len(index.sheets)} fiches · "
           f"modèle {manifest.get('model')} · construit le {built}")

rows = editorial.sheet_rows(kb, manifest.get("sheets", {}), partners, store.feedback_counts())
stale = editorial.stale_rows(rows)
low = searcher.tuning.threshold() + LOW_CONFIDENCE_MARGIN
weak = store.weak_queries(low)
negative = store.negative_feedback_items()
daily = store.daily()
titles = {sid: sheet.title for sid, sheet in index.sheets.items()}
searches = sum(d["searches"] for d in daily)
answered = sum(d["answered"] for d in daily)

numbers = st.columns(5)
numbers[0].metric("Fiches", len(kb.sheets))
numbers[1].metric("À revoir (> 12 mois)", len(stale))
numbers[2].metric("Erreurs de validation", len(kb.errors))
numbers[3].metric("Recherches", searches)
numbers[4].metric("Taux de réponse", f"{round(100 * answered / searches)}\u00a0%" if searches else "–")

titles_on_disk = {s.id: s.title for s in kb.sheets} | titles
work = editorial.worklist(negative, weak, store.handled(), titles_on_disk, REASONS)
sheets_tab, work_tab, weak_tab, negative_tab, activity_tab, preview, site_tab = st.tabs(
    ["Fiches", f"À traiter ({len(work)})", f"Sans réponse ({len(weak)})", f"Avis négatifs ({len(negative)})",
     "Activité", "Aperçu d'une fiche", "Votre site"])

with work_tab:
    worklist_tab(work)
with preview:
    preview_tab()
with site_tab:
    st.header("Coordonnées de votre France Services", anchor=False)
    st.caption(f"Imprimées sur chaque page remise à l'usager. Fichier : {site_path()}.")
    site_form()

with sheets_tab:
    st.header("Validation", anchor=False)
    if kb.errors:
        st.error(f"{len(kb.errors)} erreur(s) : ces fiches sont refusées par la reconstruction.")
        st.code("\n".join(str(p) for p in kb.errors), language=None)
    elif kb.sheets:
        st.success(f"Toutes les fiches de « {config.kb_dir()} » sont valides.")
    if kb.warnings:
        with st.expander(f"{len(kb.warnings)} avertissement(s)"):
            st.code("\n".join(str(p) for p in kb.warnings), language=None)
    st.header("Fiches à revoir (plus de 12 mois)", anchor=False)
    table(stale, "Aucune fiche de plus de 12 mois.")
    st.header("Fiches dont une fiche officielle citée a changé", anchor=False)
    fiches_dir = manifest.get("fiches_dir")
    changed = stale_sheets(config.kb_dir(), fiches_dir) if fiches_dir else []
    table([{"Fiche": r["sheet"], "Source (ligne)": f"{r['path']}:{r['line']}", "Fiche officielle":
            f"{r['fiche']} {r['fiche_title']}", "Changée le": french_date(r["fiche_changed"]),
            "Fiche mise à jour le": french_date(r["sheet_updated"])} for r in changed],
          "Aucune : les fiches officielles citées n'ont pas changé depuis la mise à jour des fiches "
          "(ou aucun flux officiel n'est importé).")
    st.header("Toutes les fiches", anchor=False)
    table(rows, "Aucune fiche.", **{"Âge (jours)": st.column_config.NumberColumn(format="%d j")})

with weak_tab:
    st.header("Recherches sans réponse ou peu sûres", anchor=False)
    st.caption(f"Sans fiche proposée, ou avec une confiance inférieure à {low:.2f}, les plus fréquentes d'abord : "
               "une fiche, un mot-clé ou une entrée du glossaire manque peut-être. « Sujet hors champ » : la demande "
               "relève d'un sujet sans fiche déclaré dans hors-champ.yaml ; sinon, c'est peut-être un sujet à y ajouter.")
    table([{"Recherche": w["query"], "Nombre": w["count"], "Sans réponse": w["unanswered"],
            "Confiance moyenne": round(w["confidence"], 2),
            "Sujet hors champ": gap.subject if (gap := searcher.known_gap(w["query"])) else "",
            "Dernière fois": local_time(w["last"])} for w in weak],
          "Aucune recherche sans réponse.")

with negative_tab:
    st.header("Avis négatifs", anchor=False)
    table([{"Date": local_time(n["ts"]), "Fiche": titles.get(n["sheet"], n["sheet"]),
            "Raison": REASONS.get(n["reason"], n["reason"]),
            "Aurait dû sortir": titles_on_disk.get(n["expected"] or "", n["expected"] or ""),
            "Commentaire": n["comment"] or "", "Recherche": n["query"]} for n in negative],
          "Aucun avis négatif.")

with activity_tab:
    st.header("Exports", anchor=False)
    st.caption("Fichiers CSV pour un tableur (points-virgules, UTF-8) : données personnelles déjà masquées, et toute "
               "cellule qui commence par = + - @ est neutralisée (jamais exécutée comme une formule).")
    with st.container(horizontal=True):
        st.download_button("Exporter les recherches (CSV)", exports.export_bytes(store, "searches"),
                           file_name="recherches.csv", mime="text/csv", on_click="ignore",
                           icon=":material/download:", key="export-searches")
        st.download_button("Exporter les avis (CSV)", exports.export_bytes(store, "feedback"),
                           file_name="avis.csv", mime="text/csv", on_click="ignore",
                           icon=":material/download:", key="export-feedback")
    if not daily:
        st.caption("Aucune recherche enregistrée pour l'instant.")
    else:
        per_day = pd.DataFrame(daily).rename(columns={"day": "Jour", "searches": "Recherches"})
        per_day["Taux de réponse (%)"] = (per_day["answer_rate"] * 100).round(1)
        st.header("Recherches par jour", anchor=False)
        chart(per_day, "Jour", "Recherches")
        st.header("Taux de réponse par jour (%)", anchor=False)
        chart(per_day, "Jour", "Taux de réponse (%)", "line" if len(per_day) > 1 else "bar", percent=True)
        top = store.top_sheets(10)
        if top:
            st.header("Fiches les plus proposées", anchor=False)
            top_frame = pd.DataFrame([{"Fiche": titles.get(t["sheet"], t["sheet"]), "Réponses": t["count"]}
                                      for t in top])
            chart(top_frame, "Fiche", "Réponses", horizontal=True)
