"""The staff side of the Base de Conhecimento, through its pages: writing, review and
publication, the editor and the live version, history with diff and restore, the new-article
form that keeps what was typed, the draft from a resolved request, feedback tasks, categories,
deflection, and who may reach any of it."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from portal.core.actors import SystemActor
from portal.core.extensions import db
from portal.core.models import Attachment, OutboxEmail, PendingUpload
from portal.knowledge import services, tallies
from portal.knowledge.diff import Change, line_diff, version_diff
from portal.knowledge.models import (
    Article,
    ArticleFeedback,
    FeedbackState,
    KbCategory,
    VersionState,
)
from portal.models import CatalogItem, ServiceRequest, SupportGroup, User
from portal.requests import services as request_service
from portal.requests.lifecycle import Action
from tests.conftest import AuthActions
from tests.files import png_bytes

SETUP = SystemActor("testes")
ROOT = "/base-de-conhecimento"
GERID = "Suporte GERID"
SCRIPT = "<script>alert(1)</script>"


@dataclass
class Team:
    ana: User  # agent, Suporte GERID (writes)
    beto: User  # agent, Suporte GERID (reviews)
    caio: User  # agent, Suporte CadÚnico (another group)
    maria: User  # requester
    category: KbCategory


@pytest.fixture
def team(make_user: Callable[..., User], catalog: dict[str, CatalogItem]) -> Team:
    category = services.create_category(db.session, SETUP, "Acesso")
    db.session.commit()
    return Team(
        ana=make_user("Ana Atendente", role="agent", groups=[GERID]),
        beto=make_user("Beto Revisor", role="agent", groups=[GERID]),
        caio=make_user("Caio Cadastro", role="agent", groups=["Suporte CadÚnico"]),
        maria=make_user("Maria Solicitante"),
        category=category,
    )


def _group_id(user: User) -> int:
    return db.session.get(User, user.id).groups[0].id  # type: ignore[union-attr]


def _form(team: Team, **overrides: Any) -> dict[str, Any]:
    data = {
        "title": "Como acessar o GERID",
        "summary": "Primeiro acesso ao GERID.",
        "body": "## Passos\n\nAbra o GERID.\nInforme o CPF.\nDefina a senha.",
        "keywords": "gerid senha acesso",
        "category_id": str(team.category.id),
        "visibility": "public",
        "owner_group_id": str(_group_id(team.ana)),
    }
    data.update(overrides)
    return data


def _article(number: str = "KB0000001") -> Article:
    db.session.expire_all()
    found = db.session.scalar(select(Article).where(Article.number == number))
    assert found is not None
    return found


def _create(auth: AuthActions, team: Team, **overrides: Any) -> str:
    response = auth.post(f"{ROOT}/novo", _form(team, **overrides))
    assert response.status_code == 302, response.get_data(as_text=True)
    match = re.search(r"/(KB\d{7})/editar$", response.headers["Location"])
    assert match
    return match.group(1)


def _move(auth: AuthActions, number: str, move: str) -> str:
    response = auth.post(f"{ROOT}/{number}/acao", {"move": move}, page=f"{ROOT}/{number}/editar")
    assert response.status_code == 302
    return auth.client.get(response.headers["Location"]).get_data(as_text=True)


def _published(auth: AuthActions, team: Team) -> str:
    """KB0000001 written by Ana, published by Beto; Ana signed in at the end."""
    auth.login(team.ana)
    number = _create(auth, team)
    _move(auth, number, "submit")
    auth.logout()
    auth.login(team.beto)
    _move(auth, number, "publish")
    auth.logout()
    auth.login(team.ana)
    return number


def _buttons(html: str) -> list[str]:
    return re.findall(r'name="move" value="(\w+)"', html)


# ------------------------------------------------------------------ who may reach the pages


GET_PAGES = [
    "/novo",
    "/novo?solicitacao={request}",
    "/{number}/editar",
    "/{number}/historico",
    "/artigos",
    "/feedback",
    "/categorias",
    "/deflexao",
]
POSTS = [
    ("/novo", {"title": "x"}),
    ("/{number}/editar", {"title": "x"}),
    ("/{number}/acao", {"move": "archive"}),
    ("/{number}/arquivos", {}),
    ("/{number}/restaurar", {"version_id": "1"}),
    ("/feedback/{feedback}", {"resolution": "discarded"}),
    ("/categorias", {"name": "Nova"}),
    ("/categorias/{category}", {"name": "Outro nome"}),
]


@pytest.fixture
def world(team: Team, make_request: Callable[..., ServiceRequest]) -> dict[str, Any]:
    """A published article with an open feedback task, and a request of Maria's."""
    article = services.create_article(
        db.session,
        SETUP,
        services.ArticleInput(
            title="Artigo",
            body="Texto.",
            category_id=team.category.id,
            owner_group_id=_group_id(team.ana),
        ),
    )
    services.submit_for_review(db.session, SETUP, article.id)
    services.publish(db.session, SETUP, article.id)
    db.session.commit()
    maria = db.session.get(User, team.maria.id)
    services.vote(db.session, maria, article.id, helpful=False, comment="Faltou o passo 2.")
    db.session.commit()
    feedback = db.session.scalar(select(ArticleFeedback.id))
    req = make_request(team.maria)
    return {
        "number": article.number,
        "feedback": feedback,
        "category": team.category.id,
        "request": req.number,
    }


