"""Every page, in every state a person meets, checked in the browser as requester, agent and
admin: 0 axe-core violations of the WCAG 2.0/2.1/2.2 A and AA rules (and no colour contrast
measured too low among the results axe leaves to review), and no sideways scrolling at 320 px.

The pages come from the demo data (requests in every state, followers, notes, files). A
separate test fails when a GET route of the app is missing from VISITS.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select
from werkzeug.exceptions import HTTPException

from portal.core.cpf import format_cpf
from portal.core.extensions import db
from portal.demo import DEMO_PASSWORD, USERS, load_demo_data
from portal.home.routes import CONTRAST_COOKIE
from portal.models import Article, ArticleVersion, OutboxEmail, ServiceRequest, User
from portal.requests.lifecycle import State
from tests.conftest import enroll_two_factor
from tests.e2e.a11y import axe_problems, horizontal_overflow
from tests.e2e.test_login_e2e import sign_in

# GET routes that are not pages: a file download, the health probe (JSON), static files.
NOT_PAGES = {
    "requests.download",
    "knowledge.download",
    "search.suggestions",  # JSON for static/js/suggestions.js
    "home.healthz",
    "occurrences.export",  # CSV
    "occurrences.client_search",  # JSON for static/js/client-picker.js
    "occurrences.image",  # a file download
    "admin_audit.export",  # CSV
    "static",
    # The REST API answers JSON; its documentation page is Swagger UI, not a portal page, and
    # has its own browser test (axe, 320 px, local files only): tests/e2e/test_api_docs_e2e.py.
    "api-docs.openapi_json",
    "api_docs_page.docs",
    "api_me.me",
    "api_catalog.items",
    "api_catalog.item",
    "api_requests.index",
    "api_queue.queue",
    "api_knowledge.articles",
    "api_knowledge.article",
    "api_knowledge.download",
    "api_knowledge.categories",
    "api_clients.index",
    "api_clients.show",
    "api_clients.occurrences",
    "api_clients.occurrence",
    "api_clients.occurrence_image",
    "api_requests.show",
    "api_requests.request_timeline",
    "api_requests.attachments",
    "api_requests.download",
}
CPF = {u.name.split()[0].lower(): u.cpf for u in USERS}


@dataclass(frozen=True)
class Visit:
    """One page in one state: who looks, where, what they do first, and which route it is."""

    name: str
    endpoint: str
    path: Callable[[dict[str, Any]], str] | str
    who: str | None = None
    prepare: Callable[[Page], None] | None = None
    status: int = 200
    high_contrast: bool = False


def _submit(selector: str = "main form button[type=submit]") -> Callable[[Page], None]:
    return lambda page: page.locator(selector).first.click()


def _open_all(selector: str) -> Callable[[Page], None]:
    def run(page: Page) -> None:
        page.evaluate(
            "(s) => document.querySelectorAll(s).forEach((d) => d.setAttribute('open', ''))",
            selector,
        )

    return run


def _open_menus(page: Page) -> None:
    page.locator("details.nav-menu").first.locator("summary").click()


def _send_too_much(page: Page) -> None:
    """A 3 MB file where the whole request may carry 2 MB: the upload goes in the background
    (with progress), and the 413 page replaces the form."""
    big = {
        "name": "enorme.pdf",
        "mimeType": "application/pdf",
        "buffer": b"%PDF-1.4\n" + b"0" * 3_000_000,
    }
    page.locator("#attachments").set_input_files(big)
    page.locator("#request-form button[type=submit]").click()
    expect(page.get_by_role("heading", name="413")).to_be_visible()


def _create_token(page: Page) -> None:
    """Criar token: the page then shows it once, with its warning, above the list."""
    page.locator("#name").fill("Sistema da prefeitura")
    page.locator("label[for=scopes-2]").click()
    page.locator("#expires_on").fill((date.today() + timedelta(days=30)).strftime("%d/%m/%Y"))
    page.locator("form[action$='/perfil/tokens'] button[type=submit]").click()
    expect(page.locator("#new-token")).to_be_visible()


def _state(world: dict[str, Any], state: State) -> str:
    return f"/solicitacoes/{world['numbers'][state]}"


def _reset_link(world: dict[str, Any]) -> str:
    return world["reset_link"]


KB = "/base-de-conhecimento"


def _kb_category(_world: dict[str, Any]) -> str:
    """The category of KB0000001 (demo data), which has published articles."""
    category_id = db.session.scalar(
        select(Article.category_id).where(Article.number == "KB0000001")
    )
    return f"{KB}/categoria/{category_id}"


def _kb_draft(_world: dict[str, Any]) -> str:
    """A demo article that was never published (staff see it with its notice)."""
    number = db.session.scalar(
        select(Article.number)
        .where(Article.is_live.is_(False), Article.archived.is_(False))
        .order_by(Article.id)
        .limit(1)
    )
    return f"{KB}/{number}"


def _kb_diff(_world: dict[str, Any]) -> str:
    """The history of the demo article with several published versions, comparing its first
    and last versions."""
    number = db.session.scalar(
        select(Article.number).where(Article.version_count > 1).order_by(Article.id).limit(1)
    )
    ids = db.session.scalars(
        select(ArticleVersion.id)
        .join(Article, Article.id == ArticleVersion.article_id)
        .where(Article.number == number)
        .order_by(ArticleVersion.id)
    ).all()
    return f"{KB}/{number}/historico?a={ids[0]}&b={ids[-1]}"


def _kb_from_request(world: dict[str, Any]) -> str:
    return f"{KB}/novo?solicitacao={world['numbers'][State.AWAITING_USER]}"


def _vote_no(page: Page) -> None:
    page.locator("label[for=helpful-nao]").click()  # the design system draws the radio
    page.get_by_label("O que faltou neste artigo?").fill("Faltou dizer onde fica o token.")
    page.get_by_role("button", name="Enviar avaliação").click()


def _search_in_category(_world: dict[str, Any]) -> str:
    """Articles about senha in KB0000001's category: the Categoria filter shown and chosen."""
    category_id = db.session.scalar(
        select(Article.category_id).where(Article.number == "KB0000001")
    )
    return f"/pesquisa?q=senha&tipo=artigo&categoria={category_id}"


