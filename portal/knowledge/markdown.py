"""Article bodies: Markdown rendered by markdown-it-py, then sanitised by nh3 (ammonia).

Raw HTML is not parsed as HTML at all (markdown-it's `html` option is off, so it comes out
escaped), and nh3 then keeps only an allow-list of tags and attributes with http, https and
mailto links: no script, style, event handler or javascript: URL survives either step.
"""

from __future__ import annotations

import functools
import html

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

ALLOWED_TAGS = {
    "p", "br", "hr", "h2", "h3", "h4", "h5", "h6", "strong", "em", "code", "pre", "blockquote",
    "ul", "ol", "li", "a", "img", "table", "thead", "tbody", "tr", "th", "td", "del",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"}, "th": {"align"}}
URL_SCHEMES = {"http", "https", "mailto"}


@functools.cache
def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")


def _demote_h1(rendered: str) -> str:
    # The article's title is the page's only h1.
    return rendered.replace("<h1>", "<h2>").replace("</h1>", "</h2>")


def render(source: str) -> Markup:
    """Safe HTML for an article body."""
    return Markup(_rendered(source or ""))  # noqa: S704  (sanitised by _rendered)


@functools.lru_cache(maxsize=512)
def _rendered(source: str) -> str:
    # A published version never changes: the most read bodies are rendered once per worker.
    rendered = _demote_h1(_parser().render(source or ""))
    cleaned = nh3.clean(
        rendered,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
    )
    return str(cleaned)


def plain_text(source: str) -> str:
    """The body as words, for the search index and snippets."""
    return html.unescape(nh3.clean(_parser().render(source or ""), tags=set())).strip()