@pytest.mark.parametrize("path", GET_PAGES)
def test_every_staff_page_is_404_for_a_requester(
    client: FlaskClient, auth: AuthActions, team: Team, world: dict[str, Any], path: str
) -> None:
    auth.login(team.maria)
    assert client.get(ROOT + path.format(**world)).status_code == 404
    auth.logout()
    auth.login(team.ana)
    assert client.get(ROOT + path.format(**world)).status_code == 200


@pytest.mark.parametrize(("path", "data"), POSTS)
def test_every_staff_post_is_404_for_a_requester(
    auth: AuthActions, team: Team, world: dict[str, Any], path: str, data: dict[str, str]
) -> None:
    auth.login(team.maria)
    response = auth.post(ROOT + path.format(**world), data, page="/perfil")
    assert response.status_code == 404
    db.session.expire_all()
    assert db.session.scalar(select(KbCategory.name).where(KbCategory.id == team.category.id)) == (
        "Acesso"
    )
    assert db.session.get(ArticleFeedback, world["feedback"]).state is FeedbackState.OPEN  # type: ignore[union-attr]
    assert _article(world["number"]).is_live


def test_every_post_without_csrf_is_refused(
    app: Flask, client: FlaskClient, auth: AuthActions, team: Team, world: dict[str, Any]
) -> None:
    app.config["WTF_CSRF_ENABLED"] = True
    auth.login(team.ana)
    rules = [
        rule
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("knowledge_staff.") and "POST" in (rule.methods or set())
    ]
    assert len(rules) == len(POSTS)
    ids = {
        "number": world["number"],
        "feedback": world["feedback"],
        "category_id": world["category"],
        "feedback_id": world["feedback"],
    }
    for rule in rules:
        path = rule.rule
        for name in rule.arguments:
            path = path.replace(f"<{name}>", str(ids[name])).replace(
                f"<int:{name}>", str(ids[name])
            )
        response = client.post(path, data={"name": "x", "move": "archive", "resolution": "x"})
        assert response.status_code == 400, path
        assert "Sua sessão de formulário expirou" in response.get_data(as_text=True), path
    assert _article(world["number"]).is_live
    assert db.session.scalar(select(KbCategory.name)) == "Acesso"


# ------------------------------------------------------------------ draft → review → publish


def test_draft_review_publish_through_the_pages(
    client: FlaskClient, auth: AuthActions, team: Team
) -> None:
    auth.login(team.ana)
    number = _create(auth, team)
    page = client.get(f"{ROOT}/{number}/editar").get_data(as_text=True)
    assert "Artigo KB0000001 criado como rascunho." in page
    assert _buttons(page) == ["submit", "discard"]
    assert "Outro atendente do grupo responsável ou um administrador publica esta versão" in page

    page = _move(auth, number, "submit")
    assert "Versão enviada para revisão." in page
    assert _buttons(page) == ["discard"]  # the author cannot publish nor return it
    forced = _move(auth, number, "publish")  # not offered, and refused if sent anyway
    assert "Quem escreveu esta versão não pode publicá-la" in forced
    assert not _article(number).is_live
    auth.logout()

    auth.login(team.caio)  # another group's agent does not review it either
    assert _buttons(client.get(f"{ROOT}/{number}/editar").get_data(as_text=True)) == ["discard"]
    auth.logout()

    auth.login(team.beto)
    page = client.get(f"{ROOT}/{number}/editar").get_data(as_text=True)
    assert _buttons(page) == ["return", "publish", "discard"]
    page = _move(auth, number, "publish")
    assert "Versão 1 publicada." in page
    assert "archive" in _buttons(page)
    article = _article(number)
    assert article.is_live and article.version_count == 1
    assert article.live_version.published_by_id == team.beto.id  # type: ignore[union-attr]
    assert article.live_version.created_by_id == team.ana.id  # type: ignore[union-attr]