def _type_description(page: Page) -> None:
    """Articles suggested beside Descrição (static/js/suggestions.js)."""
    page.get_by_label("Descrição").press_sequentially("Não consigo fazer o primeiro acesso")
    expect(page.locator("#kb-suggestions li").first).to_be_visible()


def _find_article_to_insert(page: Page) -> None:
    page.get_by_label("Pesquisar artigo").fill("senha")
    expect(page.get_by_role("button", name=re.compile("^Inserir link")).first).to_be_visible()


def _new_client_draft(page: Page) -> None:
    """ "Cadastrar cliente" on Cadastros > Cliente: a new draft at its first step."""
    page.get_by_role("button", name="Cadastrar cliente", exact=True).click()
    expect(page.get_by_role("heading", name=re.compile("Tipo e categoria"))).to_be_visible()


def _client_draft_at(step: str) -> Callable[[Page], None]:
    """A new Empresa draft (category Parceiro, reference data of the demo) taken to `step`;
    "erros" stops at the identification step with a wrong CNPJ."""

    def run(page: Page) -> None:
        _new_client_draft(page)
        page.locator("label", has_text="Empresa").first.click()
        page.get_by_label("Categoria do cliente").select_option(label="Parceiro")
        page.get_by_role("button", name="Próximo").click()
        cnpj = "11.222.333/0001-00" if step == "erros" else "12.ABC.345/01DE-35"
        page.get_by_label(re.compile("Identificador")).fill(cnpj)
        page.get_by_label(re.compile("Nome")).fill("Empresa de Teste")
        page.get_by_label(re.compile("UF")).select_option("DF")
        page.get_by_role("button", name="Próximo").click()
        if step in ("erros", "endereco"):
            return
        for label, value in (
            ("CEP", "70040-010"),
            ("Logradouro", "Esplanada dos Ministérios"),
            ("Bairro", "Zona Cívico-Administrativa"),
            ("Cidade", "Brasília"),
        ):
            page.get_by_label(re.compile(label)).fill(value)
        page.get_by_role("button", name="Próximo").click()
        page.get_by_label(re.compile("Nome")).fill("Dora Contato")
        page.get_by_role("button", name="Adicionar contato").click()

    return run


def _first_client_id() -> int:
    from portal.clients.models import Organisation

    org_id = db.session.scalar(
        select(Organisation.id)
        .where(Organisation.client_since.is_not(None))
        .order_by(Organisation.id)
        .limit(1)
    )
    assert org_id is not None
    return int(org_id)


def _a_client(_world: dict[str, Any]) -> str:
    """ "Dados do cliente" of the first demo client."""
    return f"/clientes/{_first_client_id()}/dados"


def _admin_group(name: str, suffix: str = "") -> Callable[[dict[str, Any]], str]:
    """Administração > Grupos: a demo group's page."""

    def path(_world: dict[str, Any]) -> str:
        from portal.accounts.models import SupportGroup

        group_id = db.session.scalar(select(SupportGroup.id).where(SupportGroup.name == name))
        assert group_id is not None
        return f"/admin/grupos/{group_id}{suffix}"

    return path


def _password_step(who: str, code: str | None = None) -> Callable[[Page], None]:
    """Signed out: the password of a user with a second factor (Greziella, enrolled by the
    world fixture), which opens the code page; then, if given, a code typed there."""

    def run(page: Page) -> None:
        page.get_by_label("CPF").fill(format_cpf(CPF[who]))
        page.get_by_label("Senha").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="Entrar").click()
        expect(page).to_have_url(re.compile(r"/login/codigo"))
        if code is not None:
            page.get_by_label("Código de verificação").fill(code)
            page.get_by_role("button", name="Verificar").click()

    return run


def _admin_user(who: str) -> Callable[[dict[str, Any]], str]:
    """Administração > Usuários: a demo user's page."""

    def path(_world: dict[str, Any]) -> str:
        user_id = db.session.scalar(select(User.id).where(User.cpf == CPF[who]))
        assert user_id is not None
        return f"/admin/usuarios/{user_id}"

    return path


def _an_occurrence_of(who: str) -> Callable[[dict[str, Any]], str]:
    def path(_world: dict[str, Any]) -> str:
        from portal.clients.models import Occurrence

        occurrence_id = db.session.scalar(
            select(Occurrence.id)
            .join(User, User.id == Occurrence.author_id)
            .where(User.cpf == CPF[who])
            .order_by(Occurrence.id)
            .limit(1)
        )
        assert occurrence_id is not None
        return f"/ocorrencias/{occurrence_id}"

    return path


def _search_client(page: Page) -> None:
    """The client picker without JavaScript's help: "Buscar" lists the matches."""
    page.get_by_label("Buscar cliente (nome ou identificador)").fill("salvador")
    page.get_by_role("button", name="Buscar", exact=True).click()


def _item_form(page: str, field: str | None = None) -> Callable[[dict[str, Any]], str]:
    """A page of the Portal Rede Atendimento form (demo data: a fixed and a dependent field)
    in Administração; `field` opens that field's edit page."""

    def path(_world: dict[str, Any]) -> str:
        from portal.catalog.models import CatalogItem

        item = db.session.scalar(
            select(CatalogItem).where(CatalogItem.slug == "portal-rede-atendimento")
        )
        assert item is not None
        if field is not None:
            field_id = next(f.id for f in item.fields if f.key == field)
            return f"/admin/catalogo/itens/{item.id}/campos/{field_id}"
        return f"/admin/catalogo/itens/{item.id}/{page}"

    return path


