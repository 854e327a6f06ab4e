"""The Base de Conhecimento through the API: search and list articles, read one, download its
files, and the category tree.

Nothing is decided here: what a person finds is `queries.readable` (listing) or the portal's
search with `policy.sees_restricted` (searching, as /pesquisa does), what one article shows is
`queries.readable_article` + `queries.shown_version` (the article page's decision), its files
are `queries.article_file` served by `files.send_attachment` (the HTML download's).
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import url_for
from flask_smorest import Blueprint
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from portal.api import auth
from portal.api.catalog import ListArgs, decode_cursor, encode_cursor
from portal.api.fields import file_download, id_field, next_link
from portal.api.problems import documented_errors
from portal.core import files as uploads
from portal.core import fulltext
from portal.core.errors import NotFound
from portal.core.extensions import db
from portal.core.ranking import HORIZON
from portal.knowledge import markdown, policy, queries
from portal.knowledge.models import Article, KbCategory, Visibility
from portal.search.presenter import QUERY_MAX
from portal.search.queries import ARTICLE

bp = Blueprint(
    "api_knowledge", __name__, url_prefix="/api/v1/knowledge", description="Base de conhecimento"
)
auth.protect(bp)

# A listing's cursor, or a search's (see "cursors" below: positions are < 2 * HORIZON).
CURSOR_PATTERN = rf"^[0-9]{{1,18}}(-[0-9]{{1,{len(str(2 * HORIZON))}}})?$"
BAD_CURSOR = "Cursor inválido: use o next_cursor da página anterior."

# ------------------------------------------------------------------ schemas


class ArticleListArgs(ListArgs):
    q = ma.fields.String(
        validate=ma.validate.Length(max=QUERY_MAX, error=f"No máximo {QUERY_MAX} caracteres."),
        metadata={"description": "Texto a pesquisar (como na Pesquisa do portal)"},
    )
    category = id_field(
        "Informe o id de uma categoria.",
        metadata={"description": "Só os artigos arquivados diretamente nesta categoria"},
    )
    cursor = ma.fields.String(
        validate=ma.validate.Regexp(CURSOR_PATTERN, error=BAD_CURSOR),
        metadata={"description": "O next_cursor da página anterior"},
    )


class CategoryRefSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)


class ArticleSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    number = ma.fields.String(required=True, metadata={"description": "KB0000123"})
    ref = ma.fields.String(
        required=True, metadata={"description": "Número e slug: o endereço do artigo"}
    )
    title = ma.fields.String(required=True)
    summary = ma.fields.String(required=True)
    label = ma.fields.String(
        required=True,
        metadata={"description": "Só atendentes: “Interno”, “Rascunho”, “Em revisão”; senão vazio"},
    )
    category = ma.fields.Nested(CategoryRefSchema, required=True, allow_none=True)
    updated_at = ma.fields.DateTime(required=True, metadata={"description": "UTC"})
    url = ma.fields.String(required=True, metadata={"description": "A página do artigo"})


class ArticleHitSchema(ArticleSchema):
    snippet = ma.fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "Pesquisa: trecho em HTML, palavras em <mark>; senão null"},
    )


class ArticlePageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(ArticleHitSchema), required=True)
    next_cursor = ma.fields.String(
        required=True, allow_none=True, metadata={"description": "null na última página"}
    )


class FileSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    filename = ma.fields.String(required=True)
    size = ma.fields.Integer(required=True, metadata={"description": "Bytes"})
    content_type = ma.fields.String(required=True)
    download_url = ma.fields.String(required=True)


class FormRefSchema(ma.Schema):
    slug = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    url = ma.fields.String(required=True, metadata={"description": "Abrir uma solicitação"})


class ArticleDetailSchema(ArticleSchema):
    version = ma.fields.Integer(
        required=True, allow_none=True, metadata={"description": "null: versão não publicada"}
    )
    body_markdown = ma.fields.String(required=True)
    body_html = ma.fields.String(required=True, metadata={"description": "HTML sanitizado"})
    attachments = ma.fields.List(ma.fields.Nested(FileSchema), required=True)
    related_forms = ma.fields.List(ma.fields.Nested(FormRefSchema), required=True)


class CategoryNodeSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    parent_id = ma.fields.Integer(required=True, allow_none=True)
    depth = ma.fields.Integer(required=True, metadata={"description": "0 na raiz"})
    article_count = ma.fields.Integer(
        required=True,
        metadata={"description": "Artigos que você pode ler, subcategorias inclusive"},
    )
    url = ma.fields.String(required=True)


class CategoryListSchema(ma.Schema):
    categories = ma.fields.List(
        ma.fields.Nested(CategoryNodeSchema),
        required=True,
        metadata={"description": "Em ordem de árvore: cada categoria antes das suas filhas"},
    )


# ------------------------------------------------------------------ cursors

# Listing is keyset by article id, newest first: the catalog's cursor (the last id, digits).
# A search is ranked afresh on every request, and a rank is no column to compare with: its
# cursor is "<last document shown>-<its position>", and the next page starts right after that
# document in the new ranking, so an article indexed between two pages shifts neither. Only if
# the document has left the results (archived meanwhile) does the page start at the position.
# Every cursor the published pattern admits is a position, so none is refused.


def _search_cursor(document_id: int, position: int) -> str:
    return f"{encode_cursor(document_id)}-{position}"


def _search_start(cursor: str, ranked: list[int]) -> int:
    document, _, position = cursor.partition("-")
    try:
        return ranked.index(decode_cursor(document)) + 1
    except ValueError:
        return int(position or 0)


def _listing_after(cursor: str) -> int:
    return decode_cursor(cursor.partition("-")[0])  # a search's cursor: its document's id


# ------------------------------------------------------------------ representations


def _url(article: Article) -> str:
    return url_for("knowledge.article", ref=queries.canonical_ref(article))


def _article(article: Article, category: KbCategory | None, label: str) -> dict[str, Any]:
    """What a list shows of an article: the columns copied from its shown version."""
    return {
        "id": article.id,
        "number": article.number,
        "ref": queries.canonical_ref(article),
        "title": article.title,
        "summary": article.summary,
        "label": label,
        "category": {"id": category.id, "name": category.name} if category else None,
        # The shown version's date (the page's): published, else last saved (staff drafts).
        "updated_at": (article.published_at if article.is_live else None) or article.updated_at,
        "url": _url(article),
    }


def _label(article: Article, *, staff: bool) -> str:
    """What the staff's lists write next to a title; readers see only published public ones."""
    if not staff:
        return ""
    if not article.is_live:
        return article.state_label
    return article.visibility.label if article.visibility is Visibility.INTERNAL else ""


