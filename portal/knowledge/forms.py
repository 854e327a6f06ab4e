"""The article form (Novo artigo and the editor): what was typed, kept to show it again, as the
services' ArticleInput, with errors by field."""

from __future__ import annotations

from dataclasses import dataclass, field

from werkzeug.datastructures import MultiDict

from portal.core.errors import FormErrors, ServiceError, ValidationError
from portal.core.web import int_or_none
from portal.knowledge.models import ArticleVersion, Visibility
from portal.knowledge.services import ArticleInput


@dataclass
class ArticleForm:
    data: ArticleInput
    upload_tokens: list[str] = field(default_factory=list)
    # The working version the editor showed (0: none, the live one), for save_draft's check.
    based_on: int | None = None
    errors: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def parse(cls, form: MultiDict[str, str]) -> ArticleForm:
        data = ArticleInput(
            title=form.get("title", ""),
            summary=form.get("summary", ""),
            body=form.get("body", ""),
            keywords=form.get("keywords", ""),
            category_id=int_or_none(form.get("category_id")),
            visibility=form.get("visibility", ""),
            owner_group_id=int_or_none(form.get("owner_group_id")),
            item_ids=[i for i in (int_or_none(v) for v in form.getlist("item_ids")) if i],
        )
        return cls(
            data=data,
            upload_tokens=form.getlist("upload_tokens"),
            based_on=int_or_none(form.get("based_on")),
        )

    @classmethod
    def of_version(cls, version: ArticleVersion) -> ArticleForm:
        """The editor's starting point: a version's content as the form shows it."""
        return cls(
            data=ArticleInput(
                title=version.title,
                summary=version.summary,
                body=version.body,
                keywords=version.keywords,
                category_id=version.category_id,
                visibility=version.visibility.value,
                owner_group_id=version.owner_group_id,
                item_ids=list(version.item_ids or []),
            )
        )

    @classmethod
    def blank(cls, owner_group_id: int | None = None) -> ArticleForm:
        return cls(
            data=ArticleInput(visibility=Visibility.PUBLIC.value, owner_group_id=owner_group_id)
        )

    def add_error(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(message)

    def add_service_error(self, error: ServiceError) -> None:
        """A service's refusal, tied to its field when it names one."""
        problems = error.errors if isinstance(error, FormErrors) else [error]
        for problem in problems:
            name = problem.field if isinstance(problem, ValidationError) else None
            self.add_error(name or "form", str(problem))
