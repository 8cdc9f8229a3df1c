"""Accessibility statement of the assistant (RGAA 4.1 as the reference), in the form the RGAA asks for."""

from __future__ import annotations

import streamlit as st

from assistant import chrome

chrome.dress("Rechercher une démarche")
st.title("Déclaration d'accessibilité", anchor=False)
st.markdown("""
L'Assistant France Services s'engage à rendre son outil accessible aux agents qui l'utilisent, conformément à
l'article 47 de la loi n° 2005-102 du 11 février 2005. Référentiel : RGAA 4.1 (critères WCAG 2.1 niveau AA).

## État de conformité

L'outil est **partiellement conforme** au RGAA 4.1 : il n'a pas encore fait l'objet d'un audit complet par un
organisme indépendant. Les contrôles suivants sont automatisés et rejoués à chaque modification
(tests `tests/test_browser.py`, dans Chromium) :

- aucune violation grave ou critique détectée par axe-core sur la page de recherche, la fiche et la page Rédaction ;
- langue de la page déclarée en français, textes des composants traduits en français ;
- parcours complet au clavier seul : saisir la demande, lire la fiche, imprimer la page pour l'usager ;
- aucune ressource chargée depuis un autre serveur (polices et icônes servies localement).

Contrôles faits à la main : contraste du texte d'au moins 4,5:1, focus clavier visible, titres dans l'ordre,
noms de boutons distincts (« Voir la fiche Passeport »).

## Contenus non accessibles connus

- Les graphiques de la page Rédaction n'ont pas d'équivalent textuel détaillé : les tableaux de la même page
  donnent les mêmes chiffres.
- Le bouton d'impression est dans un cadre (iframe) : il se trouve au clavier avec la touche Tab, à côté du
  titre de la fiche.

## Raccourcis clavier

- « / » : revenir dans le champ de recherche depuis n'importe où (hors champ de saisie).
- Tab / Maj+Tab : passer d'un élément à l'autre ; Entrée ou Espace : activer un bouton, ouvrir ou fermer une
  rubrique de la fiche, cocher une pièce.

## Signaler un problème

Si un élément de l'outil vous est inaccessible, signalez-le à l'équipe qui administre l'assistant dans votre
réseau France Services : elle vous apportera une alternative et corrigera l'outil. Si vous n'obtenez pas de
réponse, vous pouvez saisir le Défenseur des droits.
""")