def _admin_item(slug: str) -> Callable[[dict[str, Any]], str]:
    """A catalog item's page in Administração › Catálogo (demo data)."""

    def path(_world: dict[str, Any]) -> str:
        from portal.catalog.models import CatalogItem

        item_id = db.session.scalar(select(CatalogItem.id).where(CatalogItem.slug == slug))
        assert item_id is not None
        return f"/admin/catalogo/itens/{item_id}"

    return path


def _admin_category(name: str) -> Callable[[dict[str, Any]], str]:
    """A category's page in Administração › Catálogo (demo data)."""

    def path(_world: dict[str, Any]) -> str:
        from portal.catalog.models import Category

        category_id = db.session.scalar(select(Category.id).where(Category.name == name))
        assert category_id is not None
        return f"/admin/catalogo/categorias/{category_id}"

    return path


def _add_nordeste_rule(page: Page) -> None:
    """The routing-rule form: a group, the Nordeste region box (the script ticks its UFs)."""
    page.locator("#regra-grupo").select_option(label="Suporte CadÚnico")
    page.locator("label[for=regiao-nordeste]").click()
    page.get_by_role("button", name="Adicionar regra").click()
    expect(page.locator(".admin-rules")).to_contain_text("Do Nordeste")


def _demo_announcement(suffix: str) -> Callable[[dict[str, Any]], str]:
    """A page of the demo's critical Comunicado (for PE) in Administração › Comunicados."""

    def path(_world: dict[str, Any]) -> str:
        from portal.home.models import Announcement

        found = db.session.scalar(
            select(Announcement.id).where(Announcement.severity == "critical").limit(1)
        )
        assert found is not None
        return f"/admin/comunicados/{found}/{suffix}"

    return path


def _search_ente(page: Page) -> None:
    """The Comunicado's ente picker without JavaScript: "Buscar" lists the matches."""
    page.locator("label[for=publico-organisation]").click()
    page.locator("#ente_busca").fill("recife")
    page.get_by_role("button", name="Buscar", exact=True).click()


def _publish_critical_for_everyone(page: Page) -> None:
    """Write and publish a crítico for everyone, then open the list: the banner shows on top."""
    page.goto("/admin/comunicados/novo")
    page.locator("#titulo").fill("Manutenção do Portal hoje às 18h")
    page.locator("#texto").fill("O Portal fica **fora do ar** por 30 minutos.")
    page.locator("label[for=gravidade-critical]").click()
    page.locator("button[value=salvar]").click()
    page.locator("main form button", has_text="Publicar").click()
    expect(page.locator(".flash")).to_contain_text("Comunicado publicado")
    page.goto("/admin/comunicados/")
    expect(page.locator(".critical-banner")).to_contain_text("Manutenção do Portal")


def _close_banner(page: Page) -> None:
    page.locator(".critical-banner").get_by_role("button", name="Fechar").click()
    expect(page.locator(".critical-banner")).to_have_count(0)


def _a_webhook(suffix: str) -> Callable[[dict[str, Any]], str]:
    """A page of a webhook in Administração › Webhooks (made here: the demo has none)."""

    def path(_world: dict[str, Any]) -> str:
        from portal.core.actors import COMMAND_LINE
        from portal.webhooks import services as webhook_services
        from portal.webhooks.models import Webhook

        db.session.rollback()  # see what the live server wrote since this session last read
        found = db.session.scalar(select(Webhook.id).limit(1))
        if found is None:
            found = webhook_services.create(
                db.session,
                COMMAND_LINE,
                url="https://example.org/portal",
                events=["request.created"],
            ).id
            db.session.commit()
        return f"/admin/webhooks/{found}{suffix}"

    return path


def _create_webhook(page: Page) -> None:
    page.locator("#url").fill("https://example.org/hook")
    page.locator("label[for=evento-2]").click()
    page.get_by_role("button", name="Salvar", exact=True).click()
    expect(page.locator("#webhook-secret")).to_be_visible()