def test_editing_a_published_article_leaves_the_live_version_readable(
    client: FlaskClient, auth: AuthActions, team: Team
) -> None:
    number = _published(auth, team)
    editor = client.get(f"{ROOT}/{number}/editar").get_data(as_text=True)
    assert 'name="based_on" value="0"' in editor
    response = auth.post(
        f"{ROOT}/{number}/editar",
        _form(team, title="Como acessar o GERID (novo)", body="Texto novo.", based_on="0"),
    )
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Rascunho salvo." in page
    assert "Texto novo." in page
    assert "a <strong>Versão 1</strong> continua publicada" not in page  # a draft is under way

    article = _article(number)
    assert article.is_live and article.title == "Como acessar o GERID"
    assert article.working_version.state is VersionState.DRAFT  # type: ignore[union-attr]
    staff_view = client.get(f"{ROOT}/{number}", follow_redirects=True).get_data(as_text=True)
    assert f'href="{ROOT}/{number}/editar"' in staff_view  # the staff tools on the article
    assert f'href="{ROOT}/{number}/historico"' in staff_view
    auth.logout()
    auth.login(team.maria)
    reader = client.get(f"{ROOT}/{number}", follow_redirects=True)
    assert reader.status_code == 200
    text = reader.get_data(as_text=True)
    assert "Informe o CPF." in text and "Texto novo." not in text
    assert "/editar" not in text and "Feedback de artigos" not in text


def test_a_draft_started_meanwhile_is_not_written_over(
    client: FlaskClient, auth: AuthActions, team: Team
) -> None:
    number = _published(auth, team)
    # The editor showed the live version (based_on=0) while someone else started a draft.
    beto = db.session.get(User, team.beto.id)
    assert beto is not None
    services.save_draft(
        db.session,
        beto,
        _article(number).id,
        services.ArticleInput(
            title="Como acessar o GERID",
            body="Rascunho do Beto.",
            category_id=team.category.id,
            owner_group_id=_group_id(team.ana),
        ),
    )
    db.session.commit()
    response = auth.post(f"{ROOT}/{number}/editar", _form(team, body="Meu texto.", based_on="0"))
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "Outra pessoa começou uma nova versão" in page
    assert "Meu texto." in page  # what was typed is still there
    assert _article(number).working_version.body == "Rascunho do Beto."  # type: ignore[union-attr]


