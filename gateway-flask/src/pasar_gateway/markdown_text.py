"""Markdown of the contracts' comments (the API's introduction, services' and routes' text) as safe HTML.

CommonMark through markdown-it-py with raw HTML off: a ``<script>`` or an ``onclick`` in a
comment comes out as text, never as markup, and links keep only the schemes markdown-it
allows (no ``javascript:``); images are off, so that the page never fetches what a comment
points at (it works offline, from the gateway alone). The text's own headings are moved
below the heading it sits under, so that the page's headings stay in order.
"""

from __future__ import annotations

from functools import cache

from markdown_it import MarkdownIt
from markupsafe import Markup

HEADING_TOKENS = ("heading_open", "heading_close")


@cache
def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False}).disable("image")


def render_markdown(text: str, *, under_level: int) -> Markup:
    """text as HTML, its headings starting one level below under_level (h3 under an h2)."""
    parser = _parser()
    tokens = parser.parse(text or "")
    for token in tokens:
        if token.type in HEADING_TOKENS:
            level = int(token.tag[1:]) + under_level
            token.tag = f"h{min(level, 6)}"
    return Markup(parser.renderer.render(tokens, parser.options, {}))  # noqa: S704 - html is off