VISITS: list[Visit] = [
    # Signed out.
    Visit("login", "accounts.login", "/login"),
    Visit("login, fields empty", "accounts.login", "/login", prepare=_submit(), status=400),
    Visit(
        "login, wrong password",
        "accounts.login",
        "/login",
        status=401,
        prepare=lambda p: (
            p.get_by_label("CPF").fill(format_cpf(CPF["felipe"])),
            p.get_by_label("Senha").fill("senha-errada-123"),
            p.get_by_role("button", name="Entrar").click(),
        ),
    ),
    Visit("login, high contrast", "accounts.login", "/login", high_contrast=True),
    Visit(
        "sign-in code",
        "two_factor.sign_in_code",
        "/login",
        prepare=_password_step("greziella"),
    ),
    Visit(
        "sign-in code, wrong",
        "two_factor.sign_in_code",
        "/login",
        status=400,
        prepare=_password_step("greziella", code="zzzz-zzzz-zz"),
    ),
    Visit("forgot password", "accounts.forgot_password", "/esqueci-senha"),
    Visit(
        "forgot password, empty", "accounts.forgot_password", "/esqueci-senha", prepare=_submit()
    ),
    Visit(
        "forgot password, sent",
        "accounts.forgot_password",
        "/esqueci-senha",
        prepare=lambda p: (
            p.get_by_label("Email Corporativo").fill("ninguem@exemplo.gov.br"),
            p.get_by_label("Email Particular").fill("ninguem@exemplo.gov.br"),
            p.get_by_role("button", name=re.compile("Confirmar")).click(),
        ),
    ),
    Visit(
        "reset, invalid link", "accounts.reset_password", "/redefinir-senha/invalido", status=404
    ),
    Visit("reset form", "accounts.reset_password", _reset_link),
    Visit(
        "reset form, errors", "accounts.reset_password", _reset_link, prepare=_submit(), status=200
    ),
    Visit("accessibility page", "home.accessibility", "/acessibilidade"),
    Visit(
        "accessibility page, high contrast",
        "home.accessibility",
        "/acessibilidade",
        high_contrast=True,
    ),
    # Requester: Felipe, with requests in every state and Ellem following them.
    Visit("home", "home.home", "/", who="felipe"),
    Visit("home, menus open", "home.home", "/", who="felipe", prepare=_open_menus),
    Visit("home, high contrast", "home.home", "/", who="felipe", high_contrast=True),
    Visit("home of a new ente", "home.home", "/", who="greziella"),
    Visit("knowledge base", "knowledge.index", "/base-de-conhecimento", who="felipe"),
    Visit("knowledge category", "knowledge.category", _kb_category, who="felipe"),
    Visit("article", "knowledge.article", f"{KB}/KB0000001", who="felipe"),
    Visit(
        "article from a suggestion", "knowledge.article", f"{KB}/KB0000001?de=gerid", who="felipe"
    ),
    Visit(
        "article, voted Não with a text",
        "knowledge.article",
        f"{KB}/KB0000001",
        who="felipe",
        prepare=_vote_no,
    ),
    Visit("article, open feedback", "knowledge.article", f"{KB}/KB0000001", who="greziella"),
    Visit(
        "article, high contrast",
        "knowledge.article",
        f"{KB}/KB0000001?de=gerid",
        who="felipe",
        high_contrast=True,
    ),
    Visit("catalog", "catalog.index", "/catalogo", who="felipe"),
    Visit("search", "search.results", "/pesquisa?q=gerid", who="felipe"),
    Visit("search, nothing found", "search.results", "/pesquisa?q=zzzz", who="felipe"),
    Visit("search, articles of a category", "search.results", _search_in_category, who="felipe"),
    Visit("search, page 2", "search.results", "/pesquisa?q=solicitacao&pagina=2", who="felipe"),
    Visit(
        "search, high contrast",
        "search.results",
        "/pesquisa?q=gerid&tipo=artigo",
        who="felipe",
        high_contrast=True,
    ),
    Visit(
        "form, articles suggested",
        "requests.new",
        "/catalogo/gerid",
        who="felipe",
        prepare=_type_description,
    ),
    Visit(
        "form, articles suggested, high contrast",
        "requests.new",
        "/catalogo/gerid",
        who="felipe",
        high_contrast=True,
        prepare=_type_description,
    ),
    Visit("form", "requests.new", "/catalogo/gerid", who="felipe"),
    Visit(
        "form, errors",
        "requests.new",
        "/catalogo/gerid",
        who="felipe",
        status=400,
        prepare=_submit("#request-form button[type=submit]"),
    ),
    Visit(
        "form, high contrast, errors",
        "requests.new",
        "/catalogo/gerid",
        who="felipe",
        status=400,
        high_contrast=True,
        prepare=_submit("#request-form button[type=submit]"),
    ),
    Visit("Minhas Solicitações", "requests.mine", "/solicitacoes", who="felipe"),
    Visit(
        "Minhas Solicitações, none match", "requests.mine", "/solicitacoes?numero=999", who="felipe"
    ),
    Visit("Meus Acompanhamentos, empty", "requests.following", "/acompanhamentos", who="felipe"),
    Visit("Meus Acompanhamentos, full", "requests.following", "/acompanhamentos", who="ellem"),
    Visit(
        "request, open",
        "requests.show",
        lambda w: _state(w, State.OPEN),
        who="felipe",
        prepare=_open_all("details.action-dialog"),
    ),
    Visit(
        "request, in progress",
        "requests.show",
        lambda w: _state(w, State.IN_PROGRESS),
        who="felipe",
        prepare=_open_all("details.action-dialog"),
    ),
    Visit(
        "request, awaiting the requester",
        "requests.show",
        lambda w: _state(w, State.AWAITING_USER),
        who="felipe",
        prepare=_open_all("details.action-dialog"),
    ),
    Visit("request, closed", "requests.show", lambda w: _state(w, State.CLOSED), who="felipe"),
    Visit(
        "request, message error",
        "requests.show",
        lambda w: _state(w, State.OPEN),
        who="felipe",
        prepare=_submit(".message-form button[type=submit]"),
        status=400,
    ),
    Visit(
        "request, as follower",
        "requests.show",
        lambda w: _state(w, State.AWAITING_USER),
        who="ellem",
    ),
    Visit(
        "request, high contrast",
        "requests.show",
        lambda w: _state(w, State.AWAITING_USER),
        who="felipe",
        high_contrast=True,
        prepare=_open_all("details.action-dialog"),
    ),
    Visit("profile", "accounts.profile", "/perfil", who="felipe"),
    Visit("meus dados", "personal_data.index", "/perfil/meus-dados", who="felipe"),
    Visit(
        "profile, errors",
        "accounts.profile",
        "/perfil",
        who="felipe",
        status=400,
        prepare=_submit("form[action$='/perfil/senha'] button[type=submit]"),
    ),
    Visit("active sessions", "account_sessions.index", "/perfil/sessoes", who="felipe"),
    Visit(
        "active sessions, high contrast",
        "account_sessions.index",
        "/perfil/sessoes",
        who="felipe",
        high_contrast=True,
        prepare=_open_all("details.session-agent"),
    ),
    Visit("sign-in history", "account_sessions.sign_ins", "/perfil/acessos", who="felipe"),
    Visit("api tokens", "account_tokens.index", "/perfil/tokens", who="felipe"),
    Visit(
        "api tokens, form errors",
        "account_tokens.index",
        "/perfil/tokens",
        who="felipe",
        status=400,
        prepare=_submit("form[action$='/perfil/tokens'] button[type=submit]"),
    ),
    Visit(
        "api tokens, one just created",
        "account_tokens.index",
        "/perfil/tokens",
        who="felipe",
        prepare=_create_token,
    ),
    Visit("two-factor set-up", "two_factor.setup", "/perfil/dois-fatores", who="felipe"),
    Visit(
        "two-factor set-up, errors",
        "two_factor.setup",
        "/perfil/dois-fatores",
        who="felipe",
        status=400,
        prepare=_submit(),
    ),
    Visit("two-factor, requester", "two_factor.setup", "/perfil/dois-fatores", who="greziella"),
    Visit("two-factor, staff", "two_factor.setup", "/perfil/dois-fatores", who="ana"),
    Visit(
        "two-factor, new recovery codes",
        "two_factor.setup",
        "/perfil/dois-fatores",
        who="ana",
        prepare=_submit(),
    ),
    Visit("404", "requests.show", "/solicitacoes/CS9999999", who="felipe", status=404),
    # Agent: Ana (Suporte GERID).
    Visit("knowledge base, agent", "knowledge.index", KB, who="ana"),
    Visit("article, internal", "knowledge.article", f"{KB}/KB0000002", who="ana"),
    Visit("article, draft", "knowledge.article", _kb_draft, who="ana"),
    Visit("new article", "knowledge_staff.new", f"{KB}/novo", who="ana"),
    Visit(
        "new article, errors",
        "knowledge_staff.new",
        f"{KB}/novo",
        who="ana",
        status=400,
        prepare=_submit(".kb-article-form button[type=submit]"),
    ),
    Visit("new article from a request", "knowledge_staff.new", _kb_from_request, who="ana"),
    Visit("article editor", "knowledge_staff.edit", f"{KB}/KB0000001/editar", who="ana"),
    Visit(
        "article editor, high contrast",
        "knowledge_staff.edit",
        f"{KB}/KB0000001/editar",
        who="ana",
        high_contrast=True,
    ),
    Visit("article history with a diff", "knowledge_staff.history", _kb_diff, who="ana"),
    Visit("articles", "knowledge_staff.articles", f"{KB}/artigos", who="ana"),
    Visit(
        "articles in review", "knowledge_staff.articles", f"{KB}/artigos?estado=revisao", who="ana"
    ),
    Visit("article feedback", "knowledge_staff.feedback", f"{KB}/feedback", who="ana"),
    Visit(
        "article feedback, reply missing",
        "knowledge_staff.feedback",
        f"{KB}/feedback",
        who="ana",
        status=400,
        prepare=_submit(".kb-feedback button[value=resolved]"),
    ),
    Visit(
        "article feedback, staff menu open",
        "knowledge_staff.feedback",
        f"{KB}/feedback?estado=resolvidos",
        who="ana",
        prepare=_open_all("details.nav-menu"),
    ),
    Visit("knowledge categories", "knowledge_staff.categories", f"{KB}/categorias", who="ana"),
    Visit("deflection", "knowledge_staff.deflection", f"{KB}/deflexao", who="ana"),
    Visit("search, staff see labels", "search.results", "/pesquisa?q=gerid", who="ana"),
    Visit(
        "request, staff view inserting an article",
        "requests.show",
        lambda w: _state(w, State.IN_PROGRESS),
        who="ana",
        prepare=_find_article_to_insert,
    ),
    Visit("queue", "staff.queue", "/atendimento", who="ana"),
    Visit("queue, nothing matches", "staff.queue", "/atendimento?texto=zzzz", who="ana"),
    Visit("queue, high contrast", "staff.queue", "/atendimento", who="ana", high_contrast=True),
    Visit(
        "request, staff view with every dialog open",
        "requests.show",
        lambda w: _state(w, State.IN_PROGRESS),
        who="ana",
        prepare=_open_all("details.action-dialog, details.history"),
    ),
    Visit(
        "request, staff view awaiting the requester",
        "requests.show",
        lambda w: _state(w, State.AWAITING_USER),
        who="ana",
        prepare=_open_all("details.action-dialog, details.history"),
    ),
    Visit(
        "request, note error",
        "requests.show",
        lambda w: _state(w, State.IN_PROGRESS),
        who="ana",
        status=400,
        prepare=lambda p: (
            p.locator("#note-body").evaluate("(e) => e.removeAttribute('required')"),
            p.get_by_role("button", name="Adicionar nota").click(),
        ),
    ),
    Visit(
        "request, people search",
        "requests.show",
        lambda w: _state(w, State.OPEN) + "?pessoa=Ellem",
        who="ana",
    ),
    # Admin: Carla, every group's queue.
    Visit("articles, admin", "knowledge_staff.articles", f"{KB}/artigos", who="carla"),
    Visit("article editor, admin", "knowledge_staff.edit", f"{KB}/KB0000002/editar", who="carla"),
    Visit("queue, admin", "staff.queue", "/atendimento?estado=todos", who="carla"),
    # Cadastros > Cliente: the registration wizard and "Dados do cliente".
    Visit("client registration, start", "client_wizard.start", "/clientes/novo", who="carla"),
    Visit(
        "client registration, search",
        "client_wizard.start",
        "/clientes/novo?q=Salvador",
        who="carla",
    ),
    Visit(
        "client wizard, type",
        "client_wizard.step",
        "/clientes/novo",
        who="carla",
        prepare=_new_client_draft,
    ),
    Visit(
        "client wizard, type errors",
        "client_wizard.step",
        "/clientes/novo",
        who="carla",
        status=400,
        prepare=lambda p: (
            _new_client_draft(p),
            p.get_by_role("button", name="Próximo").click(),
        ),
    ),
    Visit(
        "client wizard, identification errors",
        "client_wizard.step",
        "/clientes/novo",
        who="carla",
        status=400,
        prepare=_client_draft_at("erros"),
    ),
    Visit(
        "client wizard, address",
        "client_wizard.step",
        "/clientes/novo",
        who="carla",
        prepare=_client_draft_at("endereco"),
    ),
    Visit(
        "client wizard, contacts",
        "client_wizard.step",
        "/clientes/novo",
        who="carla",
        prepare=_client_draft_at("contatos"),
    ),
    Visit("client data", "client_wizard.edit", _a_client, who="carla"),
    # Cadastros: the clients, a client's page, and the occurrences.
    Visit("clients", "clients.index", "/clientes", who="ana"),
    Visit("clients, search", "clients.index", "/clientes?q=recife", who="ana"),
    Visit("client page", "clients.show", lambda _w: f"/clientes/{_first_client_id()}", who="ana"),
    Visit(
        "client page, admin",
        "clients.show",
        lambda _w: f"/clientes/{_first_client_id()}",
        who="carla",
        high_contrast=True,
    ),
    Visit("occurrences", "occurrences.index", "/ocorrencias", who="ana"),
    Visit(
        "occurrences, negative",
        "occurrences.index",
        "/ocorrencias?impacto=negativo",
        who="ana",
        high_contrast=True,
    ),
    Visit("occurrence form", "occurrences.new", "/ocorrencias/nova", who="ana"),
    Visit(
        "occurrence form, client search",
        "occurrences.new",
        "/ocorrencias/nova",
        who="ana",
        prepare=_search_client,
    ),
    Visit(
        "occurrence form, errors",
        "occurrences.new",
        lambda _w: f"/ocorrencias/nova?cliente={_first_client_id()}",
        who="ana",
        prepare=lambda p: p.get_by_role("button", name="Cadastrar", exact=True).click(),
        status=400,
    ),
    Visit(
        "occurrence edit",
        "occurrences.edit",
        lambda w: _an_occurrence_of("ana")(w) + "/editar",
        who="ana",
    ),
    Visit(
        "occurrence removal",
        "occurrences.confirm_remove",
        lambda w: _an_occurrence_of("ana")(w) + "/remover",
        who="carla",
    ),
    # Administração (issue 17): each section keeps its visits under its own marker.
    Visit("administration", "admin.index", "/admin/", who="carla"),
    # -- admin: catalog
    Visit("catalog admin", "admin_catalog.index", "/admin/catalogo/", who="carla"),
    Visit(
        "catalog admin, category refused",
        "admin_catalog.index",
        "/admin/catalogo/",
        who="carla",
        prepare=_submit("form[action$='/categorias'] button[type=submit]"),
        status=400,
    ),
    Visit(
        "catalog category, hidden",
        "admin_catalog.category",
        _admin_category("MCID"),
        who="carla",
        prepare=lambda p: p.get_by_role("button", name="Ocultar do catálogo").click(),
    ),
    Visit(
        "catalog category, rename refused",
        "admin_catalog.category",
        _admin_category("CADÚNICO"),
        who="carla",
        prepare=lambda p: (
            p.locator("#category-name").fill(""),
            p.get_by_role("button", name="Salvar nome").click(),
        ),
        status=400,
    ),
    Visit(
        "catalog admin with hidden categories, high contrast",
        "admin_catalog.index",
        "/admin/catalogo/",
        who="carla",
        high_contrast=True,
    ),
    Visit("new catalog item", "admin_catalog.new_item", "/admin/catalogo/itens/novo", who="carla"),
    Visit(
        "new catalog item, errors",
        "admin_catalog.new_item",
        "/admin/catalogo/itens/novo",
        who="carla",
        prepare=_submit(".admin-form-page form button[type=submit]"),
        status=400,
    ),
    Visit(
        "catalog item, a Nordeste rule added",
        "admin_catalog.item",
        _admin_item("gerid"),
        who="carla",
        prepare=_add_nordeste_rule,
    ),
    Visit(
        "catalog item, rule refused",
        "admin_catalog.item",
        _admin_item("gerid"),
        who="carla",
        prepare=_submit(".rule-form button[type=submit]"),
        status=400,
    ),
    Visit(
        "catalog item, high contrast",
        "admin_catalog.item",
        _admin_item("gerid"),
        who="carla",
        high_contrast=True,
    ),
    # -- admin: forms
    Visit("form fields", "admin_forms.fields", _item_form("campos"), who="carla"),
    Visit(
        "form fields, definition refused",
        "admin_forms.fields",
        _item_form("campos"),
        who="carla",
        prepare=_submit("form.field-definition button[type=submit]"),
        status=400,
    ),
    Visit("form field edit", "admin_forms.edit_field", _item_form("", "sintoma"), who="carla"),
    Visit("form preview", "admin_forms.preview", _item_form("pre-visualizar"), who="carla"),
    Visit(
        "form preview, errors",
        "admin_forms.preview",
        _item_form("pre-visualizar"),
        who="carla",
        prepare=_submit("#preview-form button[type=submit]"),
        status=400,
    ),
    Visit(
        "form preview, accepted",
        "admin_forms.preview",
        _item_form("pre-visualizar"),
        who="carla",
        prepare=lambda p: (
            p.locator("#motivo").select_option("Lentidão"),
            p.locator("#funcionalidade").select_option("Consulta Pessoa"),
            _submit("#preview-form button[type=submit]")(p),
        ),
    ),
    Visit(
        "form versions",
        "admin_forms.history",
        _item_form("versoes"),
        who="carla",
        prepare=_open_all("details.version-fields"),
    ),
    # -- admin: groups and users
    Visit("groups admin", "admin_groups.index", "/admin/grupos/", who="carla"),
    Visit("new group", "admin_groups.new", "/admin/grupos/novo", who="carla"),
    Visit(
        "new group, errors",
        "admin_groups.new",
        "/admin/grupos/novo",
        who="carla",
        status=400,
        prepare=lambda p: p.get_by_role("button", name="Criar grupo").click(),
    ),
    Visit("group, with blockers", "admin_groups.edit", _admin_group("Suporte GERID"), who="carla"),
    Visit(
        "group, members filtered",
        "admin_groups.edit",
        _admin_group("Suporte CadÚnico", "?busca=bruno"),
        who="carla",
        high_contrast=True,
    ),
    Visit("users admin", "admin_users.index", "/admin/usuarios/", who="carla"),
    Visit("users admin, search", "admin_users.index", "/admin/usuarios/?q=atendente", who="carla"),
    Visit("new user", "admin_users.new", "/admin/usuarios/novo", who="carla"),
    Visit(
        "new user, errors",
        "admin_users.new",
        "/admin/usuarios/novo",
        who="carla",
        status=400,
        prepare=lambda p: p.get_by_role("button", name="Criar usuário").click(),
    ),
    Visit("user, agent", "admin_users.show", _admin_user("ana"), who="carla"),
    Visit(
        "user, requester, organisation search",
        "admin_users.show",
        lambda w: _admin_user("felipe")(w) + "?org_busca=salvador",
        who="carla",
        high_contrast=True,
    ),
    Visit("user, own page", "admin_users.show", _admin_user("carla"), who="carla"),
    Visit(
        "user, with a second factor",
        "admin_users.show",
        _admin_user("greziella"),
        who="carla",
    ),
    Visit(
        "user, reset second factor",
        "admin_users.confirm_reset_two_factor",
        lambda world: f"{_admin_user('ana')(world)}/segundo-fator",
        who="carla",
    ),
    Visit(
        "user, deactivated (Anonimizar)",
        "admin_users.show",
        lambda world: f"/admin/usuarios/{world['deactivated_id']}",
        who="carla",
    ),
    Visit(
        "user, anonymise",
        "admin_users.confirm_anonymise",
        lambda world: f"/admin/usuarios/{world['deactivated_id']}/anonimizar",
        who="carla",
    ),
    Visit(
        "user, anonymise, wrong word",
        "admin_users.confirm_anonymise",
        lambda world: f"/admin/usuarios/{world['deactivated_id']}/anonimizar",
        who="carla",
        status=400,
        prepare=lambda p: (
            p.get_by_label("Para confirmar, digite ANONIMIZAR").fill("talvez"),
            p.get_by_role("button", name="Anonimizar").click(),
        ),
    ),
    Visit(
        "user, anonymise, active user",
        "admin_users.confirm_anonymise",
        lambda world: f"{_admin_user('ana')(world)}/anonimizar",
        who="carla",
    ),
    Visit(
        "user, organisation error",
        "admin_users.show",
        _admin_user("felipe"),
        who="carla",
        status=400,
        prepare=lambda p: (
            p.locator("#organisation_id").evaluate("(e) => e.removeAttribute('required')"),
            p.locator("#organisation_id").select_option(""),
            p.get_by_role("button", name="Salvar organização").click(),
        ),
    ),
    # -- admin: comunicados
    # -- admin: webhooks
    Visit("webhooks", "admin_webhooks.index", "/admin/webhooks/", who="carla"),
    Visit("new webhook", "admin_webhooks.new", "/admin/webhooks/novo", who="carla"),
    Visit(
        "new webhook, refused",
        "admin_webhooks.new",
        "/admin/webhooks/novo",
        who="carla",
        status=400,
        prepare=lambda p: (
            p.locator("#url").fill("ftp://example.org/x"),
            p.get_by_role("button", name="Salvar", exact=True).click(),
        ),
    ),
    Visit(
        "new webhook, secret shown",
        "admin_webhooks.new",
        "/admin/webhooks/novo",
        who="carla",
        prepare=_create_webhook,
    ),
    Visit("webhook", "admin_webhooks.show", _a_webhook(""), who="carla"),
    Visit("edit webhook", "admin_webhooks.edit", _a_webhook("/editar"), who="carla"),
    Visit("comunicados", "admin_announcements.index", "/admin/comunicados/", who="carla"),
    Visit("new comunicado", "admin_announcements.new", "/admin/comunicados/novo", who="carla"),
    Visit(
        "new comunicado, refused",
        "admin_announcements.new",
        "/admin/comunicados/novo",
        who="carla",
        status=400,
        prepare=_submit("main form button[value=salvar]"),
    ),
    Visit(
        "new comunicado, ente search",
        "admin_announcements.new",
        "/admin/comunicados/novo",
        who="carla",
        prepare=_search_ente,
    ),
    Visit("comunicado", "admin_announcements.edit", _demo_announcement("editar"), who="carla"),
    Visit(
        "remove comunicado, published",
        "admin_announcements.confirm_remove",
        _demo_announcement("remover"),
        who="carla",
    ),
    Visit(
        "critical banner",
        "admin_announcements.index",
        "/admin/comunicados/",
        who="carla",
        prepare=_publish_critical_for_everyone,
    ),
    Visit(
        "critical banner closed",
        "admin_announcements.index",
        "/admin/comunicados/",
        who="carla",
        prepare=_close_banner,
    ),
    # -- admin: audit
    Visit("audit trail", "admin_audit.index", "/admin/auditoria", who="carla"),
    Visit(
        "audit trail, filtered",
        "admin_audit.index",
        "/admin/auditoria?quem=sistema&acao=user.create&objeto=user&de=01/01/2020",
        who="carla",
    ),
    Visit(
        "audit trail, dates refused",
        "admin_audit.index",
        "/admin/auditoria?de=31/02/2026&ate=ontem&nome=ninguem",
        who="carla",
    ),
    Visit(
        "audit trail, high contrast",
        "admin_audit.index",
        "/admin/auditoria",
        who="carla",
        high_contrast=True,
    ),
    Visit(
        "audit trail, one person",
        "admin_audit.index",
        lambda w: "/admin/auditoria?quem=" + _admin_user("felipe")(w).rsplit("/", 1)[1],
        who="carla",
    ),
    Visit(
        "sign-in history, admin",
        "admin_audit.sign_ins",
        lambda w: "/admin/auditoria/acessos/" + _admin_user("felipe")(w).rsplit("/", 1)[1],
        who="carla",
    ),
    Visit(
        "request, admin",
        "requests.show",
        lambda w: _state(w, State.CLOSED),
        who="carla",
        prepare=_open_all("details.history"),
    ),
    Visit(
        "413",
        "requests.new",
        "/catalogo/gerid",
        who="felipe",
        status=413,
        prepare=lambda p: _send_too_much(p),
    ),
]


