"""Article bodies: what an agent writes must never become script in a reader's browser."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from markupsafe import Markup

from portal.knowledge.markdown import plain_text, render

ALLOWED = {
    "p", "br", "hr", "h2", "h3", "h4", "h5", "h6", "strong", "em", "code", "pre", "blockquote",
    "ul", "ol", "li", "a", "img", "table", "thead", "tbody", "tr", "th", "td", "del",
}  # fmt: skip
SAFE_URL = re.compile(r"^(https?://|mailto:|/|#|[\w.-]+(/|$))", re.IGNORECASE)


class Elements(HTMLParser):
    """The real tags and attributes of rendered HTML (escaped text is not a tag)."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, dict(attrs)))


def elements(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = Elements()
    parser.feed(html)
    parser.close()
    return parser.found


def assert_inert(html: str) -> None:
    for tag, attrs in elements(html):
        assert tag in ALLOWED, html
        for name, value in attrs.items():
            assert not name.startswith("on") and name != "style", html
            if name in {"href", "src"}:
                assert value is not None and SAFE_URL.match(value.strip()), html
                assert ":" not in value.split("/")[0] or value.startswith(
                    ("http:", "https:", "mailto:")
                ), html


VECTORS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    '<a href="javascript:alert(1)">clique</a>',
    '<div onclick="alert(1)">texto</div>',
    "<iframe src=https://evil.example></iframe>",
    "<style>body { display: none }</style>",
    '<p style="background:url(javascript:alert(1))">x</p>',
    "<svg onload=alert(1)>",
    "<object data=x.swf></object>",
    '<form action="https://evil.example"><input name=cpf></form>',
    "<!-- comentário --><script>alert(1)</script>",
    "[clique](javascript:alert(1))",
    "[clique](JaVaScRiPt:alert(1))",
    "[clique](vbscript:msgbox(1))",
    "[clique](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![imagem](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    '![imagem](x" onerror="alert(1))',
    '[clique](https://portal.gov.br "título" onmouseover=alert(1))',
    "<details open ontoggle=alert(1)>",
    "```html\n<script>alert(1)</script>\n```",
    "<https://exemplo.gov.br/<script>>",
]


@pytest.mark.parametrize("source", VECTORS)
def test_nothing_executable_survives(source: str) -> None:
    html = str(render(source))
    assert_inert(html)
    assert "alert(1)" not in "".join(str(a) for _t, attrs in elements(html) for a in attrs.values())


@pytest.mark.parametrize("source", VECTORS[:12])
def test_raw_html_is_shown_as_text(source: str) -> None:
    html = str(render(source))
    assert "&lt;" in html
    assert "<p>" in html


def test_render_returns_markup() -> None:
    assert isinstance(render("texto"), Markup)
    assert str(render("")) == ""


def test_headings_never_compete_with_the_page_title() -> None:
    html = str(render("# Título\n\n## Seção\n\n### Subseção"))
    assert "<h1" not in html
    assert html.count("<h2>") == 2 and "<h3>Subseção</h3>" in html


def test_tables_lists_and_emphasis_are_kept() -> None:
    source = (
        "| Situação | O que fazer |\n| --- | --- |\n| Sem senha | Primeiro acesso |\n\n"
        "1. Abra o GERID\n2. Clique em **Entrar**\n\n- *um*\n- `dois`\n\n> aviso"
    )
    html = str(render(source))
    for tag in ("<table>", "<thead>", "<tbody>", "<th>Situação</th>", "<td>Sem senha</td>"):
        assert tag in html
    assert "<ol>" in html and "<ul>" in html and "<li>Abra o GERID</li>" in html
    assert "<strong>Entrar</strong>" in html and "<em>um</em>" in html
    assert "<code>dois</code>" in html and "<blockquote>" in html


def test_safe_links_keep_their_address_and_get_rel() -> None:
    html = str(render('[GERID](https://gerid.dataprev.gov.br "Entrar") [fale](mailto:a@b.br)'))
    assert 'href="https://gerid.dataprev.gov.br"' in html and 'title="Entrar"' in html
    assert 'href="mailto:a@b.br"' in html
    assert html.count('rel="noopener noreferrer nofollow"') == 2


def test_images_keep_https_sources_only() -> None:
    assert 'src="https://exemplo.gov.br/tela.png"' in str(
        render("![tela](https://exemplo.gov.br/tela.png)")
    )
    assert "src=" not in str(render("![tela](data:image/png;base64,AAAA)"))


def test_code_blocks_are_escaped() -> None:
    html = str(render('```\n<b>negrito</b> & "aspas"\n```'))
    assert "<pre><code>" in html and "&lt;b&gt;negrito&lt;/b&gt; &amp;" in html


def test_plain_text_is_the_words_without_markup() -> None:
    text = plain_text("## Passo\n\n1. Clique em **Entrar** &amp; aguarde\n\n<script>x</script>")
    assert "Passo" in text and "Clique em Entrar & aguarde" in text
    assert "**" not in text and "##" not in text
    # Raw HTML was text all along: it stays text (the index and snippets escape it).
    assert "<script>x</script>" in text
