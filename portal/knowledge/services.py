"""Keeping the Base de Conhecimento: categories, drafts, review and publication, restore,
votes and feedback tasks.

Every function takes the session and the acting user, checks the policy, flushes and never
commits. The search index (portal.core.fulltext) is written in the same transaction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from portal.catalog.models import CatalogItem
from portal.core import audit, files, fulltext
from portal.core.actors import Actor, SystemActor, is_system
from portal.core.database import DbSession, begin_write
from portal.core.errors import Conflict, FormErrors, NotFound, ValidationError, require
from portal.core.models import Attachment, PendingUpload
from portal.core.numbering import next_value
from portal.core.timeutil import utcnow
from portal.knowledge import lifecycle, policy
from portal.knowledge.lifecycle import Move
from portal.knowledge.markdown import plain_text
from portal.knowledge.models import (
    Article,
    ArticleFeedback,
    ArticleVersion,
    ArticleVote,
    FeedbackState,
    KbCategory,
    VersionState,
    Visibility,
    format_article_number,
)

COUNTER = "kb_article"
TITLE_MAX = 200
SUMMARY_MAX = 500
BODY_MAX = 100_000
COMMENT_MAX = 2_000


def _user_id(actor: Actor) -> int | None:
    return None if is_system(actor) else actor.id


def slugify(title: str) -> str:
    """ "Como acessar o GERID" → "como-acessar-o-gerid" (only for the URL's looks: the
    number finds the article, so a renamed article's old links still work)."""
    words = re.findall(r"[a-z0-9]+", fulltext.fold(title))
    return "-".join(words)[:80].strip("-") or "artigo"


# --- categories ---------------------------------------------------------------------------


def create_category(
    session: DbSession, actor: Actor, name: str, parent_id: int | None = None
) -> KbCategory:
    require(policy.can_manage_categories(actor))
    name = " ".join((name or "").split())
    if not name:
        raise ValidationError("Informe o nome da categoria.", field="name")
    parent = session.get(KbCategory, parent_id) if parent_id else None
    if parent_id and parent is None:
        raise ValidationError("Escolha uma categoria superior da lista.", field="parent_id")
    query = select(KbCategory).where(KbCategory.name == name)
    query = query.where(
        KbCategory.parent_id == parent.id if parent else KbCategory.parent_id.is_(None)
    )
    if session.scalar(query) is not None:
        raise ValidationError(f"Já existe a categoria “{name}” neste nível.", field="name")
    category = KbCategory(name=name, parent=parent)
    session.add(category)
    session.flush()
    audit.record(
        session, actor, "kb_category.create", "kb_category", category.id, after={"name": name}
    )
    return category


def rename_category(session: DbSession, actor: Actor, category_id: int, name: str) -> KbCategory:
    require(policy.can_manage_categories(actor))
    category = session.get(KbCategory, category_id)
    if category is None:
        raise NotFound()
    name = " ".join((name or "").split())
    if not name:
        raise ValidationError("Informe o nome da categoria.", field="name")
    before = category.name
    category.name = name
    session.flush()
    audit.record(
        session,
        actor,
        "kb_category.rename",
        "kb_category",
        category.id,
        before={"name": before},
        after={"name": name},
    )
    return category


def ensure_category_path(session: DbSession, actor: Actor, names: list[str]) -> KbCategory:
    """The category at the end of this path of names, creating what is missing (demo data)."""
    parent: KbCategory | None = None
    for name in names:
        query = select(KbCategory).where(KbCategory.name == name)
        query = query.where(
            KbCategory.parent_id == parent.id if parent else KbCategory.parent_id.is_(None)
        )
        found = session.scalar(query)
        parent = found or create_category(session, actor, name, parent.id if parent else None)
    assert parent is not None
    return parent


# --- drafts -------------------------------------------------------------------------------


@dataclass
class ArticleInput:
    """What the article form sends, before it is checked."""

    title: str = ""
    summary: str = ""
    body: str = ""
    keywords: str = ""
    category_id: int | None = None
    visibility: str = Visibility.PUBLIC.value
    owner_group_id: int | None = None
    item_ids: list[int] = field(default_factory=list)


def _checked(session: DbSession, data: ArticleInput) -> dict[str, Any]:
    errors: list[ValidationError] = []
    title = " ".join(data.title.split())
    if not title:
        errors.append(ValidationError("Informe o título do artigo.", field="title"))
    elif len(title) > TITLE_MAX:
        errors.append(
            ValidationError(f"O título tem no máximo {TITLE_MAX} caracteres.", field="title")
        )
    summary = " ".join(data.summary.split())
    if len(summary) > SUMMARY_MAX:
        errors.append(
            ValidationError(f"O resumo tem no máximo {SUMMARY_MAX} caracteres.", field="summary")
        )
    if not data.body.strip():
        errors.append(ValidationError("Escreva o conteúdo do artigo.", field="body"))
    elif len(data.body) > BODY_MAX:
        errors.append(ValidationError("O conteúdo é longo demais.", field="body"))
    if data.category_id is None or session.get(KbCategory, data.category_id) is None:
        errors.append(ValidationError("Escolha a categoria do artigo.", field="category_id"))
    if data.visibility not in {v.value for v in Visibility}:
        errors.append(ValidationError("Escolha Público ou Interno.", field="visibility"))
    from portal.accounts.models import SupportGroup

    if data.owner_group_id is None or session.get(SupportGroup, data.owner_group_id) is None:
        errors.append(
            ValidationError("Escolha o grupo responsável pelo artigo.", field="owner_group_id")
        )
    item_ids = sorted(set(data.item_ids))
    if item_ids:
        found = set(session.scalars(select(CatalogItem.id).where(CatalogItem.id.in_(item_ids))))
        if found != set(item_ids):
            errors.append(
                ValidationError("Escolha os formulários relacionados da lista.", field="item_ids")
            )
    if errors:
        raise FormErrors(errors)
    return {
        "title": title,
        "summary": summary,
        "body": data.body.replace("\r\n", "\n").strip(),
        "keywords": " ".join(data.keywords.split())[:300],
        "category_id": data.category_id,
        "visibility": Visibility(data.visibility),
        "owner_group_id": data.owner_group_id,
        "item_ids": item_ids,
    }


def _apply(version: ArticleVersion, content: dict[str, Any]) -> None:
    for key, value in content.items():
        setattr(version, key, value)


def _index(session: DbSession, article: Article) -> None:
    """What the search knows of an article: its live text for everyone (internal: staff), or
    its working text for staff while nothing is live."""
    source = article.live_version if article.is_live else article.working_version
    if source is None or (article.archived and not article.is_live):
        fulltext.remove_document(session, "article", article.id)
        return
    if article.is_live:
        label = "Interno" if source.visibility is Visibility.INTERNAL else ""
    else:
        label = source.state.label
    body = " \n".join(p for p in (source.summary, plain_text(source.body), source.keywords) if p)
    fulltext.index_document(
        session,
        "article",
        article.id,
        title=source.title,
        body=body,
        slug=f"{article.number}-{article.slug}",
        category_id=source.category_id,
        restricted=bool(label),
        label=label,
    )


def _copy_to_article(article: Article, version: ArticleVersion) -> None:
    article.title = version.title
    article.summary = version.summary
    article.slug = slugify(version.title)
    article.category_id = version.category_id
    article.visibility = version.visibility
    article.owner_group_id = version.owner_group_id


def create_article(session: DbSession, actor: Actor, data: ArticleInput) -> Article:
    """A new article with its first draft (Rascunho), found by staff only until published."""
    require(policy.can_write(actor))
    begin_write(session)
    content = _checked(session, data)
    now = utcnow()
    article = Article(
        number=format_article_number(next_value(session, COUNTER)),
        title=content["title"],
        author_id=_user_id(actor),
        created_at=now,
        updated_at=now,
    )
    session.add(article)
    session.flush()
    version = ArticleVersion(
        article_id=article.id,
        created_by_id=_user_id(actor),
        updated_by_id=_user_id(actor),
        created_at=now,
        updated_at=now,
    )
    _apply(version, content)
    session.add(version)
    session.flush()
    article.working_version = version
    _copy_to_article(article, version)
    session.flush()
    _index(session, article)
    return article


def get_article(session: DbSession, actor: Actor, article_id: int) -> Article:
    article = session.get(Article, article_id)
    if article is None or (
        not isinstance(actor, SystemActor) and not policy.can_read(actor, article)
    ):
        raise NotFound()
    return article


def save_draft(
    session: DbSession,
    actor: Actor,
    article_id: int,
    data: ArticleInput,
    *,
    based_on: int | None = None,
) -> ArticleVersion:
    """Edit the working draft, or start one from the live version: the live one stays as it
    is until the new version is published. A version in review goes back to Rascunho.

    `based_on` is the working version the editor was showing: if another draft was started
    meanwhile, the edit is refused rather than silently written over it.
    """
    require(policy.can_write(actor))
    begin_write(session)
    article = get_article(session, actor, article_id)
    content = _checked(session, data)
    version = article.working_version
    if version is not None and based_on is not None and version.id != based_on:
        raise Conflict("Outra pessoa começou uma nova versão deste artigo. Recarregue a página.")
    now = utcnow()
    if version is None:
        version = ArticleVersion(
            article_id=article.id, created_by_id=_user_id(actor), created_at=now
        )
        session.add(version)
        article.working_version = version
    elif version.state is VersionState.REVIEW:
        version.state = lifecycle.next_state(version.state, Move.RETURN)
        version.submitted_at = None
    _apply(version, content)
    version.updated_by_id = _user_id(actor)
    version.updated_at = now
    article.updated_at = now
    if not article.is_live:
        _copy_to_article(article, version)
    session.flush()
    _index(session, article)
    return version


def _working(article: Article) -> ArticleVersion:
    if article.working_version is None:
        raise Conflict("Este artigo não tem rascunho em andamento.")
    return article.working_version


def submit_for_review(session: DbSession, actor: Actor, article_id: int) -> ArticleVersion:
    require(policy.can_write(actor))
    begin_write(session)
    article = get_article(session, actor, article_id)
    version = _working(article)
    version.state = lifecycle.next_state(version.state, Move.SUBMIT)
    version.submitted_at = utcnow()
    session.flush()
    _index(session, article)
    return version


def return_to_author(session: DbSession, actor: Actor, article_id: int) -> ArticleVersion:
    begin_write(session)
    article = get_article(session, actor, article_id)
    version = _working(article)
    require(policy.can_review(actor, version))
    version.state = lifecycle.next_state(version.state, Move.RETURN)
    version.submitted_at = None
    session.flush()
    _index(session, article)
    return version


def publish(session: DbSession, actor: Actor, article_id: int) -> ArticleVersion:
    """The version in review goes live and gets its number; the one it replaces is archived."""
    begin_write(session)
    article = get_article(session, actor, article_id)
    version = _working(article)
    if not policy.can_review(actor, version):
        raise Conflict(
            "Quem escreveu esta versão não pode publicá-la: peça a outro atendente do grupo "
            "responsável ou a um administrador."
        )
    version.state = lifecycle.next_state(version.state, Move.PUBLISH)
    now = utcnow()
    previous = article.live_version
    if previous is not None and previous.state is VersionState.PUBLISHED:
        previous.state = lifecycle.next_state(previous.state, Move.SUPERSEDE)
    article.version_count += 1
    version.number = article.version_count
    version.published_at = now
    version.published_by_id = _user_id(actor)
    article.live_version = version
    article.working_version = None
    article.is_live = True
    article.archived = False
    article.published_at = now
    article.updated_at = now
    _copy_to_article(article, version)
    article.items = list(
        session.scalars(select(CatalogItem).where(CatalogItem.id.in_(version.item_ids or [])))
    )
    session.flush()
    _index(session, article)
    audit.record(
        session,
        actor,
        "article.publish",
        "article",
        article.id,
        after={"number": article.number, "version": version.number, "title": version.title},
    )
    return version


def discard_draft(session: DbSession, actor: Actor, article_id: int) -> ArticleVersion:
    """Give up the working version; an article that was never published leaves the base."""
    require(policy.can_write(actor))
    begin_write(session)
    article = get_article(session, actor, article_id)
    version = _working(article)
    version.state = lifecycle.next_state(version.state, Move.DISCARD)
    article.working_version = None
    if not article.is_live:
        article.archived = True
    session.flush()
    _index(session, article)
    return version


def archive(session: DbSession, actor: Actor, article_id: int) -> Article:
    """The live version leaves the base: requesters no longer find or open the article."""
    begin_write(session)
    article = get_article(session, actor, article_id)
    require(policy.can_archive(actor, article))
    live = article.live_version
    if live is None or not article.is_live:
        raise Conflict("Só um artigo publicado pode ser arquivado.")
    live.state = lifecycle.next_state(live.state, Move.ARCHIVE)
    article.is_live = False
    article.archived = True
    article.updated_at = utcnow()
    session.flush()
    _index(session, article)
    audit.record(session, actor, "article.archive", "article", article.id)
    return article


def restore(session: DbSession, actor: Actor, article_id: int, version_id: int) -> ArticleVersion:
    """An old version's content becomes the new draft (the history keeps both)."""
    require(policy.can_write(actor))
    begin_write(session)
    article = get_article(session, actor, article_id)
    old = session.get(ArticleVersion, version_id)
    if old is None or old.article_id != article.id:
        raise NotFound()
    if article.working_version is not None:
        raise Conflict(
            "Já existe um rascunho em andamento. Publique-o ou descarte-o antes de restaurar "
            "outra versão."
        )
    now = utcnow()
    version = ArticleVersion(
        article_id=article.id,
        restored_from_id=old.id,
        created_by_id=_user_id(actor),
        updated_by_id=_user_id(actor),
        created_at=now,
        updated_at=now,
    )
    _apply(version, old.content())
    session.add(version)
    article.working_version = version
    if not article.is_live:
        article.archived = False
        _copy_to_article(article, version)
    session.flush()
    _index(session, article)
    return version


# --- "Este artigo foi útil?" ---------------------------------------------------------------


def vote(
    session: DbSession, actor: Actor, article_id: int, *, helpful: bool, comment: str = ""
) -> ArticleVote:
    """One vote per person and article, which they may change. A "Não" with a text opens a
    review task for the owner group (or updates the person's task still open)."""
    begin_write(session)
    if isinstance(actor, SystemActor):
        raise NotFound()
    article = get_article(session, actor, article_id)
    if not article.is_live:
        raise Conflict("Só é possível avaliar artigos publicados.")
    comment = (comment or "").strip()
    if len(comment) > COMMENT_MAX:
        raise ValidationError(
            f"O comentário tem no máximo {COMMENT_MAX} caracteres.", field="comment"
        )
    now = utcnow()
    existing = session.scalar(
        select(ArticleVote).where(
            ArticleVote.article_id == article.id, ArticleVote.user_id == actor.id
        )
    )
    if existing is None:
        existing = ArticleVote(article_id=article.id, user_id=actor.id, created_at=now)
        session.add(existing)
    else:
        if existing.helpful:
            article.helpful_yes -= 1
        else:
            article.helpful_no -= 1
    existing.helpful = helpful
    existing.comment = comment
    existing.updated_at = now
    if helpful:
        article.helpful_yes += 1
    else:
        article.helpful_no += 1
    if not helpful and comment:
        _open_feedback(session, article, actor.id, comment)
    session.flush()
    return existing


def _open_feedback(session: DbSession, article: Article, user_id: int, text: str) -> None:
    task = session.scalar(
        select(ArticleFeedback).where(
            ArticleFeedback.article_id == article.id,
            ArticleFeedback.user_id == user_id,
            ArticleFeedback.state == FeedbackState.OPEN,
        )
    )
    if task is None:
        session.add(
            ArticleFeedback(
                article_id=article.id,
                user_id=user_id,
                owner_group_id=article.owner_group_id,
                text=text,
            )
        )
    else:
        task.text = text


def handle_feedback(
    session: DbSession, actor: Actor, feedback_id: int, *, resolution: str, reply: str = ""
) -> ArticleFeedback:
    """Resolvido (with a reply the person reads on the article, and an e-mail that tells
    them) or Descartado."""
    begin_write(session)
    task = session.get(ArticleFeedback, feedback_id)
    if task is None or not policy.can_handle_feedback(actor, task):
        raise NotFound()
    if task.state is not FeedbackState.OPEN:
        raise Conflict("Este feedback já foi tratado por outra pessoa.")
    reply = (reply or "").strip()
    if resolution == FeedbackState.RESOLVED.value:
        if not reply:
            raise ValidationError("Escreva a resposta para quem enviou o feedback.", field="reply")
        task.state = FeedbackState.RESOLVED
    elif resolution == FeedbackState.DISCARDED.value:
        task.state = FeedbackState.DISCARDED
    else:
        raise ValidationError("Escolha Resolvido ou Descartado.", field="resolution")
    task.reply = reply[:COMMENT_MAX]
    task.handled_by_id = _user_id(actor)
    task.handled_at = utcnow()
    session.flush()
    if task.state is FeedbackState.RESOLVED:
        from portal.knowledge import notifications

        notifications.feedback_resolved(session, task)
    return task


# --- article files --------------------------------------------------------------------------

ARTICLE_FILES = "article"  # Attachment.owner_type of an article's files (owner_id: article id)


def attach_article_files(
    session: DbSession, actor: Actor, article_id: int, uploads: list[PendingUpload]
) -> list[Attachment]:
    """Files staged by the editor become the article's (images and documents the body links
    to); they belong to the article, not to one version."""
    require(policy.can_write(actor))
    begin_write(session)
    article = get_article(session, actor, article_id)
    if not uploads:
        raise ValidationError("Escolha ao menos um arquivo.", field="attachments")
    attached = files.attach(session, ARTICLE_FILES, article.id, uploads)
    audit.record(
        session,
        actor,
        "article.attach",
        "article",
        article.id,
        after={"files": [a.original_name for a in attached]},
    )
    return attached


def create_article_with_files(
    session: DbSession, actor: Actor, data: ArticleInput, uploads: list[PendingUpload]
) -> Article:
    """Novo artigo: the article with its first draft, and the files chosen on the form."""
    article = create_article(session, actor, data)
    if uploads:
        files.attach(session, ARTICLE_FILES, article.id, uploads)
    return article