def _by_ids(ids: list[int]) -> dict[int, Article]:
    rows = db.session.scalars(
        select(Article).options(joinedload(Article.category)).where(Article.id.in_(ids))
    )
    return {a.id: a for a in rows}


# ------------------------------------------------------------------ views


def _listing(args: dict[str, Any], staff: bool) -> tuple[list[dict[str, Any]], str | None]:
    me, limit = auth.api_user(), args["limit"]
    query = select(Article.id).where(queries.readable(me))
    if args.get("category"):
        query = query.where(Article.category_id == args["category"])
    if args.get("cursor"):
        query = query.where(Article.id < _listing_after(args["cursor"]))
    ids = list(db.session.scalars(query.order_by(Article.id.desc()).limit(limit + 1)))
    page = ids[:limit]
    found = _by_ids(page)
    items = [
        {**_article(a, a.category, _label(a, staff=staff)), "snippet": None}
        for a in (found[i] for i in page if i in found)
    ]
    return items, encode_cursor(page[-1]) if len(ids) > limit else None


def _search(
    args: dict[str, Any], typed: str, staff: bool
) -> tuple[list[dict[str, Any]], str | None]:
    me, limit = auth.api_user(), args["limit"]
    ranking = fulltext.rank_documents(
        db.session, typed, staff=staff, kind=ARTICLE, category_id=args.get("category")
    )
    if ranking is None:
        return [], None
    start = _search_start(args["cursor"], ranking.ids) if args.get("cursor") else 0
    shown = ranking.ids[start : start + limit]
    hits = fulltext.document_hits(db.session, ranking, shown)
    found = _by_ids([hit.ref_id for hit in hits])
    items = [
        {
            **_article(found[hit.ref_id], found[hit.ref_id].category, hit.label if staff else ""),
            "snippet": str(hit.snippet),
        }
        for hit in hits
        # The index is written with the article; can_read is the page's own check besides.
        if hit.ref_id in found and policy.can_read(me, found[hit.ref_id])
    ]
    more = start + limit < len(ranking.ids)
    return items, _search_cursor(shown[-1], start + len(shown)) if more and shown else None


