"""The per-file size limit in a real browser: without JavaScript a too-big file comes back as a
413 page with everything typed still in the fields and the file named next to them; with
JavaScript the file is named at once, next to the field, and the form is not sent until it is
removed."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from flask import Flask
from playwright.sync_api import Browser, Page, expect

from portal.accounts.models import User
from portal.core.extensions import db
from portal.models import Attachment, ServiceRequest
from tests.e2e.a11y import axe_problems
from tests.e2e.test_login_e2e import sign_in
from tests.files import pdf_bytes, png_bytes

LIMIT = 1024
TYPED = "Não consigo entrar no GERID desde ontem; o erro aparece depois da senha."


def _file(name: str, data: bytes, mime: str) -> dict[str, Any]:
    return {"name": name, "mimeType": mime, "buffer": data}


BIG = _file("grande.pdf", pdf_bytes() + b"0" * (LIMIT * 4), "application/pdf")
FINE = _file("tela.png", png_bytes(), "image/png")
# Over a megabyte, which portal.js would send in the background: the check must stop that too.
HUGE = _file("grande.pdf", pdf_bytes() + b"0" * 1_200_000, "application/pdf")


def _fill_request_form(page: Page) -> None:
    page.goto("/catalogo/gerid")
    page.get_by_label("Motivo").select_option("Dúvida")
    page.get_by_label("Funcionalidade").select_option("Acesso")
    page.get_by_label("Descrição").fill(TYPED)


def test_without_javascript_the_413_page_keeps_what_was_typed(
    app: Flask,
    browser: Browser,
    live_server: str,
    make_user: Callable[..., User],
    make_request: Callable[..., ServiceRequest],
) -> None:
    app.config["MAX_UPLOAD_BYTES"] = LIMIT
    me = make_user()
    mine = make_request(me)
    context = browser.new_context(java_script_enabled=False, base_url=live_server, locale="pt-BR")
    context.set_default_timeout(10_000)
    page = context.new_page()
    sign_in(page, me.cpf)

    _fill_request_form(page)
    page.locator("#attachments").set_input_files([FINE, BIG])
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.locator("#request-form button[type=submit]").click()
    assert answer.value.status == 413
    expect(page.get_by_label("Descrição")).to_have_value(TYPED)
    expect(page.get_by_label("Motivo")).to_have_value("Dúvida")
    refusal = page.locator("#attachments-error")
    expect(refusal).to_be_visible()
    expect(refusal).to_contain_text("O arquivo “grande.pdf” é maior que o limite")
    expect(page.locator(".pending-uploads")).to_contain_text("tela.png")

    page.goto(f"/solicitacoes/{mine.number}")
    page.locator("#body").fill(TYPED)
    page.locator("#message-files").set_input_files([BIG])
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.locator(".message-form button[type=submit]").click()
    assert answer.value.status == 413
    expect(page.locator("#body")).to_have_value(TYPED)
    refusal = page.locator("#message-files-error")
    expect(refusal).to_be_visible()
    expect(refusal).to_contain_text("O arquivo “grande.pdf” é maior que o limite")
    context.close()
    db.session.rollback()
    assert [r.number for r in db.session.query(ServiceRequest)] == [mine.number]
    assert db.session.query(Attachment).count() == 0


def test_with_javascript_a_too_big_file_is_named_at_once_and_nothing_is_sent(
    app: Flask, page: Page, make_user: Callable[..., User], catalog: Any
) -> None:
    app.config["MAX_UPLOAD_BYTES"] = LIMIT
    sign_in(page, make_user().cpf)
    _fill_request_form(page)
    posts: list[str] = []
    page.on("request", lambda r: r.method == "POST" and posts.append(r.url))
    files = page.locator("#attachments")
    files.set_input_files([FINE, HUGE])
    error = page.locator("#attachments-size-error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("O arquivo “grande.pdf” é maior que o limite de 1 KB.")
    expect(error).not_to_contain_text("tela.png")
    expect(files).to_have_attribute("aria-describedby", re.compile(r"\battachments-size-error\b"))
    expect(files).to_have_attribute("aria-invalid", "true")
    # Next to the field: inside the same upload block as the input.
    expect(page.locator("[data-upload]:has(#attachments) #attachments-size-error")).to_have_count(1)
    assert axe_problems(page) == []

    page.locator("#request-form button[type=submit]").click()
    expect(files).to_be_focused()  # the submit was handled: refused, focus on the files
    assert posts == []
    expect(page).to_have_url(re.compile(r"/catalogo/gerid$"))

    page.get_by_role("button", name="Remover grande.pdf").click()
    expect(error).to_have_count(0)
    expect(files).not_to_have_attribute("aria-invalid", "true")
    with page.expect_navigation():
        page.locator("#request-form button[type=submit]").click()
    expect(page.get_by_text(re.compile(r"Solicitação CS\d+ registrada"))).to_be_visible()
    assert len(posts) == 1
    assert page.problems == []  # type: ignore[attr-defined]
    db.session.rollback()
    assert [a.original_name for a in db.session.query(Attachment)] == ["tela.png"]


def test_the_refused_forms_pass_axe(
    app: Flask,
    page: Page,
    make_user: Callable[..., User],
    make_request: Callable[..., ServiceRequest],
) -> None:
    app.config["MAX_UPLOAD_BYTES"] = LIMIT
    me = make_user()
    mine = make_request(me)
    sign_in(page, me.cpf)
    for path, form in (
        ("/catalogo/gerid", "#request-form"),
        (f"/solicitacoes/{mine.number}", ".message-form"),
    ):
        page.goto(path)
        # As a browser without the check would send it (the server must refuse it alone).
        page.evaluate(
            """() => document.querySelectorAll("[data-max-bytes]")
                .forEach((e) => e.removeAttribute("data-max-bytes"))"""
        )
        page.locator(f"{form} input[type=file]").set_input_files([FINE, BIG])
        with page.expect_response(lambda r: r.request.method == "POST") as answer:
            page.locator(f"{form} button[type=submit]").click()
        assert answer.value.status == 413
        expect(page.get_by_text("O arquivo “grande.pdf” é maior que o limite")).to_be_visible()
        assert axe_problems(page) == [], path
