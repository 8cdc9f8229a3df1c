"""The static part of the cards as HTML: one block where Streamlit would send dozens of elements. Pure.

Every piece of sheet or fiche content, every title and the agent's query are untrusted: plain text goes through
`html.escape`, Markdown through markdown-it with raw HTML off (a `<script>` in a sheet is shown as text) and its
link check (no `javascript:` or `data:` link). Streamlit then sanitizes the block again (DOMPurify). Headings,
lists, `<details>` disclosures and link texts keep the card readable with a screen reader and the keyboard.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape

from markdown_it import MarkdownIt

from assistant import glance
from assistant.site import Site


@dataclass
class View:
    """What a card needs besides the sheet: the search it answers and the site's settings."""

    partners: dict[str, dict]
    search_id: int
    trust: glance.Trust | None  # None: the agent chose this sheet, or opened a link to it
    stems: set[str] = field(default_factory=set)
    site: Site | None = None
    titles: dict[str, str] = field(default_factory=dict)  # id -> title, for links between sheets


def _markdown_it() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable("table")

    def link_open(self, tokens, idx, options, env):
        token = tokens[idx]
        if (token.attrGet("href") or "").startswith(("http://", "https://")):  # outside pages: a new tab
            token.attrSet("target", "_blank")
            token.attrSet("rel", "noopener noreferrer")
        return self.renderToken(tokens, idx, options, env)

    md.add_render_rule("link_open", link_open)
    return md


_MD = _markdown_it()


def markdown(text: str, shift: int = 3) -> str:
    """Markdown as safe HTML; its headings moved down `shift` levels (under the card's h2 and h3)."""
    tokens = _MD.parse(text or "")
    for token in tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = f"h{min(6, int(token.tag[1]) + shift)}"
    return _MD.renderer.render(tokens, _MD.options, {})


def inline(text: str) -> str:
    """One line of Markdown (no paragraph around it)."""
    return _MD.renderInline(text or "")


def badge(text: str, tone: str, title: str | None = None) -> str:
    hint = f' title="{escape(title)}"' if title else ""
    return f'<span class="fs-badge fs-{tone}"{hint}>{escape(text)}</span>'


def heading(text: str, level: int, cls: str = "") -> str:
    attr = f' class="{cls}"' if cls else ""
    return f"<h{level}{attr}>{escape(text)}</h{level}>"


def items(lines: list[str], rest: int = 0, what: str = "", tab: str = "") -> str:
    """A few short lines of Markdown as a list, and how many more are in the details below."""
    out = [f"<li>{inline(line)}</li>" for line in lines]
    if rest:
        out.append(f'<li class="fs-more"><em>… et {rest} autre(s) {escape(what)} : rubrique « {escape(tab)} »'
                   "</em></li>")
    return "<ul>" + "".join(out) + "</ul>"


def disclosure(summary: str, body: str, opened: bool = False, cls: str = "") -> str:
    """A section the agent opens with a click or Enter (native `<details>`: keyboard and screen readers)."""
    attrs = (f' class="{cls}"' if cls else "") + (" open" if opened else "")
    return f"<details{attrs}><summary><h3>{escape(summary)}</h3></summary>{body}</details>"


def link(url: str, text: str, cls: str = "") -> str:
    """An outside link (new tab); only http(s) addresses become links, anything else stays text."""
    if not url.startswith(("https://", "http://")):
        return escape(text)
    attr = f' class="{cls}"' if cls else ""
    return (f'<a{attr} href="{escape(url, quote=True)}" target="_blank" rel="noopener noreferrer">{escape(text)}'
            '<span class="fs-sr"> (nouvel onglet)</span></a>')


def block(parts: list[str], cls: str) -> str:
    return f'<div class="{cls}">' + "".join(p for p in parts if p) + "</div>"
