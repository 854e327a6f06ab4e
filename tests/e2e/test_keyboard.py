"""The whole requester journey with the keyboard only (Tab, Shift+Tab, Enter, Space, arrows;
no clicks): sign in, open a GERID request with a follower and an attachment, post a message,
accept the solution. At every stop the focus is visible, with 3:1 contrast or more."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from portal.core.cpf import format_cpf
from portal.core.extensions import db
from portal.models import ServiceRequest
from portal.requests import services as request_service
from portal.requests.lifecycle import Action
from tests.conftest import PASSWORD
from tests.e2e.a11y import focus_report
from tests.files import png_bytes

MAX_TABS = 80


class Keyboard:
    """Moves the focus with Tab / Shift+Tab and checks it is visible at every stop."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.stops: list[str] = []
        self.invisible: list[str] = []

    def _check_focus(self) -> dict | None:
        report = focus_report(self.page)
        if report is not None:
            where = f"{report['tag']}#{report['id']} {report['text']!r} ({report['outline']})"
            self.stops.append(where)
            if report["contrast"] < 3:
                self.invisible.append(f"{where}: focus contrast {report['contrast']}")
        return report

    def tab_to(self, selector: str, *, backwards: bool = False) -> None:
        """Press Tab (or Shift+Tab) until the element matching `selector` has the focus."""
        key = "Shift+Tab" if backwards else "Tab"
        # After a navigation the new page's DOM can answer before its stylesheets apply (the
        # parser does not wait for them); a focus measured then shows the browser's default
        # ring. A person sees the styled page, so wait until the page has loaded.
        self.page.wait_for_load_state("load")
        for _ in range(MAX_TABS):
            self.page.keyboard.press(key)
            self._check_focus()
            if self.page.evaluate("(s) => document.activeElement.matches(s)", selector):
                return
        raise AssertionError(f"{selector} never got the focus; stops: {self.stops[-45:]}")

    def press(self, key: str) -> None:
        self.page.keyboard.press(key)

    def type(self, text: str) -> None:
        self.page.keyboard.type(text)


def test_a_request_from_sign_in_to_accepting_the_solution_by_keyboard(
    page: Page, make_user, catalog
) -> None:
    felipe = make_user(name="Felipe Rodrigues Andrade")
    ellem = make_user(name="Ellem Saraiva Reis")
    agent = make_user(name="Ana Atendente", role="agent", groups=["Suporte GERID"])
    keys = Keyboard(page)

    page.goto("/login")
    keys.tab_to("#cpf")
    keys.type(format_cpf(felipe.cpf))
    keys.tab_to("#password")
    keys.type(PASSWORD)
    keys.press("Enter")
    expect(page.get_by_role("heading", name=re.compile("Olá, Felipe"))).to_be_visible()

    # The eMAG shortcut to the search box, then the GERID result.
    keys.tab_to("a[accesskey='3']")
    keys.press("Enter")
    keys.type("GERID")
    keys.press("Enter")
    expect(page.get_by_role("heading", name=re.compile("Pesquisa|Resultados"))).to_be_visible()
    keys.tab_to("a[href$='/catalogo/gerid']")
    keys.press("Enter")
    expect(page.get_by_role("heading", name="GERID", exact=True)).to_be_visible()

    keys.tab_to(f"#follower-{ellem.id}")
    keys.press("Space")
    keys.tab_to("#motivo")
    keys.press("ArrowDown")
    keys.press("ArrowDown")
    keys.tab_to("#funcionalidade")
    keys.press("ArrowDown")
    keys.tab_to("#description")
    keys.type("Usuária sem acesso ao GERID desde ontem.")
    keys.tab_to("#attachments")
    with page.expect_file_chooser() as chooser:
        keys.press("Space")
    chooser.value.set_files({"name": "tela.png", "mimeType": "image/png", "buffer": png_bytes()})
    expect(page.locator(".upload-list")).to_contain_text("tela.png")
    # Back and forth: Shift+Tab reaches the description again, Tab comes back.
    keys.tab_to("#description", backwards=True)
    keys.tab_to("#request-form button[type=submit]")
    keys.press("Enter")
    expect(page.get_by_text(re.compile(r"Solicitação CS\d+ registrada"))).to_be_visible()
    number = page.locator("h1.request-number").inner_text()
    expect(page.locator("section[aria-labelledby=attachments-title]")).to_contain_text("tela.png")
    expect(page.locator("section[aria-labelledby=followers-title]")).to_contain_text(
        "Ellem Saraiva Reis"
    )

    keys.tab_to("#body")
    keys.type("Segue mais um detalhe: o erro aparece após o login.")
    keys.tab_to(".message-form button[type=submit]")
    keys.press("Enter")
    expect(page.locator(".timeline")).to_contain_text("o erro aparece após o login")

    # The agent resolves (their own pages are tested elsewhere); the requester accepts.
    db.session.rollback()
    request = db.session.scalar(db.select(ServiceRequest).where(ServiceRequest.number == number))
    request_service.fire(db.session, request, Action.START, actor=agent)
    request_service.fire(db.session, request, Action.RESOLVE, actor=agent, reason="Desbloqueado.")
    db.session.commit()
    page.reload()
    keys.tab_to("form[action$='/acoes/accept'] button")
    keys.press("Enter")
    expect(page.get_by_text("Você aceitou esta solução")).to_be_visible()
    expect(page.locator("#request-state")).to_have_text("Fechado")

    assert len(keys.stops) > 10
    assert keys.invisible == []