@dataclass
class Report:
    problems: list[str] = field(default_factory=list)

    def add(self, visit: Visit, what: str) -> None:
        self.problems.append(f"[{visit.name}] {what}")


@pytest.fixture
def world(app: Flask) -> dict[str, Any]:
    load_demo_data(db.session)
    db.session.commit()
    # A requester with a second factor: the code page and the requester's management page.
    enroll_two_factor(db.session.scalars(select(User).where(User.cpf == CPF["greziella"])).one())
    app.config["MAX_CONTENT_LENGTH"] = 2 * 1024 * 1024  # the 413 page, with a 3 MB file
    numbers = {}
    for state in (State.OPEN, State.IN_PROGRESS, State.AWAITING_USER, State.CLOSED):
        numbers[state] = db.session.scalar(
            select(ServiceRequest.number)
            .join(User, User.id == ServiceRequest.opened_by_id)
            .where(ServiceRequest.state == state.value, User.cpf == CPF["felipe"])
            .order_by(ServiceRequest.id)
            .limit(1)
        )
    from portal.accounts import reset

    felipe = db.session.scalar(select(User).where(User.cpf == CPF["felipe"]))
    reset.request_password_reset(db.session, felipe.email, felipe.email)
    db.session.commit()
    body = db.session.scalars(
        select(OutboxEmail.body_text).order_by(OutboxEmail.id.desc()).limit(1)
    ).one()
    link = re.search(r"(/redefinir-senha/\S+)", body)
    assert link
    return {
        "numbers": numbers,
        "reset_link": link.group(1),
        "deactivated_id": _deactivated_user(felipe),
    }


