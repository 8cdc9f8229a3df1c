"""Streamlit pieces of the search page: the answer card, two close sheets side by side, the other candidates, the
no-answer help, feedback.

The card's first screen (1366×768) holds what the agent says first: title, kind, partner, how sure, the print
button, En bref, the steps, and a panel with the online service, documents, cost and delays; the other sections
are one click away. Everything the agent only reads is a few HTML blocks (`assistant.cardhtml`: escaped, raw HTML
in a sheet is shown as text and never runs); widgets are only where the agent acts (print, documents ticked,
feedback, another sheet). Each Streamlit element is a message to the browser at every Enter: few elements, fast
cards when many agents share the server.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import lru_cache
from html import escape
from urllib.parse import quote

import streamlit as st
from indexer.offtopic import OffTopic
from indexer.search import Hit
from indexer.sheets import DOCUMENTS, SECTIONS, STEPS, Sheet

from assistant import cardhtml as html
from assistant import glance
from assistant.cardhtml import View
from assistant.feedback import REASONS, Store
from assistant.handout import fallback_html, handout_html, print_button
from assistant.sheetinfo import (age_days, french_date, is_stale, link_official_fiches, partner_contact, partner_label,
                                 source_label)
from assistant.site import Site

__all__ = ["View", "answer_card", "candidates", "close_pair", "feedback", "no_answer"]

SEARCH_LABEL = "Rechercher une démarche"
KINDS = {"sheet": "Fiche guichet", "fiche": "Fiche officielle"}
TIPS = (
    "reformulez avec les mots de l'usager (« perdu mes papiers », « changer d'adresse ») ;",
    "essayez le sigle ou le nom courant : APL, RSA, AAH, CMI, carte grise, allocs ;",
    "retirez le filtre partenaire, ou cherchez le mot le plus courant de la démarche.",
)
LINE = 42  # characters of one panel line at 1366 px: one line each keeps the delays on the first screen
MARK = " ★"  # on a tab whose text contains a word of the request


def kind_of(document) -> str:
    return getattr(document, "kind", "sheet") or "sheet"


def sheet_link(sheet_id: str) -> str:
    return f"?fiche={quote(sheet_id)}"


def rendered(view: View, markdown: str) -> str:
    """Sheet Markdown as the card's HTML: mentions of other sheets linked, the request's words marked. The
    rendering depends on the sheet and the index only, so it is computed once; only the marks are per search."""
    return glance.highlight_html(_rendered(markdown, tuple(view.titles.items())), view.stems)


@lru_cache(maxsize=4096)
def _rendered(markdown: str, titles: tuple[tuple[str, str], ...]) -> str:
    return html.markdown(link_official_fiches(glance.link_sheets(markdown, dict(titles), sheet_link)))


def answer_card(sheet: Sheet, view: View, today: dt.date | None = None) -> None:
    """The card of one document; its body depends on its kind (`BODIES`), its header does not."""
    with st.container(border=True, key="card"):
        header(sheet, view, today)
        BODIES.get(kind_of(sheet), sheet_body)(sheet, view)


def header_html(sheet, view: View) -> str:
    """Title, partner, kind, how sure, date: what the agent checks first."""
    partner = view.partners.get(sheet.partner, {})
    badges = [html.badge(partner_label(view.partners, sheet.partner), "blue", partner.get("name")),
              html.badge(KINDS.get(kind_of(sheet), KINDS["sheet"]), "gray")]
    if view.trust is not None:
        badges.append(html.badge(view.trust.label, "green" if view.trust.sure else "orange", view.trust.detail))
    parts = [html.heading(sheet.title, 2), '<p class="fs-badges">' + " ".join(badges)
             + f' <span class="fs-date">Mise à jour le {french_date(sheet.updated)}</span></p>']
    if view.trust is not None and not view.trust.sure:
        parts.append(f'<p class="fs-detail">{escape(view.trust.detail)}</p>')
    return html.block(parts, "fs-header")


def header(sheet, view: View, today: dt.date | None = None) -> None:
    """The header, and the print button beside it (early in the keyboard order, on the first screen)."""
    with st.container(horizontal=True, wrap=False, gap="medium", vertical_alignment="center", key="top"):
        st.html(header_html(sheet, view))
        partner_name = view.partners.get(sheet.partner, {}).get("name")
        st.iframe(print_frame(sheet, partner_name, view.site, ticked(sheet, view.search_id)), width=240, height=48,
                  alt="Imprimer pour l'usager")
    if is_stale(sheet.updated, today):
        st.warning(f"Fiche non vérifiée depuis plus de 12 mois (mise à jour le {french_date(sheet.updated)}, "
                   f"il y a {age_days(sheet.updated, today)} jours) : contrôlez sur la source officielle.",
                   icon=":material/history:")


_FRAMES: dict[tuple, str] = {}  # print frames already built: the same sheet is printed by many searches


def print_frame(sheet: Sheet, partner_name: str | None, site: Site | None, ticked: list[int]) -> str:
    """The print button and the page it prints, built once per sheet version, site, ticks and day."""
    key = (sheet.id, sheet.digest, partner_name, site, tuple(ticked), dt.date.today())
    frame = _FRAMES.get(key)
    if frame is None:
        if len(_FRAMES) >= 512:
            _FRAMES.clear()
        frame = _FRAMES[key] = print_button(handout_html(sheet, partner_name, site=site, ticked=ticked))
    return frame


def sheet_body(sheet: Sheet, view: View) -> None:
    """Two columns in one block (the sections, the panel the agent reads out), then the documents checklist."""
    st.html(html.block([main_html(sheet, view), essentials_html(sheet, view)], "fs-body"))
    checklist(sheet, view)


def ticked(sheet: Sheet, search_id: int) -> list[int]:
    return sorted(st.session_state.get(_docs_key(search_id, sheet.id)) or [])


def _docs_key(search_id: int, sheet_id: str) -> str:
    return f"docs-{search_id}-{sheet_id}"


def essentials_html(sheet: Sheet, view: View) -> str:
    """The panel the agent reads out: online service, documents (count and first ones), cost, delays."""
    parts = []
    if sheet.online_service:
        parts.append('<p class="fs-online" title="' + escape(sheet.online_service["label"], quote=True) + '">'
                     + html.link(sheet.online_service["url"], "Service en ligne ↗", "fs-button") + "</p>")
    count = len(sheet.documents)
    if sheet.documents:
        first, rest = [glance.shorten(d, LINE) for d in sheet.documents[:3]], max(0, count - 3)
    else:
        first, rest = glance.summary(sheet.section_text(DOCUMENTS), items=3, limit=LINE)
    parts.append(html.block([html.heading(f"{DOCUMENTS} ({count})" if count else DOCUMENTS, 3),
                             html.items(first, rest, "pièce(s)", DOCUMENTS)], "fs-documents"))
    for name, key in (("Coût", "cost"), ("Délais", "delays")):
        lines, rest = glance.summary(sheet.section_text(name), items=2, limit=LINE)
        body = html.items(lines, rest, "point(s)", name) if lines else "<p>Non précisé par la fiche.</p>"
        parts.append(html.block([html.heading(name, 3), body], f"fs-{key}"))
    if not view.site or not view.site.configured:
        parts.append('<p class="fs-note">Coordonnées de votre France Services non renseignées : page Rédaction, '
                     "« Votre site ».</p>")
    return html.block(parts, "fs-essentials")


def main_html(sheet: Sheet, view: View) -> str:
    """En bref, then the steps open and every other section one click away (★: the request's words are in it)."""
    parts = []
    if sheet.section_text("En bref"):
        parts += [html.heading("En bref", 3), rendered(view, sheet.section_text("En bref"))]
    names = [STEPS, DOCUMENTS, "Coût", "Délais", "Qui est concerné", "Cas particuliers", "En cas de blocage"]
    names = [n for n in names if sheet.section_text(n) or n == "En cas de blocage"] + ["Sources"]
    sections = []
    for name in names:
        label = f"{name} ({len(sheet.documents)})" if name == DOCUMENTS and sheet.documents else name
        if glance.mentions(sheet.section_text(name), view.stems):
            label += MARK
        sections.append((name, label))
    if any(label.endswith(MARK) for _, label in sections):
        parts.append(f'<p class="fs-note">{MARK.strip()} : la rubrique contient un mot de la demande (surligné).</p>')
    for name, label in sections:
        parts.append(html.disclosure(label, section_html(sheet, view, name), opened=name == STEPS))
    return html.block(parts, "fs-main")


def section_html(sheet: Sheet, view: View, name: str) -> str:
    if name == "Sources":
        return "<ul>" + "".join(f"<li>{html.link(u, source_label(u))}</li>" for u in sheet.sources) + "</ul>"
    text = sheet.section_text(name)
    body = rendered(view, text) if text else ""
    if name == "En cas de blocage":
        contact = partner_contact(view.partners, sheet.partner, sheet.id)
        if contact:
            body += f'<p class="fs-contact"><span aria-hidden="true">☎ </span>{escape(contact)}</p>'
        elif not text:
            body = "<p>La fiche ne donne pas de contact : voir le site du partenaire.</p>"
    return body


def warm(sheets: list[Sheet], view: View) -> int:
    """Build, for each counter sheet, what its first card would build: the sections' HTML, their indexed words and
    the print frame without ticks. Run once in the background when the app starts (about 13 ms of CPU a sheet),
    so that no agent's first card of a sheet pays for it. Returns the number of sheets prepared."""
    for sheet in sheets:
        for name in SECTIONS:
            text = sheet.section_text(name)
            if text:
                glance.prepare(rendered(view, text))
                glance.prepare(text, markdown=True)
        print_frame(sheet, view.partners.get(sheet.partner, {}).get("name"), view.site, [])
    return len(sheets)


def checklist(sheet: Sheet, view: View) -> None:
    """The documents the citizen already has, ticked with them (they print first); reset for each search."""
    if not sheet.documents:
        return
    st.pills("Pièces réunies avec l'usager (imprimées en premier)", list(range(len(sheet.documents))),
             selection_mode="multi", format_func=lambda n: " ".join(sheet.documents[n].split()),
             key=_docs_key(view.search_id, sheet.id), width="stretch", wrap=True)


BODIES: dict[str, Callable[[object, View], None]] = {"sheet": sheet_body}  # kind -> card body; others register


def close_pair(pair: list[Hit], sheets: dict[str, Sheet], view: View) -> None:
    """Two sheets the search cannot tell apart: both side by side, the agent picks with the citizen."""
    with st.container(border=True, key="pair"):
        st.html(html.heading("Deux fiches proches : laquelle correspond à l'usager ?", 2))
        for column, hit in zip(st.columns(2, gap="medium"), pair):
            sheet = sheets.get(hit.id)
            summary = sheet.section_text("En bref") if sheet is not None else ""
            column.html(html.block([html.heading(hit.title, 3),
                                    f'<p>{html.badge(partner_label(view.partners, hit.partner), "blue")}</p>',
                                    rendered(view, glance.shorten(summary, 320)) if summary else ""],
                                   "fs-choice"))
            column.button(f"Voir la fiche {hit.title}", key=f"pick-{hit.id}", on_click=select, args=(hit.id,),
                          type="primary", icon=":material/arrow_forward:")


def candidates_html(hits: list[Hit], partners: dict[str, dict], title: str) -> str:
    """The other sheets found: title, partner or official badge, and the passage that matched."""
    rows = []
    for hit in hits:
        tag = (html.badge("Fiche officielle service-public.fr", "violet") if getattr(hit, "kind", "sheet") == "fiche"
               else html.badge(partner_label(partners, hit.partner), "gray"))
        passage = ""
        if hit.passage:
            where = hit.section if hit.section in SECTIONS else ""  # chunks of the title carry no section
            text = glance.shorten(hit.passage, 240)
            passage = f'<br><span class="fs-passage">{escape(f"{where} : {text}" if where else text)}</span>'
        rows.append(f"<li><strong>{escape(hit.title)}</strong> {tag}{passage}</li>")
    return html.block([html.heading(title, 2), '<ul class="fs-candidates">' + "".join(rows) + "</ul>"], "fs-after")


def candidates(hits: list[Hit], partners: dict[str, dict], title: str) -> None:
    """Other sheets the search found; a click shows that sheet's card instead."""
    if not hits:
        return
    with st.container(key="after"):
        st.html(candidates_html(hits, partners, title))
        with st.container(horizontal=True, gap="small"):
            for hit in hits:
                st.button(f"Voir la fiche {hit.title}", key=f"show-{hit.id}", on_click=select, args=(hit.id,),
                          type="secondary", icon=":material/arrow_forward:")


def select(sheet_id: str) -> None:
    st.session_state.selected = sheet_id
    st.query_params["fiche"] = sheet_id


def no_answer(hits: list[Hit], partners: dict[str, dict], query: str, site: Site | None,
              redirect: OffTopic | None = None) -> None:
    """No sheet answers: say so, say where to direct the citizen, and give something to print."""
    if redirect is not None:  # a request the KB knows it does not cover (kb/hors-champ.yaml)
        st.info(f"**Pas de fiche pour ce sujet : {redirect.subject}.**\n\nOrienter : {redirect.direction}",
                icon=":material/alt_route:")
    else:
        st.warning("**Aucune fiche ne correspond** à cette recherche avec assez de certitude.",
                   icon=":material/search_off:")
        st.markdown("Pour trouver la bonne fiche :\n" + "\n".join(f"- {tip}" for tip in TIPS))
    st.iframe(print_button(fallback_html(query, redirect.direction if redirect else None, site),
                           "Imprimer une page d'orientation"), width=300, height=48, alt="Imprimer une page d'orientation")
    candidates(hits, partners, "Fiches proches, au cas où" if redirect is not None else "Peut-être")


ANSWERS = {"yes": ":material/thumb_up: Oui", "no": ":material/thumb_down: Non"}


def feedback(store: Store, query: str, sheet_id: str, titles: dict[str, str]) -> None:
    """“Did this sheet answer?” — one answer per search and sheet, stored for the editors."""
    key = f"{sheet_id}|{query}"
    given = st.session_state.setdefault("feedback_given", {})
    if given.get(key) == "sent":
        st.success("Merci : votre retour aide les rédacteurs à améliorer les fiches.", icon=":material/check_circle:")
        if key in st.session_state.get("feedback_yes", {}):  # a Oui clicked by mistake can still become a Non
            st.button("Corriger : la fiche ne m'a pas permis de répondre", key=f"correct-{sheet_id}", type="tertiary",
                      icon=":material/undo:", on_click=_take_back, args=(store, query, sheet_id, key))
        return
    st.segmented_control("Cette fiche m'a permis de répondre ?", list(ANSWERS), format_func=ANSWERS.get,
                         key=f"useful-{sheet_id}", on_change=_answered, args=(store, query, sheet_id, key))
    if given.get(key) in ("open", "incomplete"):
        with st.form(f"why-{sheet_id}"):
            st.radio("Qu'est-ce qui n'allait pas ?", list(REASONS), index=None, format_func=REASONS.get,
                     horizontal=True, key=f"reason-{sheet_id}")
            others = sorted((sid for sid in titles if sid != sheet_id), key=lambda s: titles[s].lower())
            st.selectbox("Quelle fiche aurait dû sortir ? (facultatif)", others, index=None,
                         format_func=titles.get, key=f"expected-{sheet_id}", placeholder="Choisir une fiche")
            st.text_area("Commentaire (facultatif)", key=f"comment-{sheet_id}", max_chars=1000,
                         placeholder="Ce qui manque ou ce qui est faux. Pas de nom ni de numéro de l'usager.")
            if given.get(key) == "incomplete":
                st.error("Choisissez ce qui n'allait pas avant d'envoyer.")
            st.form_submit_button("Envoyer", key=f"send-{sheet_id}", on_click=_not_useful,
                                  args=(store, query, sheet_id, key))


def _answered(store: Store, query: str, sheet_id: str, key: str) -> None:
    """Oui is stored at once; Non opens the form asking why."""
    answer = st.session_state.get(f"useful-{sheet_id}")
    if answer == "yes":
        moment = dt.datetime.now(dt.timezone.utc)
        store.record_feedback(query, sheet_id, True, now=moment)
        st.session_state.feedback_given[key] = "sent"
        st.session_state.setdefault("feedback_yes", {})[key] = moment
    elif answer == "no":
        st.session_state.feedback_given[key] = "open"


def _take_back(store: Store, query: str, sheet_id: str, key: str) -> None:
    """The Oui is withdrawn from the store and the form asking why opens, as for a Non."""
    state = st.session_state
    store.withdraw_feedback(query, sheet_id, state.feedback_yes.pop(key))
    state.feedback_given[key] = "open"
    state[f"useful-{sheet_id}"] = "no"


def _not_useful(store: Store, query: str, sheet_id: str, key: str) -> None:
    state = st.session_state
    reason = state.get(f"reason-{sheet_id}")
    if reason is None:
        state.feedback_given[key] = "incomplete"
        return
    store.record_feedback(query, sheet_id, False, reason, state.get(f"comment-{sheet_id}"),
                          expected=state.get(f"expected-{sheet_id}"))
    state.feedback_given[key] = "sent"
