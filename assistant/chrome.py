"""The page around the content, the same on every page of the app: French, readable, usable with the keyboard.

Streamlit's own widgets carry English texts and the page says lang="en"; both are fixed in the browser by one
script (a MutationObserver translating Streamlit's texts as they appear). The CSS raises text contrast to 4.5:1,
makes keyboard focus visible, compacts the page for 1366×768 and keeps the search bar in view.
"""

from __future__ import annotations

import json

import streamlit as st

# Streamlit's and its widgets' English texts, as the agent would see them, in French.
FRENCH = {
    "Choose an option": "Choisir une option",
    "Choose options": "Choisir des options",
    "No results": "Aucun résultat",
    "Add an option": "Ajouter une option",
    "Select all": "Tout sélectionner",
    "Clear all": "Tout effacer",
    "Clear value": "Effacer",
    "Clear entry": "Effacer la saisie",
    "Clear": "Effacer",
    "Search": "Rechercher",
    "Running...": "Recherche en cours…",
    "Stop": "Arrêter",
    "Rerun": "Relancer",
    "Settings": "Réglages",
    "Print": "Imprimer",
    "Download as CSV": "Télécharger en CSV",
    "Fullscreen": "Plein écran",
    "Close fullscreen": "Quitter le plein écran",
    "View fullscreen": "Plein écran",
    "Close": "Fermer",
    "Open": "Ouvrir",
    "Scroll tabs right": "Onglets suivants",
    "Scroll tabs left": "Onglets précédents",
    "Main menu": "Menu principal",
    "Show password text": "Afficher",
    "Collapse sidebar": "Replier le panneau",
    "Expand sidebar": "Déplier le panneau",
    "Press Enter to apply": "Entrée pour valider",
    "Press Enter to submit form": "Entrée pour envoyer",
    "Press ⌘+Enter to apply": "Ctrl+Entrée pour valider",
    "Press Ctrl+Enter to apply": "Ctrl+Entrée pour valider",
    "Copy to clipboard": "Copier",
    "Open in new tab": "Ouvrir dans un nouvel onglet",
    "Connecting": "Connexion…",
    "Please wait...": "Veuillez patienter…",
    "Skip to main content": "Aller au contenu",
}
PREFIXES = {"Press Enter to ": "Entrée pour valider", "Running ": "Recherche en cours…"}

SCRIPT = """<script>
(function () {
  const FR = %(french)s, PREFIX = %(prefixes)s, SEARCH = %(search)s;
  const doc = window.document;
  doc.documentElement.lang = "fr";
  if (window.__franceServicesChrome) return;
  window.__franceServicesChrome = true;
  function french(text) {
    const t = text.trim();
    if (FR[t]) return text.replace(t, FR[t]);
    for (const p in PREFIX) if (t.startsWith(p)) return PREFIX[p];
    return null;
  }
  function translate(root) {
    if (root.nodeType === 1) for (const a of ["placeholder", "aria-label", "title"]) {
      const v = root.getAttribute(a), fr = v && french(v);
      if (fr && fr !== v) root.setAttribute(a, fr);
    }
    const walker = doc.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const fr = french(n.nodeValue);
      if (fr !== null && fr !== n.nodeValue) n.nodeValue = fr;
    }
    const elements = root.querySelectorAll ? root.querySelectorAll("[placeholder],[aria-label],[title]") : [];
    for (const e of elements) for (const a of ["placeholder", "aria-label", "title"]) {
      const v = e.getAttribute(a);
      const fr = v && french(v);
      if (fr && fr !== v) e.setAttribute(a, fr);
    }
  }
  new MutationObserver(function (records) {
    if (doc.documentElement.lang !== "fr") doc.documentElement.lang = "fr";
    for (const r of records) {
      if (r.type === "characterData") {
        const fr = french(r.target.nodeValue);
        if (fr && fr !== r.target.nodeValue) r.target.nodeValue = fr;
      }
      else if (r.type === "attributes") translate(r.target);
      else for (const n of r.addedNodes) n.nodeType === 3 ? translate(n.parentNode || doc.body) : translate(n);
    }
  }).observe(doc, {subtree: true, childList: true, characterData: true, attributes: true,
                   attributeFilter: ["placeholder", "aria-label", "title", "lang"]});
  translate(doc.body);
  // The cursor is in the search box when the page opens, and "/" brings it back from anywhere but a field.
  function box() { return doc.querySelector('input[aria-label="' + SEARCH + '"]'); }
  let tries = 0;
  (function focus() {
    const b = box();
    if (b) { if (!doc.activeElement || doc.activeElement === doc.body) b.focus(); }
    else if (++tries < 100) setTimeout(focus, 50);
  })();
  // Back and Forward change ?q= / ?fiche= without Streamlit rerunning: reload, so the card matches the address.
  window.addEventListener("popstate", function () { window.location.reload(); });
  // "Voir la fiche …" under a card: the other sheet's card opens at its top, not where the agent had scrolled to.
  doc.addEventListener("click", function (e) {
    if (!e.target.closest || !e.target.closest('[class*="st-key-show-"] button')) return;
    const main = doc.querySelector('[data-testid="stMain"]');
    if (main) main.scrollTo({top: 0});
    window.scrollTo({top: 0});
  });
  window.__focusSearch = function () { const b = box(); if (b) { b.focus(); b.select(); } return !!b; };
  doc.addEventListener("keydown", function (e) {
    const t = e.target, typing = t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName));
    if (e.key === "/" && !typing && window.__focusSearch()) e.preventDefault();
  });
})();
</script>"""