def _deactivated_user(colleague: User) -> int:
    """A deactivated requester (not a demo one): the Anonimizar confirmation page (LGPD)."""
    from portal.accounts import admin as account_admin
    from portal.accounts import services as account_services
    from portal.core.actors import SystemActor
    from portal.core.cpf import make_cpf

    setup = SystemActor("testes")
    user = account_services.create_user(
        db.session,
        setup,
        cpf=make_cpf("987654321"),
        full_name="Pessoa Desativada Teste",
        email="desativada@exemplo.gov.br",
        role="requester",
        organisation=colleague.organisation,
    )
    account_admin.deactivate(db.session, setup, user)
    db.session.commit()
    return user.id


def _sign_in(page: Page, who: str) -> None:
    sign_in(page, format_cpf(CPF[who]), DEMO_PASSWORD)
    expect(page.locator("body")).not_to_contain_text("CPF ou senha incorretos")


def _endpoint_of(app: Flask, url: str) -> str:
    try:
        endpoint, _ = app.url_map.bind("localhost").match(urlsplit(url).path, method="GET")
    except HTTPException:
        return "(no route)"
    return str(endpoint)


def _check(page: Page, visit: Visit, world: dict[str, Any], app: Flask, report: Report) -> None:
    statuses: list[int] = []

    def document_status(response: Any) -> None:
        # The page's own answers: documents, and the background send of a large upload.
        if response.request.resource_type in ("document", "xhr"):
            statuses.append(response.status)

    page.on("response", document_status)
    page.goto(visit.path(world) if callable(visit.path) else visit.path)
    if visit.prepare is not None:
        visit.prepare(page)
        page.wait_for_load_state("load")
    page.remove_listener("response", document_status)
    if statuses and statuses[-1] != visit.status:
        report.add(visit, f"answered {statuses[-1]}, expected {visit.status}")
    # A form that fails renders at its own (POST) address; the page it belongs to was opened.
    if visit.prepare is None and _endpoint_of(app, page.url) != visit.endpoint:
        report.add(visit, f"landed on {page.url} ({_endpoint_of(app, page.url)})")
    title = page.title()
    if not re.fullmatch(r".+ - Portal de Atendimento", title):
        report.add(visit, f"title {title!r} is not 'Página - Portal de Atendimento'")
    if page.evaluate("() => document.documentElement.lang") != "pt-BR":
        report.add(visit, "lang is not pt-BR")
    contrast_on = "high-contrast" in (page.locator("html").get_attribute("class") or "")
    if contrast_on != visit.high_contrast:
        report.add(visit, f"high contrast is {'on' if contrast_on else 'off'}")
    for problem in axe_problems(page):
        report.add(visit, problem)
    page.set_viewport_size({"width": 320, "height": 800})
    overflow = horizontal_overflow(page)
    if overflow > 0:
        report.add(visit, f"scrolls sideways by {overflow} px at 320 px")
    page.set_viewport_size({"width": 1280, "height": 900})


