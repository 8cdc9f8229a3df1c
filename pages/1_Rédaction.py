"""Editors' view: which sheets to fix, which questions have no sheet yet, what agents said; rebuild the index.

Reads the KB as `indexer.kb.load_kb` validates it, the index in service, and the assistant's database.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st
from indexer.build import BuildError, BuildReport, rebuild
from indexer.embed import ModelError
from indexer.store import StoreError

from assistant import config, editorial, resources, signin
from assistant.feedback import local_time
from assistant.sheetinfo import french_date

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


def table(rows: list[dict], empty: str, **columns) -> None:
    if rows:
        st.dataframe(pd.DataFrame(rows), hide_index=True, column_config=columns or None)
    else:
        st.caption(empty)


st.set_page_config(page_title="Rédaction · Assistant France Services", layout="wide")
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
negative = store.negative_feedback()
daily = store.daily()
titles = {sid: sheet.title for sid, sheet in index.sheets.items()}
searches = sum(d["searches"] for d in daily)
answered = sum(d["answered"] for d in daily)

numbers = st.columns(5)
numbers[0].metric("Fiches", len(kb.sheets))
numbers[1].metric("À revoir (> 12 mois)", len(stale))
numbers[2].metric("Erreurs de validation", len(kb.errors))
numbers[3].metric("Recherches", searches)
numbers[4].metric("Taux de réponse", f"{answered / searches:.0%}" if searches else "–")

sheets_tab, weak_tab, negative_tab, activity_tab = st.tabs(
    ["Fiches", f"Sans réponse ({len(weak)})", f"Avis négatifs ({len(negative)})", "Activité"])

with sheets_tab:
    st.subheader("Validation", anchor=False)
    if kb.errors:
        st.error(f"{len(kb.errors)} erreur(s) : ces fiches sont refusées par la reconstruction.")
        st.code("\n".join(str(p) for p in kb.errors), language=None)
    elif kb.sheets:
        st.success(f"Toutes les fiches de « {config.kb_dir()} » sont valides.")
    if kb.warnings:
        with st.expander(f"{len(kb.warnings)} avertissement(s)"):
            st.code("\n".join(str(p) for p in kb.warnings), language=None)
    st.subheader("Fiches à revoir (plus de 12 mois)", anchor=False)
    table(stale, "Aucune fiche de plus de 12 mois.")
    st.subheader("Toutes les fiches", anchor=False)
    table(rows, "Aucune fiche.", **{"Âge (jours)": st.column_config.NumberColumn(format="%d j")})

with weak_tab:
    st.subheader("Recherches sans réponse ou peu sûres", anchor=False)
    st.caption(f"Sans fiche proposée, ou avec une confiance inférieure à {low:.2f}, les plus fréquentes d'abord : "
               "une fiche, un mot-clé ou une entrée du glossaire manque peut-être. « Sujet hors champ » : la demande "
               "relève d'un sujet sans fiche déclaré dans hors-champ.yaml ; sinon, c'est peut-être un sujet à y ajouter.")
    table([{"Recherche": w["query"], "Nombre": w["count"], "Sans réponse": w["unanswered"],
            "Confiance moyenne": round(w["confidence"], 2),
            "Sujet hors champ": gap.subject if (gap := searcher.known_gap(w["query"])) else "",
            "Dernière fois": local_time(w["last"])} for w in weak],
          "Aucune recherche sans réponse.")

with negative_tab:
    st.subheader("Avis négatifs", anchor=False)
    table([{"Date": local_time(n["ts"]), "Fiche": titles.get(n["sheet"], n["sheet"]), "Raison": n["reason"],
            "Commentaire": n["comment"] or "", "Recherche": n["query"]} for n in negative],
          "Aucun avis négatif.")

with activity_tab:
    if not daily:
        st.caption("Aucune recherche enregistrée pour l'instant.")
    else:
        per_day = pd.DataFrame(daily).rename(columns={"day": "Jour"}).set_index("Jour")
        st.subheader("Recherches par jour", anchor=False)
        st.bar_chart(per_day["searches"].rename("Recherches"))
        st.subheader("Taux de réponse par jour (%)", anchor=False)
        rate = (per_day["answer_rate"] * 100).round(1).rename("Taux de réponse (%)")
        (st.line_chart if len(rate) > 1 else st.bar_chart)(rate)  # a line needs two days to show
        top = store.top_sheets(10)
        if top:
            st.subheader("Fiches les plus proposées", anchor=False)
            top_frame = pd.DataFrame([{"Fiche": titles.get(t["sheet"], t["sheet"]), "Réponses": t["count"]}
                                      for t in top])
            st.bar_chart(top_frame, x="Fiche", y="Réponses", horizontal=True, sort="-Réponses")
