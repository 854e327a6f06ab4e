"""The Base de Conhecimento from end to end, in a real browser, as issue 15's "done when" walks
it: an agent writes a draft with an image and another agent publishes it; a requester finds it
from the home search (no accents, another inflection) and votes Não with a text; the owner
group resolves the feedback with a reply the requester reads; the GERID form suggests the
article and "Isto resolveu meu problema" ends the visit without a request, counted."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from portal.core.extensions import db
from portal.knowledge import services as kb
from portal.knowledge import tallies
from portal.knowledge.models import Article, ArticleFeedback, FeedbackState, Tally
from portal.models import ServiceRequest
from tests.conftest import SETUP
from tests.e2e.conftest import screenshot
from tests.e2e.test_login_e2e import sign_in
from tests.e2e.test_tutorial_e2e import sign_out
from tests.files import png_bytes

TITLE = "Como recuperar o acesso ao CadÚnico pelo GERID"
BODY = (
    "Quando o usuário máster perde o acesso ao Cadastro Único:\n\n"
    "1. Abra o GERID e escolha **Esqueci minha senha**.\n"
    "2. Informe o e-mail corporativo e o particular, que devem ser iguais.\n"
)


def _count(model: type, *conditions: object) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(model).where(*conditions)) or 0


def test_an_article_from_draft_to_deflection(page: Page, make_user, catalog, app) -> None:
    app.config["TALLY_FLUSH_SECONDS"] = 0  # write counts after each response
    category_id = kb.ensure_category_path(db.session, SETUP, ["Acesso e senhas", "GERID"]).id
    db.session.commit()
    ana = make_user(name="Ana Paula Atendente", role="agent", groups=["Suporte GERID"])
    bruno = make_user(name="Bruno Souza Atendente", role="agent", groups=["Suporte GERID"])
    felipe = make_user(name="Felipe Rodrigues Andrade")

    # An agent writes a draft with an image.
    sign_in(page, ana.cpf)
    page.goto("/base-de-conhecimento/novo")
    page.get_by_label("Título").fill(TITLE)
    page.get_by_label("Resumo").fill("Passo a passo para o usuário máster voltar a entrar.")
    page.get_by_label("Conteúdo").fill(BODY)
    page.get_by_label("Categoria").select_option(str(category_id))
    page.get_by_label("Grupo responsável").select_option(label="Suporte GERID")
    page.get_by_label("Público").check()
    page.get_by_label("GERID", exact=True).check()
    page.locator("#attachments").set_input_files(
        {"name": "tela-gerid.png", "mimeType": "image/png", "buffer": png_bytes()}
    )
    page.get_by_role("button", name="Salvar rascunho").click()
    snippet = page.get_by_label("Markdown de tela-gerid.png")
    expect(snippet).to_have_value(re.compile(r"^!\[tela-gerid\.png\]\(/base-de-conhecimento/"))
    image_markdown = snippet.input_value()
    page.get_by_label("Conteúdo").fill(BODY + "\n" + image_markdown + "\n")
    page.get_by_role("button", name="Salvar rascunho").click()
    page.get_by_role("button", name="Enviar para revisão").click()
    expect(page.get_by_text("Em revisão").first).to_be_visible()
    # The author cannot publish their own version.
    expect(page.get_by_role("button", name="Publicar")).to_have_count(0)
    db.session.rollback()
    number = db.session.scalar(select(Article.number).where(Article.title == TITLE))
    assert number is not None
    sign_out(page)

    # Another agent of the owner group publishes it.
    sign_in(page, bruno.cpf)
    page.goto(f"/base-de-conhecimento/{number}/editar")
    page.get_by_role("button", name="Publicar").click()
    expect(page.get_by_text("Publicado").first).to_be_visible()
    sign_out(page)

    # A requester finds it from the home search, typing without accents and in another
    # inflection ("cadunico", "acessar"), and the image shows.
    sign_in(page, felipe.cpf)
    page.get_by_label("Pesquisar", exact=True).first.fill("acessar cadunico")
    page.keyboard.press("Enter")
    result = page.get_by_role("link", name=re.compile("Como recuperar o acesso"))
    expect(result).to_be_visible()
    expect(page.locator("mark").filter(has_text="CadÚnico").first).to_be_visible()
    screenshot(page, "kb-search")
    result.click()
    expect(page.get_by_role("heading", name=TITLE, level=1)).to_be_visible()
    expect(page.get_by_text("Versão 1")).to_be_visible()
    image = page.locator("#main-content img[alt='tela-gerid.png']")
    expect(image).to_be_visible()
    assert image.evaluate("(img) => img.complete && img.naturalWidth > 0")
    expect(page.get_by_role("link", name=re.compile("Abrir solicitação"))).to_be_visible()

    # ... and votes Não with a text.
    page.locator("label[for=helpful-nao]").click()  # the gov.br radio draws over its input
    page.get_by_label("O que faltou neste artigo?").fill(
        "Faltou dizer o que fazer se o token não chega."
    )
    page.locator("#avaliacao").get_by_role("button").first.click()
    expect(page.get_by_text(re.compile("Sua avaliação: Não"))).to_be_visible()
    screenshot(page, "kb-article-voted")
    sign_out(page)
    assert _count(ArticleFeedback, ArticleFeedback.state == FeedbackState.OPEN) == 1

    # The owner group sees the task and resolves it with a reply.
    sign_in(page, ana.cpf)
    page.goto("/base-de-conhecimento/feedback")
    task = page.locator("main").get_by_text("Faltou dizer o que fazer se o token não chega.")
    expect(task).to_be_visible()
    page.get_by_label("Resposta").first.fill("Incluímos o passo do reenvio do token.")
    page.get_by_role("button", name="Resolvido").first.click()
    expect(page.get_by_text("Faltou dizer o que fazer")).to_have_count(0)
    sign_out(page)

    # The requester reads the reply on the article.
    sign_in(page, felipe.cpf)
    page.goto(f"/base-de-conhecimento/{number}")
    expect(page.get_by_text("Incluímos o passo do reenvio do token.")).to_be_visible()

    # The GERID form suggests the article while the description is typed; it resolves the
    # problem: no request is created, and the deflection is counted.
    page.goto("/catalogo/gerid")
    page.get_by_label("Descrição").press_sequentially("Não consigo acessar o cadunico")
    suggestion = page.locator("#kb-suggestions").get_by_role(
        "link", name=re.compile("Como recuperar o acesso")
    )
    expect(suggestion).to_be_visible()
    with page.context.expect_page() as opened:
        suggestion.click()
    article_tab = opened.value
    article_tab.get_by_role("button", name="Isto resolveu meu problema").click()
    expect(article_tab.get_by_text(re.compile("Nenhuma solicitação foi aberta"))).to_be_visible()
    screenshot(article_tab, "kb-deflected")
    # Closing a tab whose fonts are still loading aborts their responses, and the test
    # server then leaves the files open (a ResourceWarning): close it once it is quiet.
    article_tab.wait_for_load_state("networkidle")
    article_tab.close()

    assert _count(ServiceRequest) == 0
    gerid = catalog["gerid"].id
    tallies.flush(db.session)  # whatever this process still holds
    counted = dict(
        db.session.execute(
            select(Tally.metric, Tally.total).where(
                Tally.subject_type == "catalog_item", Tally.subject_id == gerid
            )
        ).all()
    )
    assert counted.get("requests_avoided") == 1
    assert counted.get("articles_opened", 0) >= 1
    assert counted.get("suggestions_shown", 0) >= 1
    assert page.problems == []  # type: ignore[attr-defined]