def _walk(
    browser: Browser, live_server: str, app: Flask, world: dict[str, Any], who: str | None
) -> list[str]:
    report = Report()
    for high_contrast in (False, True):
        visits = [v for v in VISITS if v.who == who and v.high_contrast == high_contrast]
        if not visits:
            continue
        context = browser.new_context(
            locale="pt-BR", base_url=live_server, viewport={"width": 1280, "height": 900}
        )
        context.set_default_timeout(10_000)
        if high_contrast:
            context.add_cookies([{"name": CONTRAST_COOKIE, "value": "alto", "url": live_server}])
        page = context.new_page()
        if who is not None:
            _sign_in(page, who)
        for visit in visits:
            _check(page, visit, world, app, report)
        context.close()
    return report.problems


@pytest.mark.parametrize("who", [None, "felipe", "ellem", "greziella", "ana", "carla"])
def test_every_page_passes_axe_and_reflows_at_320px(
    browser: Browser, live_server: str, app: Flask, world: dict[str, Any], who: str | None
) -> None:
    problems = _walk(browser, live_server, app, world, who)
    assert problems == [], "\n".join(problems)


def test_every_get_route_is_visited(app: Flask) -> None:
    pages = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if "GET" in (rule.methods or set()) and rule.endpoint not in NOT_PAGES
    }
    visited = {visit.endpoint for visit in VISITS}
    assert pages - visited == set(), "add these pages to VISITS"
    assert visited - pages == set()
