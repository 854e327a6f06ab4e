"""Every HTML e-mail escapes what people typed (issue 20: `|safe` on the message body of the
HTML e-mail went unnoticed, because only one template's escaping was tested).

Each template is rendered with a context where every value, at any depth, is markup: a
`|safe` (or `Markup(...)`) anywhere in any template lets a tag through and fails here. The
message e-mail is also checked end to end, from a message posted on a request to the HTML
part the SMTP server receives.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from portal.core.config import ROOT_DIR
from portal.core.extensions import db
from portal.core.outbox import _email_environment, deliver_pending
from portal.requests import services as request_service

TAG = '<img src=x onerror="alert(1)">'
TEMPLATES = sorted(
    str(path.relative_to(ROOT_DIR / "templates")).removesuffix(".html")
    for path in (ROOT_DIR / "templates").glob("*/email/*.html")
)


class Poison:
    """Any attribute, item, call or iteration of it is again markup-bearing poison."""

    def __getattr__(self, name: str) -> Poison:
        if name.startswith("__"):
            raise AttributeError(name)
        return Poison()

    def __getitem__(self, key: object) -> Poison:
        return Poison()

    def __call__(self, *args: Any, **kwargs: Any) -> Poison:
        return Poison()

    def __iter__(self) -> Iterator[Poison]:
        return iter([Poison()])

    def __len__(self) -> int:
        return 1

    def __bool__(self) -> bool:
        return True

    def __str__(self) -> str:
        return TAG

    def __int__(self) -> int:
        return 1

    def __lt__(self, other: object) -> bool:
        return False

    def __gt__(self, other: object) -> bool:
        return False


class PoisonContext(dict[str, Any]):
    def __missing__(self, key: str) -> Poison:
        return Poison()


def test_every_html_template_is_found() -> None:
    assert "requests/email/message_added" in TEMPLATES
    assert len(TEMPLATES) >= 10


@pytest.mark.parametrize("template", TEMPLATES)
def test_html_email_escapes_every_value(app: Flask, template: str) -> None:
    env = _email_environment()
    context = PoisonContext()
    for name in _undeclared(env, template):
        context[name] = Poison()
    html = env.get_template(f"{template}.html").render(context)
    assert "&lt;img" in html, "the template printed no value: the check would prove nothing"
    assert "<img" not in html


def _undeclared(env: Any, template: str) -> set[str]:
    from jinja2 import meta

    found: set[str] = set()
    pending = [f"{template}.html"]
    while pending:
        name = pending.pop()
        source = env.loader.get_source(env, name)[0]
        tree = env.parse(source)
        found |= meta.find_undeclared_variables(tree)
        pending += [t for t in meta.find_referenced_templates(tree) if t]
    return found


def test_a_message_with_markup_arrives_escaped(
    app: Flask, make_user, make_request, smtp_server
) -> None:
    opener = make_user("Rita Alves")
    agent = make_user("Ana Atendente", role="agent", groups=["Suporte GERID"])
    request = make_request(opener)
    request_service.add_message(db.session, request, agent, f"Veja {TAG}", [])
    db.session.commit()
    deliver_pending(db.session)
    bodies = [m.get_body(preferencelist=("html",)).get_content() for m in smtp_server.messages]
    mentioning = [b for b in bodies if "Veja" in b]
    assert mentioning, "the requester should have been told of the public note"
    for body in mentioning:
        assert "<img" not in body and "&lt;img" in body
