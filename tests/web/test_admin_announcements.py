"""Comunicados (Administração > Comunicados, issue 17): who sees one (everyone, a UF, an
organisation kind, one organisation) and when (published, inside its window), the Markdown
sanitised, the critical banner on every page until "Fechar", the admin pages with their
errors, the audit trail of every change, and 404 for everyone but admins."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from portal.accounts.models import User
from portal.clients.models import Organisation
from portal.core.errors import Conflict, Forbidden, FormErrors, NotFound, ValidationError
from portal.core.extensions import db
from portal.core.models import AuditEntry
from portal.core.timeutil import utcnow
from portal.home import announcements as services
from portal.home import queries
from portal.home.announcements import AnnouncementFields
from portal.home.models import Announcement, AnnouncementDismissal
from tests.conftest import SETUP, AuthActions

ADMIN = "/admin/comunicados"
SP = "America/Sao_Paulo"


def _html(response: TestResponse) -> str:
    return response.get_data(as_text=True)


def _published(**overrides: Any) -> Announcement:
    fields = AnnouncementFields(**{"title": "Aviso", "body": "Texto.", **overrides})
    announcement = services.publish_announcement(db.session, SETUP, fields)
    db.session.commit()
    return announcement


def _titles(session_user: User, **kwargs: Any) -> list[str]:
    return [a.title for a in queries.visible_announcements(db.session, session_user, **kwargs)]


def _banner(html: str) -> str:
    found = re.search(r'<section class="critical-banner".*?</section>', html, re.S)
    return found.group(0) if found else ""


@pytest.fixture
def places(make_org: Callable[..., Organisation], make_user: Callable[..., User]) -> Any:
    """A município of BA, the estado of BA, a município of PE, with one requester each."""
    salvador = make_org(name="Prefeitura de Salvador", kind="municipio", uf="BA")
    bahia = make_org(name="Governo da Bahia", kind="estado", uf="BA")
    recife = make_org(name="Prefeitura do Recife", kind="municipio", uf="PE")

    class Places:
        pass

    p = Places()
    p.salvador, p.bahia, p.recife = salvador, bahia, recife  # type: ignore[attr-defined]
    p.ba = make_user(name="Felipe Baiano", organisation=salvador)  # type: ignore[attr-defined]
    p.estado = make_user(name="Greziella Estado", organisation=bahia)  # type: ignore[attr-defined]
    p.pe = make_user(name="Roberto Pernambucano", organisation=recife)  # type: ignore[attr-defined]
    return p


# ------------------------------------------------------------------ who sees what, and when


def test_the_audience_decides_who_sees_a_comunicado(places: Any) -> None:
    _published(title="Para todos")
    _published(title="Só BA", audience="uf", uf="BA")
    _published(title="Só estados", audience="kind", kind="estado")
    _published(title="Só Recife", audience="organisation", organisation_id=places.recife.id)
    assert sorted(_titles(places.ba)) == ["Para todos", "Só BA"]
    assert sorted(_titles(places.estado)) == ["Para todos", "Só BA", "Só estados"]
    assert sorted(_titles(places.pe)) == ["Para todos", "Só Recife"]


def test_a_ba_user_sees_a_ba_only_comunicado_on_the_home_and_a_pe_user_does_not(
    places: Any, auth: AuthActions
) -> None:
    _published(title="Recadastramento na Bahia", audience="uf", uf="BA")
    auth.login(places.ba)
    assert "Recadastramento na Bahia" in _html(auth.client.get("/"))
    auth.logout()
    auth.login(places.pe)
    html = _html(auth.client.get("/"))
    assert "Recadastramento na Bahia" not in html
    assert "Nenhum comunicado no momento." in html


def test_only_published_comunicados_inside_their_window_show(places: Any) -> None:
    now = utcnow()
    _published(title="No ar")
    _published(title="Agendado", starts_at=now + timedelta(hours=2))
    _published(title="Com fim", starts_at=now - timedelta(days=1), ends_at=now + timedelta(hours=1))
    draft = services.create_announcement(
        db.session, SETUP, AnnouncementFields(title="Rascunho", severity="critical")
    )
    db.session.commit()
    assert sorted(_titles(places.ba, now=now)) == ["Com fim", "No ar"]
    assert sorted(_titles(places.ba, now=now + timedelta(hours=3))) == ["Agendado", "No ar"]
    assert "Rascunho" not in _titles(places.ba, now=now)
    assert queries.window_status(draft) is None
    scheduled = db.session.scalar(select(Announcement).where(Announcement.title == "Agendado"))
    assert queries.window_status(scheduled, now) == "agendado"
    assert queries.window_status(scheduled, now + timedelta(hours=3)) == "no ar"


def test_newest_first(places: Any) -> None:
    now = utcnow()
    _published(title="Antigo", starts_at=now - timedelta(days=3))
    _published(title="Recente", starts_at=now - timedelta(hours=1))
    _published(title="Do meio", starts_at=now - timedelta(days=1))
    assert _titles(places.ba) == ["Recente", "Do meio", "Antigo"]


def test_drafts_and_withdrawn_ones_never_show_on_the_home(places: Any, auth: AuthActions) -> None:
    services.create_announcement(db.session, SETUP, AnnouncementFields(title="Ainda rascunho"))
    withdrawn = _published(title="Retirado", severity="critical")
    services.return_to_draft(db.session, SETUP, withdrawn.id)
    db.session.commit()
    auth.login(places.ba)
    html = _html(auth.client.get("/"))
    assert "Ainda rascunho" not in html and "Retirado" not in html
    assert _banner(html) == ""


def test_markdown_is_rendered_and_sanitised_everywhere(places: Any, auth: AuthActions) -> None:
    _published(
        title='"><svg onload=alert(1)>',
        severity="critical",
        body="**Atenção**: veja [o guia](https://exemplo.gov.br/guia).\n\n"
        "<script>alert(1)</script>\n\n<img src=x onerror=alert(1)>\n\n"
        "[clique](javascript:alert(1))",
    )
    auth.login(places.ba)
    for path in ("/", "/catalogo"):
        html = _html(auth.client.get(path))
        assert "<strong>Atenção</strong>" in html
        assert 'href="https://exemplo.gov.br/guia"' in html
        assert "<script>alert" not in html
        assert not re.search(r"<[a-z]+[^>]*\sonerror=", html)
        assert not re.search(r"<[a-z]+[^>]*\sonload=", html)
        assert 'href="javascript:' not in html


def test_the_home_shows_the_severity_as_word_icon_and_colour(
    places: Any, auth: AuthActions
) -> None:
    _published(title="Informativo")
    _published(title="Cuidado", severity="warning")
    _published(title="Fora do ar", severity="critical")
    auth.login(places.ba)
    html = _html(auth.client.get("/"))
    home_list = html.split('id="announcement-title"', 1)[1]
    for colour, icon, word, title in (
        ("info", "fa-info-circle", "Informação", "Informativo"),
        ("warning", "fa-exclamation-triangle", "Atenção", "Cuidado"),
        ("danger", "fa-times-circle", "Crítico", "Fora do ar"),
    ):
        item = re.search(rf'<li class="br-message {colour} notice".*?</li>', home_list, re.S)
        assert item, colour
        assert icon in item.group(0)
        assert f'<span class="severity-word">{word}:</span> {title}' in item.group(0)


# ------------------------------------------------------------------ the critical banner


def test_a_critical_comunicado_is_a_banner_on_every_page_until_closed(
    places: Any, auth: AuthActions, make_request: Callable[..., Any]
) -> None:
    critical = _published(title="Sistema fora do ar", severity="critical")
    _published(title="Só informação")
    request = make_request(places.ba)
    auth.login(places.ba)
    pages = ["/", "/catalogo", "/perfil", "/solicitacoes", f"/solicitacoes/{request.number}"]
    for path in pages:
        banner = _banner(_html(auth.client.get(path)))
        assert "Sistema fora do ar" in banner, path
        assert "Só informação" not in banner
        assert f'action="/comunicados/{critical.id}/fechar"' in banner
        assert f'name="next" value="{path}' in banner
    response = auth.post(
        f"/comunicados/{critical.id}/fechar", {"next": "/catalogo?q=gerid"}, page="/catalogo"
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/catalogo?q=gerid"
    for path in pages:
        assert _banner(_html(auth.client.get(path))) == "", path
    home = _html(auth.client.get("/"))
    assert "Sistema fora do ar" in home  # still on the home's list
    # closing it again changes nothing
    again = auth.post(f"/comunicados/{critical.id}/fechar", {"next": "/"}, page="/")
    assert again.status_code == 302
    count = select(func.count()).select_from(AnnouncementDismissal)
    assert db.session.scalar(count) == 1
    # somebody else still sees the banner
    auth.logout()
    auth.login(places.estado)
    assert "Sistema fora do ar" in _banner(_html(auth.client.get("/perfil")))


def test_closing_needs_csrf_and_a_comunicado_the_user_sees(
    places: Any, auth: AuthActions, client: FlaskClient
) -> None:
    for_ba = _published(title="Crítico BA", severity="critical", audience="uf", uf="BA")
    info = _published(title="Informação")
    auth.login(places.pe)
    refused = client.post(f"/comunicados/{for_ba.id}/fechar", data={"next": "/"})
    assert refused.status_code == 400
    assert auth.post(f"/comunicados/{for_ba.id}/fechar", page="/").status_code == 404
    assert auth.post(f"/comunicados/{info.id}/fechar", page="/").status_code == 404
    assert auth.post("/comunicados/99999/fechar", page="/").status_code == 404
    assert db.session.scalar(select(func.count()).select_from(AnnouncementDismissal)) == 0
    with pytest.raises(NotFound):
        services.dismiss(db.session, places.pe, for_ba.id)


def test_closing_goes_back_only_to_a_local_page(places: Any, auth: AuthActions) -> None:
    critical = _published(title="Crítico", severity="critical")
    auth.login(places.ba)
    response = auth.post(
        f"/comunicados/{critical.id}/fechar", {"next": "https://mal.example/"}, page="/"
    )
    assert response.headers["Location"] == "/"


def test_staff_see_the_banner_of_comunicados_for_everyone(
    make_user: Callable[..., User], auth: AuthActions
) -> None:
    _published(title="Manutenção geral", severity="critical")
    _published(title="Só PE", severity="critical", audience="uf", uf="PE")
    agent = make_user(name="Ana Atendente", role="agent")  # organisation in BA
    auth.login(agent)
    banner = _banner(_html(auth.client.get("/atendimento")))
    assert "Manutenção geral" in banner and "Só PE" not in banner


def test_the_banner_costs_one_statement_per_page(
    places: Any, auth: AuthActions, count_queries: Callable[[], Any]
) -> None:
    for n in range(4):
        _published(title=f"Crítico {n}", severity="critical")
    auth.login(places.ba)
    with count_queries() as statements:
        html = _html(auth.client.get("/acessibilidade"))
    assert html.count('class="br-message danger notice critical-notice"') == 4
    sent = [s for s in statements if not s.lstrip().upper().startswith("BEGIN")]
    assert len([s for s in sent if "announcements" in s]) == 1
    assert len(sent) == 2  # the user with the badge, and the banner


# ------------------------------------------------------------------ the services


def test_dates_are_typed_in_sao_paulo_and_stored_in_utc() -> None:
    parsed = services.parse_local_datetime("05/03/2026 08:00", "starts_at", SP)
    assert parsed == datetime(2026, 3, 5, 11, 0, tzinfo=UTC)
    assert services.local_text(parsed, SP) == "05/03/2026 08:00"
    assert services.parse_local_datetime("  ", "starts_at", SP) is None
    for bad in ("05/03/2026", "31/02/2026 10:00", "05/03/2026 25:00", "amanhã"):
        with pytest.raises(ValidationError) as caught:
            services.parse_local_datetime(bad, "ends_at", SP)
        assert caught.value.field == "ends_at"


def test_the_service_refuses_what_cannot_be_shown(places: Any) -> None:
    now = utcnow()
    with pytest.raises(FormErrors) as caught:
        services.create_announcement(
            db.session,
            SETUP,
            AnnouncementFields(
                title=" ",
                severity="urgente",
                audience="uf",
                uf="XX",
                starts_at=now,
                ends_at=now - timedelta(minutes=1),
            ),
        )
    assert {e.field for e in caught.value.errors} == {"title", "severity", "uf", "ends_at"}
    for fields, field in (
        (AnnouncementFields(title="T", audience="kind", kind="planeta"), "kind"),
        (
            AnnouncementFields(title="T", audience="organisation", organisation_id=99999),
            "organisation_id",
        ),
        (AnnouncementFields(title="T", audience="galáxia"), "audience"),
    ):
        with pytest.raises(FormErrors) as caught:
            services.create_announcement(db.session, SETUP, fields)
        assert [e.field for e in caught.value.errors] == [field]


def test_only_admins_keep_comunicados(places: Any, make_user: Callable[..., User]) -> None:
    agent = make_user(name="Agente", role="agent")
    draft = services.create_announcement(db.session, SETUP, AnnouncementFields(title="T"))
    for who in (places.ba, agent):
        with pytest.raises(Forbidden):
            services.create_announcement(db.session, who, AnnouncementFields(title="T"))
        with pytest.raises(Forbidden):
            services.publish(db.session, who, draft.id)
        with pytest.raises(Forbidden):
            services.remove_announcement(db.session, who, draft.id)


def test_publishing_rules(places: Any) -> None:
    now = utcnow()
    over = services.create_announcement(
        db.session,
        SETUP,
        AnnouncementFields(title="Já passou", ends_at=now - timedelta(hours=1)),
    )
    with pytest.raises(ValidationError):
        services.publish(db.session, SETUP, over.id)
    shown = _published(title="Publicado")
    with pytest.raises(Conflict):
        services.publish(db.session, SETUP, shown.id)
    with pytest.raises(Conflict):
        services.remove_announcement(db.session, SETUP, shown.id)
    services.return_to_draft(db.session, SETUP, shown.id)
    with pytest.raises(Conflict):
        services.return_to_draft(db.session, SETUP, shown.id)
    services.remove_announcement(db.session, SETUP, shown.id)
    db.session.commit()
    assert db.session.get(Announcement, shown.id) is None


# ------------------------------------------------------------------ the admin pages


@pytest.fixture
def admin(make_user: Callable[..., User]) -> User:
    return make_user(name="Carla Admin", role="admin")


def _form(**overrides: str) -> dict[str, str]:
    return {
        "titulo": "Recadastramento",
        "texto": "Prazo até **sexta**.",
        "gravidade": "info",
        "publico": "all",
        "uf": "",
        "tipo": "",
        "ente": "",
        "ente_busca": "",
        "inicio": "",
        "termino": "",
        "acao": "salvar",
        **overrides,
    }


def _only(title: str) -> Announcement:
    found = db.session.scalar(select(Announcement).where(Announcement.title == title))
    assert found is not None
    return found


def test_an_admin_writes_publishes_withdraws_and_removes_and_every_step_is_audited(
    places: Any, admin: User, auth: AuthActions
) -> None:
    auth.login(admin)
    created = auth.post(
        f"{ADMIN}/novo",
        _form(publico="uf", uf="BA", inicio="01/03/2026 08:00", termino=""),
    )
    assert created.status_code == 302
    announcement = _only("Recadastramento")
    number = announcement.id
    edit = f"{ADMIN}/{number}/editar"
    assert created.headers["Location"] == edit
    assert (announcement.state, announcement.audience, announcement.audience_value) == (
        "draft",
        "uf",
        "BA",
    )
    assert announcement.starts_at == datetime(2026, 3, 1, 11, 0, tzinfo=UTC)
    assert announcement.created_by_id == admin.id
    page = _html(auth.client.get(edit))
    assert 'value="01/03/2026 08:00"' in page
    assert "<strong>sexta</strong>" in page  # the preview
    assert "Rascunho" in page

    saved = auth.post(edit, _form(titulo="Recadastramento 2026", publico="uf", uf="BA"))
    assert saved.status_code == 302
    assert auth.post(f"{ADMIN}/{number}/publicar", page=edit).status_code == 302
    listing = _html(auth.client.get(f"{ADMIN}/"))
    row = re.search(rf'<tr id="comunicado-{number}">.*?</tr>', listing, re.S)
    assert row
    for text in ("Recadastramento 2026", "Informação", "UF: BA", "Publicado", "No ar"):
        assert text in row.group(0)
    assert "Voltar para rascunho" in row.group(0)
    assert "/remover" not in row.group(0)  # published: not removable from the list

    back = auth.post(f"{ADMIN}/{number}/rascunho", {"de": "lista"}, page=f"{ADMIN}/")
    assert back.headers["Location"] == f"{ADMIN}/"
    confirm = _html(auth.client.get(f"{ADMIN}/{number}/remover"))
    assert "Remover comunicado" in confirm
    removed = auth.post(f"{ADMIN}/{number}/remover", page=f"{ADMIN}/")
    assert removed.headers["Location"] == f"{ADMIN}/"
    db.session.rollback()
    assert db.session.get(Announcement, number) is None

    entries = db.session.scalars(
        select(AuditEntry)
        .where(AuditEntry.object_type == "announcement", AuditEntry.object_id == number)
        .order_by(AuditEntry.id)
    ).all()
    assert [e.action for e in entries] == [
        "announcement.create",
        "announcement.update",
        "announcement.publish",
        "announcement.unpublish",
        "announcement.remove",
    ]
    assert all(e.actor_id == admin.id for e in entries)
    assert entries[1].before == {
        "title": "Recadastramento",
        "starts_at": entries[0].after["starts_at"],
    }
    assert entries[1].after["title"] == "Recadastramento 2026"
    assert entries[4].before["title"] == "Recadastramento 2026"


def test_a_refused_form_keeps_what_was_typed_and_ties_each_error_to_its_field(
    admin: User, auth: AuthActions
) -> None:
    auth.login(admin)
    response = auth.post(
        f"{ADMIN}/novo",
        _form(
            titulo="",
            texto="Meu texto digitado",
            publico="uf",
            inicio="10/03/2026 10:00",
            termino="09/03/2026 10:00",
        ),
    )
    assert response.status_code == 400
    html = _html(response)
    assert "Meu texto digitado" in html and 'value="10/03/2026 10:00"' in html
    for name in ("titulo", "uf", "termino"):
        assert re.search(rf'id="{name}"[^>]*aria-invalid="true"', html, re.S) or re.search(
            rf'id="{name}"[^>]*aria-describedby="[^"]*{name}-error', html
        ), name
        assert f'id="{name}-error"' in html
    bad_date = auth.post(f"{ADMIN}/novo", _form(inicio="31/02/2026 10:00", titulo=""))
    assert bad_date.status_code == 400
    assert 'id="inicio-error"' in _html(bad_date) and 'id="titulo-error"' in _html(bad_date)
    assert db.session.scalar(select(func.count()).select_from(Announcement)) == 0


def test_the_ente_is_picked_by_a_name_search_without_javascript(
    places: Any, admin: User, auth: AuthActions
) -> None:
    auth.login(admin)
    searched = auth.post(
        f"{ADMIN}/novo", _form(publico="organisation", ente_busca="recife", acao="buscar")
    )
    assert searched.status_code == 200
    html = _html(searched)
    assert f'<option value="{places.recife.id}">Prefeitura do Recife (PE)' in html
    assert "Prefeitura de Salvador" not in html
    assert db.session.scalar(select(func.count()).select_from(Announcement)) == 0
    created = auth.post(f"{ADMIN}/novo", _form(publico="organisation", ente=str(places.recife.id)))
    assert created.status_code == 302
    edit = _html(auth.client.get(created.headers["Location"]))
    assert f'<option value="{places.recife.id}" selected>' in edit
    listing = _html(auth.client.get(f"{ADMIN}/"))
    assert "Ente: Prefeitura do Recife" in listing


def test_preview_renders_the_typed_text_without_saving(admin: User, auth: AuthActions) -> None:
    auth.login(admin)
    response = auth.post(
        f"{ADMIN}/novo",
        _form(titulo="Prévia", texto="- um\n- dois", gravidade="critical", acao="previsualizar"),
    )
    assert response.status_code == 200
    html = _html(response)
    assert "Pré-visualização" in html and "<li>um</li>" in html
    assert db.session.scalar(select(func.count()).select_from(Announcement)) == 0


def test_the_list_pages_in_sql(
    places: Any, admin: User, auth: AuthActions, count_queries: Callable[[], Any]
) -> None:
    auth.login(admin)

    def statements_for_list() -> int:
        with count_queries() as statements:
            assert auth.client.get(f"{ADMIN}/").status_code == 200
        return len(statements)

    _published(title="Um", audience="organisation", organisation_id=places.recife.id)
    few = statements_for_list()
    for n in range(8):
        _published(title=f"Mais {n}", audience="organisation", organisation_id=places.salvador.id)
    assert statements_for_list() == few


@pytest.mark.parametrize("role", ["requester", "agent"])
def test_admin_pages_are_404_for_everyone_else(
    places: Any, make_user: Callable[..., User], auth: AuthActions, role: str
) -> None:
    existing = services.create_announcement(db.session, SETUP, AnnouncementFields(title="T"))
    db.session.commit()
    auth.login(make_user(name="Outra Pessoa", role=role))
    for path in ("/", "/novo", f"/{existing.id}/editar", f"/{existing.id}/remover"):
        assert auth.client.get(f"{ADMIN}{path}").status_code == 404, path
    for path in (
        "/novo",
        f"/{existing.id}/editar",
        f"/{existing.id}/publicar",
        f"/{existing.id}/remover",
    ):
        assert auth.post(f"{ADMIN}{path}", _form(), page="/perfil").status_code == 404, path
    db.session.rollback()
    assert db.session.get(Announcement, existing.id).state == "draft"
