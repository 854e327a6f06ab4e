"""The gov.br DS upload pattern in the browser: Portuguese labels whatever the browser's
language, each chosen file listed with its size and a Remover button, files added across
choices, and a large upload sent in the background with a progress bar."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, expect

from portal.core.extensions import db
from portal.models import Attachment
from tests.e2e.test_login_e2e import sign_in
from tests.files import pdf_bytes, png_bytes


def test_choose_remove_and_send_a_large_file_with_progress(
    browser: Browser, live_server: str, make_user, catalog
) -> None:
    # An English browser: the page's own words stay Portuguese.
    context = browser.new_context(locale="en-US", base_url=live_server)
    page = context.new_page()
    sign_in(page, make_user().cpf)
    page.goto("/catalogo/gerid")
    expect(page.locator("label[for=attachments]")).to_have_text("Selecionar arquivos")
    files = page.locator("#attachments")
    big = pdf_bytes() + b"0" * 1_500_000
    files.set_input_files({"name": "grande.pdf", "mimeType": "application/pdf", "buffer": big})
    files.set_input_files({"name": "tela.png", "mimeType": "image/png", "buffer": png_bytes()})
    listed = page.locator(".upload-list li")
    expect(listed).to_have_count(2)  # the second choice adds to the first
    expect(listed.nth(0)).to_contain_text("grande.pdf")
    expect(listed.nth(0)).to_contain_text("MB")
    expect(page.locator(".upload-status")).to_have_text("2 arquivos escolhidos.")
    page.get_by_role("button", name="Remover tela.png").click()
    expect(listed).to_have_count(1)
    expect(page.locator(".upload-status")).to_contain_text("tela.png removido.")
    page.evaluate(
        """() => new MutationObserver(() => {
            if (document.querySelector("progress.upload-progress")) window.sawProgress = true;
        }).observe(document.body, {childList: true, subtree: true})"""
    )
    page.get_by_label("Motivo").select_option("Dúvida")
    page.get_by_label("Funcionalidade").select_option("Acesso")
    page.get_by_label("Descrição").fill("Com um arquivo grande.")
    page.locator("#request-form button[type=submit]").click()
    expect(page.get_by_text(re.compile(r"Solicitação CS\d+ registrada"))).to_be_visible()
    assert page.evaluate("() => window.sawProgress === true")
    expect(page).to_have_url(re.compile(r"/solicitacoes/CS\d+$"))
    db.session.rollback()
    assert [a.original_name for a in db.session.query(Attachment)] == ["grande.pdf"]
    context.close()
