"""LGPD in the browser: a requester downloads Meus dados; an admin anonymises a deactivated
user, whose page then names nobody."""

from __future__ import annotations

import json
import zipfile

from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import select

from portal.accounts import admin as account_admin
from portal.accounts import services as account_services
from portal.accounts.models import User
from portal.core.actors import SystemActor
from portal.core.cpf import format_cpf, make_cpf
from portal.core.extensions import db
from portal.demo import DEMO_PASSWORD, USERS, load_demo_data
from tests.e2e.test_login_e2e import sign_in

CPF = {user.name.split()[0].lower(): user.cpf for user in USERS}


def test_a_requester_downloads_meus_dados(page: Page, live_server: str, app: Flask) -> None:
    load_demo_data(db.session)
    db.session.commit()
    sign_in(page, format_cpf(CPF["felipe"]), DEMO_PASSWORD)
    page.goto("/perfil")
    page.locator("#personal-data-link").click()
    expect(page.get_by_role("heading", name="Meus dados", level=1)).to_be_visible()
    with page.expect_download() as info:
        page.get_by_role("button", name="Baixar meus dados").click()
    download = info.value
    assert download.suggested_filename.startswith("meus-dados-")
    with zipfile.ZipFile(download.path()) as archive:
        profile = json.loads(archive.read("profile.json"))
        assert profile["nome"] == "Felipe Rodrigues Andrade"
        assert json.loads(archive.read("requests.json"))  # the demo gives Felipe requests
    assert page.problems == []  # type: ignore[attr-defined]


def test_an_admin_anonymises_a_deactivated_user(page: Page, live_server: str, app: Flask) -> None:
    load_demo_data(db.session)
    setup = SystemActor("testes")
    felipe = db.session.scalar(select(User).where(User.cpf == CPF["felipe"]))
    assert felipe is not None
    person = account_services.create_user(
        db.session,
        setup,
        cpf=make_cpf("987654321"),
        full_name="Marta Saída Ferreira",
        email="marta.saida@exemplo.gov.br",
        role="requester",
        organisation=felipe.organisation,
    )
    account_admin.deactivate(db.session, setup, person)
    db.session.commit()
    person_id = person.id

    sign_in(page, format_cpf(CPF["carla"]), DEMO_PASSWORD)
    page.goto(f"/admin/usuarios/{person_id}")
    page.locator("#anonymise-link").click()
    page.get_by_label("Para confirmar, digite ANONIMIZAR").fill("ANONIMIZAR")
    page.get_by_role("button", name="Anonimizar").click()
    expect(page.get_by_role("heading", name="Usuário anonimizado", level=1)).to_be_visible()
    expect(page.locator("#user-status")).to_contain_text("Anonimizado")
    expect(page.locator("main")).not_to_contain_text("Marta")
    expect(page.locator("main")).not_to_contain_text("marta.saida@exemplo.gov.br")
    assert page.problems == []  # type: ignore[attr-defined]