@bp.get("/articles")
@bp.arguments(ArticleListArgs, location="query")
@bp.response(200, ArticlePageSchema)
@documented_errors(bp, 401, 422, 429)
def articles(args: dict[str, Any]) -> Any:
    """Artigos

    Sem `q`: os artigos publicados que você pode ler (atendentes veem também os internos), mais
    novos primeiro por id. Com `q`: a mesma pesquisa da página Pesquisa, em ordem de relevância
    (atendentes encontram também rascunhos e artigos internos, com `label`); no máximo os
    melhores 1000 resultados. `category` filtra pela categoria do artigo (não inclui as
    subcategorias). Pagine com `cursor`: o `next_cursor` da página anterior, também no
    cabeçalho `Link: rel="next"`; um artigo publicado entre duas páginas não desloca nenhuma.
    """
    staff = policy.sees_restricted(auth.api_user())
    typed = " ".join(args.get("q", "").split())
    items, next_cursor = _search(args, typed, staff) if typed else _listing(args, staff)
    return (
        {"items": items, "next_cursor": next_cursor},
        200,
        next_link(".articles", next_cursor, args),
    )


def _readable(ref: str, *, versions: bool = False) -> Article:
    """The article this ref names (KB0000123, with any slug) if the token's user may read it;
    404 otherwise, whether it exists or not."""
    parsed = queries.parse_ref(ref)
    found = (
        queries.readable_article(db.session, auth.api_user(), parsed[0], versions=versions)
        if parsed
        else None
    )
    if found is None:
        raise NotFound()
    return found


@bp.get("/articles/<ref>")
@bp.response(200, ArticleDetailSchema)
@documented_errors(bp, 401, 404, 429)
def article(ref: str) -> dict[str, Any]:
    """Um artigo

    O artigo como a página o mostra a você: a versão publicada (atendentes: a de trabalho
    quando nada está publicado), o texto em Markdown e em HTML sanitizado, os arquivos e os
    formulários relacionados. `ref` é o número (KB0000123), com ou sem o slug. Um artigo que
    você não pode ler responde 404.
    """
    me = auth.api_user()
    found = _readable(ref, versions=True)
    version = queries.shown_version(db.session, found)
    if version is None:
        raise NotFound()
    category = db.session.get(KbCategory, version.category_id) if version.category_id else None
    files = queries.article_files(db.session, found.id)
    forms = queries.related_forms(db.session, list(version.item_ids or []))
    return {
        **_article(found, category, _label(found, staff=policy.sees_restricted(me))),
        "title": version.title,
        "summary": version.summary,
        "updated_at": version.published_at or version.updated_at,
        "version": version.number,
        "body_markdown": version.body,
        "body_html": str(markdown.render(version.body)),
        "attachments": [
            {
                "id": f.id,
                "filename": f.original_name,
                "size": f.size,
                "content_type": f.content_type,
                "download_url": url_for(".download", ref=found.number, attachment_id=f.id),
            }
            for f in files
        ],
        "related_forms": [
            {"slug": i.slug, "name": i.name, "url": url_for("requests.new", slug=i.slug)}
            for i in forms
        ],
    }


@bp.get("/articles/<ref>/attachments/<int:attachment_id>")
@file_download(bp)
@documented_errors(bp, 401, 404, 429)
def download(ref: str, attachment_id: int) -> Any:
    """Baixar um arquivo do artigo

    O arquivo como a página o serve. Um arquivo de outro artigo, ou de um artigo que você não
    pode ler, responde 404.
    """
    found = _readable(ref)
    attachment = queries.article_file(db.session, found.id, attachment_id)
    if attachment is None:
        raise NotFound()
    return uploads.send_attachment(attachment)


@bp.get("/categories")
@bp.response(200, CategoryListSchema)
@documented_errors(bp, 401, 429)
def categories() -> dict[str, Any]:
    """Categorias

    A árvore de categorias da Base de Conhecimento, com quantos artigos você pode ler em cada
    uma (as subcategorias inclusive), como a página da Base de Conhecimento a mostra.
    """
    tree = queries.category_tree(db.session, auth.api_user())
    rows: list[dict[str, Any]] = []
    pending = [(node, 0) for node in reversed(tree.roots)]
    while pending:  # depth first, each category before its children, in the page's order
        node, depth = pending.pop()
        rows.append(
            {
                "id": node.category.id,
                "name": node.category.name,
                "parent_id": node.category.parent_id if depth else None,
                "depth": depth,
                "article_count": node.count,
                "url": url_for("knowledge.category", category_id=node.category.id),
            }
        )
        pending.extend((child, depth + 1) for child in reversed(node.children))
    return {"categories": rows}