def test_editor_lists_files_with_their_markdown_and_adds_more(
    client: FlaskClient, auth: AuthActions, team: Team
) -> None:
    auth.login(team.ana)
    number = _create(auth, team)
    response = auth.post(
        f"{ROOT}/{number}/arquivos",
        {"attachments": [(io.BytesIO(png_bytes()), "tela [1].png")]},
        page=f"{ROOT}/{number}/editar",
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    attachment = db.session.scalar(select(Attachment).where(Attachment.owner_type == "article"))
    assert attachment is not None and attachment.owner_id == _article(number).id
    page = client.get(f"{ROOT}/{number}/editar").get_data(as_text=True)
    url = f"{ROOT}/{number}/arquivos/{attachment.id}"
    assert f'value="![tela \\[1\\].png]({url})"' in page

    refused = auth.post(
        f"{ROOT}/{number}/arquivos",
        {"attachments": [(io.BytesIO(b"<svg onload=alert(1)>"), "x.svg")]},
        page=f"{ROOT}/{number}/editar",
        content_type="multipart/form-data",
    )
    assert refused.status_code == 400
    assert 'id="attachments-error"' in refused.get_data(as_text=True)
    assert db.session.scalar(select(Attachment.id).where(Attachment.id != attachment.id)) is None


# ------------------------------------------------------------------ history, diff, restore


def test_history_lists_versions_and_diffs_them_escaped(
    client: FlaskClient, auth: AuthActions, team: Team
) -> None:
    number = _published(auth, team)
    auth.post(
        f"{ROOT}/{number}/editar",
        _form(team, body=f"## Passos\n\nAbra o GERID.\n{SCRIPT}\nDefina a senha.", based_on="0"),
    )
    article = _article(number)
    live_id, draft_id = article.live_version_id, article.working_version_id
    page = client.get(f"{ROOT}/{number}/historico").get_data(as_text=True)
    assert "Versão 1" in page and "Rascunho" in page
    assert "Ana Atendente" in page and "Beto Revisor" in page  # who created, who published

    page = client.get(f"{ROOT}/{number}/historico?a={live_id}&b={draft_id}").get_data(as_text=True)
    assert SCRIPT not in page
    added = re.search(r'<li class="diff-line added">(.*?)</li>', page, re.S)
    removed = re.search(r'<li class="diff-line removed">(.*?)</li>', page, re.S)
    assert added and removed
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in added.group(1)
    assert "adicionada" in added.group(1) and ">+<" in added.group(1)
    assert "Informe o CPF." in removed.group(1)
    assert "removida" in removed.group(1) and ">−<" in removed.group(1)


def test_restore_makes_an_old_version_the_new_draft(
    client: FlaskClient, auth: AuthActions, team: Team
) -> None:
    number = _published(auth, team)
    first = _article(number).live_version_id
    # Version 2 goes live (written by Ana, published by Beto).
    auth.post(f"{ROOT}/{number}/editar", _form(team, body="Segunda versão.", based_on="0"))
    _move(auth, number, "submit")
    auth.logout()
    auth.login(team.beto)
    _move(auth, number, "publish")
    assert _article(number).version_count == 2

    response = auth.post(
        f"{ROOT}/{number}/restaurar", {"version_id": str(first)}, page=f"{ROOT}/{number}/historico"
    )
    assert response.status_code == 302 and response.headers["Location"].endswith("/editar")
    article = _article(number)
    draft = article.working_version
    assert draft is not None and draft.state is VersionState.DRAFT
    assert draft.restored_from_id == first and "Informe o CPF." in draft.body
    assert article.live_version.number == 2  # type: ignore[union-attr]
    page = client.get(f"{ROOT}/{number}/historico").get_data(as_text=True)
    assert "Restaurada da versão 1" in page
    assert 'name="version_id"' not in page  # no second restore while the draft is under way


# ------------------------------------------------------------------ Novo artigo


def test_a_failed_new_article_form_keeps_what_was_typed_and_the_files(
    client: FlaskClient, auth: AuthActions, team: Team
) -> None:
    auth.login(team.ana)
    data = _form(team, title="", body="Corpo <b>digitado</b>", keywords="palavra-chave-única")
    data["attachments"] = [(io.BytesIO(png_bytes()), "print.png")]
    response = auth.post(f"{ROOT}/novo", data, content_type="multipart/form-data")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'id="title-error"' in page and 'aria-describedby="title-error"' in page
    assert "Corpo &lt;b&gt;digitado&lt;/b&gt;" in page
    assert 'value="palavra-chave-única"' in page
    assert f'<option value="{team.category.id}" selected>' in page
    token = re.search(r'name="upload_tokens" value="([0-9a-f]{32})"', page)
    assert token and "print.png" in page
    assert db.session.scalar(select(PendingUpload.original_name)) == "print.png"

    # The second try sends only the token: the file comes along.
    response = auth.post(
        f"{ROOT}/novo", _form(team, upload_tokens=token.group(1)), page=f"{ROOT}/novo"
    )
    assert response.status_code == 302
    article = _article("KB0000001")
    names = db.session.scalars(
        select(Attachment.original_name).where(
            Attachment.owner_type == "article", Attachment.owner_id == article.id
        )
    ).all()
    assert names == ["print.png"]
    assert db.session.scalar(select(PendingUpload.id)) is None


def test_new_article_defaults_to_the_authors_group(
    client: FlaskClient, auth: AuthActions, team: Team
) -> None:
    auth.login(team.caio)
    page = client.get(f"{ROOT}/novo").get_data(as_text=True)
    group_id = _group_id(team.caio)
    assert f'<option value="{group_id}" selected>Suporte CadÚnico</option>' in page
    assert "Use Markdown: **negrito**, listas, links, imagens" in page


def test_a_resolved_request_prefills_a_draft(
    client: FlaskClient,
    auth: AuthActions,
    team: Team,
    make_request: Callable[..., ServiceRequest],
    catalog: dict[str, CatalogItem],
) -> None:
    req = make_request(
        team.maria, description="Não consigo entrar no GERID\nAparece 'senha inválida'."
    )
    ana = db.session.get(User, team.ana.id)
    number = req.number
    auth.login(team.ana)
    before = client.get(f"/solicitacoes/{number}").get_data(as_text=True)
    assert "Criar artigo a partir desta solicitação" not in before  # not resolved yet
    request_service.fire(db.session, req, Action.START, actor=ana)
    request_service.fire(
        db.session, req, Action.RESOLVE, actor=ana, reason="Senha redefinida <pelo> máster."
    )
    db.session.commit()

    shown = client.get(f"/solicitacoes/{number}").get_data(as_text=True)
    assert f'href="{ROOT}/novo?solicitacao={number}"' in shown
    page = client.get(f"{ROOT}/novo?solicitacao={number}").get_data(as_text=True)
    assert 'value="GERID: Não consigo entrar no GERID"' in page
    assert (
        "## Problema\n\nNão consigo entrar no GERID\nAparece &#39;senha inválida&#39;.\n\n"
        "## Solução\n\nSenha redefinida &lt;pelo&gt; máster." in page
    )
    gerid = catalog["gerid"].id
    assert re.search(rf'id="item-{gerid}" name="item_ids" value="{gerid}" checked', page)
    assert f'name="solicitacao" value="{number}"' in page

    assert client.get(f"{ROOT}/novo?solicitacao=CS9999999").status_code == 404
    auth.logout()
    auth.login(team.maria)  # her own request, but she is no agent
    assert client.get(f"{ROOT}/novo?solicitacao={number}").status_code == 404


# ------------------------------------------------------------------ Feedback de artigos


def _feedback_mail() -> list[OutboxEmail]:
    return list(
        db.session.scalars(select(OutboxEmail).where(OutboxEmail.subject.contains("feedback")))
    )


def test_feedback_resolved_with_a_reply_emails_the_person(
    client: FlaskClient, auth: AuthActions, team: Team, world: dict[str, Any]
) -> None:
    task_id = world["feedback"]
    auth.login(team.ana)
    page = client.get(f"{ROOT}/feedback").get_data(as_text=True)
    assert "Faltou o passo 2." in page and "Maria Solicitante" in page
    assert "Feedback de artigos (1)" in page  # the menu's count

    empty = auth.post(
        f"{ROOT}/feedback/{task_id}",
        {"resolution": "resolved", "reply": "  "},
        page=f"{ROOT}/feedback",
    )
    assert empty.status_code == 400
    assert f'id="reply-{task_id}-error"' in empty.get_data(as_text=True)
    assert _feedback_mail() == []

    done = auth.post(
        f"{ROOT}/feedback/{task_id}",
        {"resolution": "resolved", "reply": "Incluímos o passo 2."},
        page=f"{ROOT}/feedback",
    )
    assert done.status_code == 302
    db.session.expire_all()
    task = db.session.get(ArticleFeedback, task_id)
    assert task is not None and task.state is FeedbackState.RESOLVED
    assert task.reply == "Incluímos o passo 2." and task.handled_by_id == team.ana.id
    (mail,) = _feedback_mail()
    assert mail.recipient == team.maria.email
    assert "Incluímos o passo 2." in mail.body_text
    assert f"http://portal.test{ROOT}/{world['number']}-artigo" in mail.body_text
    assert "Feedback de artigos (0)" in client.get(f"{ROOT}/feedback").get_data(as_text=True)
    resolved = client.get(f"{ROOT}/feedback?estado=resolvidos").get_data(as_text=True)
    assert "Incluímos o passo 2." in resolved


def test_an_agent_of_another_group_neither_sees_nor_handles_the_task(
    client: FlaskClient, auth: AuthActions, team: Team, world: dict[str, Any]
) -> None:
    auth.login(team.caio)
    page = client.get(f"{ROOT}/feedback").get_data(as_text=True)
    assert "Faltou o passo 2." not in page and "Feedback de artigos (0)" in page
    response = auth.post(
        f"{ROOT}/feedback/{world['feedback']}",
        {"resolution": "discarded"},
        page=f"{ROOT}/feedback",
    )
    assert response.status_code == 404
    db.session.expire_all()
    assert db.session.get(ArticleFeedback, world["feedback"]).state is FeedbackState.OPEN  # type: ignore[union-attr]


# ------------------------------------------------------------------ lists, categories, deflection


def test_articles_list_filters_by_state_in_sql_pages(
    client: FlaskClient, auth: AuthActions, team: Team, world: dict[str, Any]
) -> None:
    auth.login(team.ana)
    _create(auth, team, title="Rascunho sobre senhas")
    page = client.get(f"{ROOT}/artigos").get_data(as_text=True)
    assert "Rascunho sobre senhas" in page and ">Artigo<" in page
    drafts = client.get(f"{ROOT}/artigos?estado=rascunhos").get_data(as_text=True)
    assert "Rascunho sobre senhas" in drafts and ">Artigo<" not in drafts
    live = client.get(f"{ROOT}/artigos?estado=publicados").get_data(as_text=True)
    assert "Rascunho sobre senhas" not in live and ">Artigo<" in live
    row = re.search(r"KB0000001</a></td>(.*?)</tr>", live, re.S)
    assert row and re.findall(r"<td>(\d+%?|—)</td>", row.group(1)) == ["0", "1", "0%"]


def test_categories_are_created_and_renamed(
    client: FlaskClient, auth: AuthActions, team: Team
) -> None:
    auth.login(team.ana)
    response = auth.post(
        f"{ROOT}/categorias", {"name": "Senhas", "parent_id": str(team.category.id)}
    )
    assert response.status_code == 302
    child = db.session.scalar(select(KbCategory).where(KbCategory.name == "Senhas"))
    assert child is not None and child.parent_id == team.category.id
    duplicate = auth.post(
        f"{ROOT}/categorias", {"name": "Senhas", "parent_id": str(team.category.id)}
    )
    assert duplicate.status_code == 400
    assert 'id="new-name-error"' in duplicate.get_data(as_text=True)
    assert (
        auth.post(
            f"{ROOT}/categorias/{child.id}", {"name": "Senhas e tokens"}, page=f"{ROOT}/categorias"
        ).status_code
        == 302
    )
    db.session.expire_all()
    assert db.session.get(KbCategory, child.id).name == "Senhas e tokens"  # type: ignore[union-attr]
    page = client.get(f"{ROOT}/novo").get_data(as_text=True)
    assert f'<option value="{child.id}">\u00a0\u00a0\u00a0— Senhas e tokens</option>' in page


def test_deflection_shows_the_three_counts_and_the_rate(
    client: FlaskClient, auth: AuthActions, team: Team, catalog: dict[str, CatalogItem]
) -> None:
    gerid = catalog["gerid"].id
    for metric, total in (
        ("suggestions_shown", 40),
        ("articles_opened", 8),
        ("requests_avoided", 6),
    ):
        for _ in range(total):
            tallies.add_now(db.session, "catalog_item", gerid, metric)
    db.session.commit()
    auth.login(team.ana)
    page = client.get(f"{ROOT}/deflexao").get_data(as_text=True)
    row = re.search(r'<th scope="row">GERID</th>(.*?)</tr>', page, re.S)
    assert row and re.findall(r"<td>([^<]*)</td>", row.group(1)) == ["40", "8", "6", "15%"]


def test_the_diff_folds_long_unchanged_runs() -> None:
    old = "\n".join(f"linha {n}" for n in range(20))
    new = old.replace("linha 10", "linha dez")
    lines = line_diff(old, new)
    changes = [line.change for line in lines]
    assert changes.count(Change.REMOVED) == 1 and changes.count(Change.ADDED) == 1
    assert [line.text for line in lines if line.change is Change.FOLDED] == [
        "4 linhas iguais",
        "3 linhas iguais",
    ]
    assert [
        f.changed for f in version_diff({"title": "A", "body": old}, {"title": "A", "body": new})
    ] == [
        False,
        False,
        False,
        True,
    ]


def test_an_archived_group_leaves_the_owner_picker_but_stays_on_its_articles(
    auth: AuthActions, team: Team
) -> None:
    auth.login(team.ana)
    number = _create(auth, team)
    archived = SupportGroup(name="Suporte Antigo", active=False)
    db.session.add(archived)
    db.session.commit()
    new_form = auth.client.get(f"{ROOT}/novo").get_data(as_text=True)
    assert "Suporte Antigo" not in new_form and "Suporte GERID" in new_form
    # The article names an owner group that is archived afterwards: its form still shows it.
    owner = db.session.get(SupportGroup, _group_id(team.ana))
    owner.active = False
    db.session.commit()
    assert "Suporte GERID" not in auth.client.get(f"{ROOT}/novo").get_data(as_text=True)
    edit_form = auth.client.get(f"{ROOT}/{number}/editar").get_data(as_text=True)
    assert re.search(r'<option value="\d+" selected>Suporte GERID</option>', edit_form)
