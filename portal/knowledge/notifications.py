"""E-mails of the Base de Conhecimento, queued in the caller's transaction (the outbox)."""

from __future__ import annotations

from flask import current_app

from portal.core.database import DbSession
from portal.core.outbox import queue_email
from portal.knowledge.models import ArticleFeedback


def article_url(number: str, slug: str) -> str:
    # From configuration, never from the Host header of whoever triggered the email.
    return f"{current_app.config['BASE_URL']}/base-de-conhecimento/{number}-{slug}"


def feedback_resolved(session: DbSession, task: ArticleFeedback) -> int:
    """Tell the person who sent a feedback that it was resolved, with the reply."""
    person = task.user
    article = task.article
    if person is None or not person.active:
        return 0
    return queue_email(
        session,
        to=[person.email],
        subject=f"Seu feedback sobre o artigo {article.number} foi respondido",
        template="knowledge/email/feedback_resolved",
        context={
            "article": article,
            "task": task,
            "link": article_url(article.number, article.slug),
        },
        dedupe_key=f"kb-feedback-resolved:{task.id}",
    )