CSS = """<style>
/* Compact for 1366×768: the card's essentials fit on the first screen. */
.stMainBlockContainer { padding-top: 3.9rem !important; padding-bottom: 2rem !important; }
h1 { font-size: 1.45rem !important; padding: 0.2rem 0 !important; white-space: nowrap; }
h2 { font-size: 1.3rem !important; padding: 0.5rem 0 0.25rem !important; }
/* The cards' HTML blocks (assistant/cardhtml.py): headings, badges, sections, the essentials panel. */
.st-key-card h2, .st-key-pair h2, .st-key-fichecard h2 { font-size: 1.45rem !important; padding: 0 !important; margin: 0 !important;
  line-height: 1.3 !important; }
.st-key-card h3, .st-key-pair h3, .st-key-after h2, .fs-essentials h3 { font-size: 1.05rem !important;
  padding: 0.15rem 0 !important; margin: 0 !important; }
.fs-header p { margin: 0.2rem 0 0 !important; }
.fs-badge { display: inline-block; padding: 0.05rem 0.5rem; border-radius: 0.5rem; font-size: 0.875rem;
  font-weight: 600; margin-right: 0.25rem; }
.fs-blue { background: #e3e3fd; color: #000091; } .fs-gray { background: #eeeeee; color: #3a3a3a; }
.fs-green { background: #dffee6; color: #0b5a2a; } .fs-orange { background: #ffe9d6; color: #6e3000; }
.fs-violet { background: #eee6ff; color: #4a1f8a; }
.fs-date, .fs-detail, .fs-note, .fs-passage { color: #3a3a3a; font-size: 0.875rem; }
.fs-note { margin-top: 0.75rem !important; }
.fs-body { display: grid; grid-template-columns: minmax(0, 1.35fr) minmax(0, 1fr); gap: 1.5rem;
  align-items: start; }
@media (max-width: 900px) { .fs-body { grid-template-columns: minmax(0, 1fr); } }
.fs-main details { border-top: 1px solid #dddddd; padding: 0.1rem 0; }
.fs-main details:last-child { border-bottom: 1px solid #dddddd; }
.fs-main summary { cursor: pointer; padding: 0.2rem 0; }
.fs-main summary h3 { display: inline; }
.fs-main details > :not(summary) { margin-left: 1.2rem; }
.fs-main p, .fs-main li { margin-bottom: 0.15rem !important; }
mark { background: #ffd8a8; color: #000000; padding: 0 0.1rem; }
.fs-essentials { border: 1px solid #dddddd; border-radius: 0.5rem; padding: 0.6rem 0.9rem; }
.fs-essentials > div { margin-top: 0.35rem; }
.fs-essentials p, .fs-essentials li { font-size: 0.95rem; margin-bottom: 0 !important; }
.fs-essentials ul { margin: 0 0 0 1.1rem; padding: 0; }
.fs-more em { color: #3a3a3a; }
.fs-online { margin: 0 0 0.3rem !important; }
.fs-button { display: inline-block; padding: 0.35rem 0.85rem; border-radius: 0.5rem; background: #000091;
  color: #ffffff !important; text-decoration: none; font-weight: 600; }
.fs-button:hover { background: #1212ff; }
.fs-link { display: inline-block; margin: 0.15rem 0; padding: 0.25rem 0.7rem; border: 1px solid #000091;
  border-radius: 0.5rem; color: #000091 !important; text-decoration: none; }
.fs-link:hover { background: #e3e3fd; }
.fs-services { list-style: none; margin: 0 !important; padding: 0 !important; }
.fs-candidates { margin: 0 0 0.3rem 1.1rem; padding: 0; } .fs-candidates li { margin-bottom: 0.35rem; }
/* The documents checklist: every document in full, on as many lines as it needs. */
[class*="st-key-docs-"] button { height: auto !important; max-width: 100% !important; text-align: left; }
[class*="st-key-docs-"] button * { white-space: normal !important; overflow: visible !important;
  text-overflow: clip !important; }
.fs-sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
/* The search bar stays in view while the agent scrolls the card. */
.st-key-searchbar { position: sticky; top: 3.75rem; z-index: 100; background: #ffffff;
  padding: 0.25rem 0 0.35rem; border-bottom: 1px solid #dddddd; }
/* Contrast >= 4.5:1 for secondary text (Streamlit's captions are about 3.9:1). */
.stCaptionContainer, .stCaptionContainer p, [data-testid="stCaptionContainer"], .stCaption,
[data-testid="stWidgetLabel"] p, [data-testid="InputInstructions"], small { color: #3a3a3a !important;
  opacity: 1 !important; }
input::placeholder, textarea::placeholder { color: #595959 !important; opacity: 1 !important; }
/* Keyboard focus always visible, checkboxes and radios included. */
a:focus-visible, button:focus-visible, [role="tab"]:focus-visible, summary:focus-visible, input:focus-visible,
textarea:focus-visible, [tabindex]:focus-visible { outline: 3px solid #0a76f6 !important; outline-offset: 2px; }
label:has(input[type="checkbox"]:focus-visible), label:has(input[type="radio"]:focus-visible) {
  outline: 3px solid #0a76f6; outline-offset: 2px; border-radius: 4px; }
[data-baseweb="select"]:focus-within, [data-baseweb="input"]:focus-within {
  outline: 3px solid #0a76f6; outline-offset: 1px; border-radius: 0.5rem; }
.st-key-search-focus { display: none; }
</style>"""


def dress(search_label: str) -> None:
    """French texts, lang="fr", contrast, focus and the search shortcut on the current page."""
    script = SCRIPT % {"french": json.dumps(FRENCH, ensure_ascii=False),
                       "prefixes": json.dumps(PREFIXES, ensure_ascii=False), "search": json.dumps(search_label)}
    st.html(CSS + script, unsafe_allow_javascript=True)
