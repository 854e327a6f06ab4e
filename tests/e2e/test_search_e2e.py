"""Articles while typing: the request form suggests them beside Descrição (new tab, what was
typed stays), and an agent inserts an article's link into a message or a solution."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from portal.accounts.services import find_or_create_group
from portal.core.extensions import db
from portal.knowledge import services as kb
from portal.knowledge import tallies
from portal.knowledge.models import Article
from tests.conftest import SETUP
from tests.e2e.conftest import screenshot
from tests.e2e.test_login_e2e import sign_in

TYPED = "Não consigo fazer o primeiro acesso, a senha não chega"


def _published(title: str, summary: str, body: str, visibility: str = "public") -> Article:
    group = find_or_create_group(db.session, SETUP, "Suporte GERID")
    category = kb.ensure_category_path(db.session, SETUP, ["Acesso e senhas"])
    article = kb.create_article(
        db.session,
        SETUP,
        kb.ArticleInput(
            title=title,
            summary=summary,
            body=body,
            category_id=category.id,
            visibility=visibility,
            owner_group_id=group.id,
        ),
    )
    kb.submit_for_review(db.session, SETUP, article.id)
    kb.publish(db.session, SETUP, article.id)
    db.session.commit()
    return article


def _articles() -> Article:
    found = _published(
        "Como obter o primeiro acesso ao GERID",
        "Crie a sua senha pelo primeiro acesso.",
        "Abra a página de troca de senha e escolha Primeiro acesso.",
    )
    _published("Desbloqueio de usuário no GERID", "Roteiro interno.", "Acesso.", "internal")
    return found


def test_articles_appear_while_typing_the_description(page: Page, make_user, catalog) -> None:
    article = _articles()
    tallies._take()  # this process's buffer: only what this test counts
    felipe = make_user(name="Felipe Rodrigues")
    sign_in(page, felipe.cpf)
    page.goto("/catalogo/gerid")
    region = page.locator("#kb-suggestions")
    expect(region).to_be_hidden()  # empty until something is typed

    page.get_by_label("Descrição").press_sequentially(TYPED)
    link = region.get_by_role("link", name=re.compile("Como obter o primeiro acesso ao GERID"))
    expect(link).to_be_visible()
    expect(region.get_by_role("heading", name="Artigos que podem ajudar")).to_be_visible()
    expect(region).to_contain_text("Crie a sua senha pelo primeiro acesso.")
    expect(region).not_to_contain_text("Desbloqueio")  # internal: never suggested
    expect(link).to_have_attribute("target", "_blank")
    expect(link).to_contain_text("(abre em nova aba)")
    assert region.get_attribute("aria-live") == "polite"
    screenshot(page, "suggestions")

    with page.context.expect_page() as opened:
        link.click()
    article_page = opened.value
    article_page.wait_for_load_state()
    assert f"/base-de-conhecimento/{article.number}-" in article_page.url
    assert "de=gerid" in article_page.url
    article_page.wait_for_load_state("networkidle")  # closing mid-load leaves files open
    article_page.close()
    expect(page.get_by_label("Descrição")).to_have_value(TYPED)  # what was typed stays
    gerid = catalog["gerid"].id
    assert tallies._pending[("catalog_item", gerid, "suggestions_shown")] >= 1

    page.get_by_label("Descrição").fill("ok")  # fewer than three letters: nothing suggested
    expect(region).to_be_hidden()
    assert page.problems == []  # type: ignore[attr-defined]


def test_an_agent_inserts_an_article_link_into_a_message_and_a_solution(
    page: Page, make_user, make_request
) -> None:
    article = _articles()
    felipe = make_user(name="Felipe Rodrigues")
    request = make_request(felipe, description="Sem acesso.")
    ana = make_user(name="Ana Atendente", role="agent", groups=["Suporte GERID"])
    sign_in(page, ana.cpf)
    page.goto(f"/solicitacoes/{request.number}")
    page.get_by_role("button", name="Iniciar atendimento").click()
    expected = re.escape(
        "Como obter o primeiro acesso ao GERID: "
        f"http://portal.test/base-de-conhecimento/{article.number}-"
    )

    message = page.locator("#body")
    message.fill("Veja o artigo")
    message.focus()
    box = page.get_by_role("region", name="Inserir artigo")
    box.get_by_label("Pesquisar artigo").fill("primeiro acesso")
    insert = box.get_by_role("button", name=re.compile("Inserir link: Como obter"))
    expect(insert).to_be_visible()
    expect(box.get_by_role("button", name=re.compile("Desbloqueio"))).to_have_count(0)
    insert.click()
    expect(message).to_have_value(re.compile(r"^Veja o artigo " + expected))
    expect(box.get_by_role("status")).to_contain_text("Mensagem")

    page.get_by_text("Resolver", exact=True).click()
    solution = page.get_by_label("Solução")
    solution.focus()
    insert.click()
    expect(solution).to_have_value(re.compile("^" + expected))
    expect(message).to_have_value(re.compile(r"^Veja o artigo " + expected + r"[^ ]+$"))
    page.get_by_role("button", name="OK").click()
    expect(page.locator(".timeline")).to_contain_text("Como obter o primeiro acesso ao GERID:")
    assert page.problems == []  # type: ignore[attr-defined]
