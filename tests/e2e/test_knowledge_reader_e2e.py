"""The article page in the browser: an image of the body, served by the article's download
view, displays under the Content-Security-Policy, and markup typed into a title, a body, a
file name or a feedback text stays text (no dialog ever opens)."""

from __future__ import annotations

import io

from playwright.sync_api import Dialog, Page, expect
from werkzeug.datastructures import FileStorage

from portal.accounts import services as accounts
from portal.core import files
from portal.core.actors import SystemActor
from portal.core.extensions import db
from portal.knowledge import services
from tests.e2e.test_login_e2e import sign_in
from tests.files import png_bytes

SETUP = SystemActor("testes")
XSS = '"><svg onload=alert(1)><img src=x onerror=alert(2)>'


def test_an_article_image_displays_and_typed_markup_stays_inert(
    page: Page, make_user, catalog
) -> None:
    group = accounts.find_or_create_group(db.session, SETUP, "Suporte GERID")
    category = services.ensure_category_path(db.session, SETUP, [f"Acesso {XSS}"])
    data = services.ArticleInput(
        title=f"Acesso {XSS}",
        summary=f"Resumo {XSS}",
        body="Primeiro rascunho.",
        category_id=category.id,
        owner_group_id=group.id,
        item_ids=[catalog["gerid"].id],
    )
    article = services.create_article(db.session, SETUP, data)
    reader = make_user()
    staged, _ = files.stage_files(
        db.session, reader, [FileStorage(io.BytesIO(png_bytes()), filename=f"{XSS}.png")]
    )
    (image,) = files.attach(db.session, "article", article.id, staged)
    src = f"/base-de-conhecimento/{article.number}/arquivos/{image.id}"
    data.body = f"Texto {XSS}\n\n<script>alert(3)</script>\n\n![Tela de acesso]({src})"
    services.save_draft(db.session, SETUP, article.id, data)
    services.submit_for_review(db.session, SETUP, article.id)
    services.publish(db.session, SETUP, article.id)
    db.session.commit()

    dialogs: list[str] = []

    def refuse(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", refuse)
    sign_in(page, reader.cpf)
    page.goto(f"/base-de-conhecimento/{article.number}")
    expect(page.get_by_role("heading", level=1)).to_contain_text("<svg onload=alert(1)>")
    picture = page.get_by_role("img", name="Tela de acesso")
    expect(picture).to_be_visible()
    assert picture.evaluate("(img) => img.complete && img.naturalWidth") == 1
    expect(page.get_by_role("link", name=f"{XSS}.png")).to_be_visible()

    page.locator("label[for=helpful-nao]").click()
    page.get_by_label("O que faltou neste artigo?").fill(f"Faltou {XSS}")
    page.get_by_role("button", name="Enviar avaliação").click()
    expect(page.locator(".kb-feedback")).to_contain_text(f"Faltou {XSS}")
    expect(page.locator(".flash")).to_contain_text("Seu comentário foi enviado")
    assert dialogs == []
    assert page.problems == []  # type: ignore[attr-defined]  # nothing refused by the CSP
