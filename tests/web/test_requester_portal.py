"""The requester portal through the Flask test client: catalog, form, lists, request page."""

from __future__ import annotations

import io
import re

from werkzeug.test import TestResponse

from portal.core.extensions import db
from portal.core.outbox import deliver_pending
from portal.core.timeutil import utcnow
from portal.models import Attachment, PendingUpload, ServiceRequest
from portal.requests import policy
from portal.requests import services as request_service
from portal.requests.lifecycle import Action, State
from tests.conftest import AuthActions
from tests.files import SVG, pdf_bytes, png_bytes

XSS = '"><svg onload=alert(1)>'


def _html(response: TestResponse) -> str:
    return response.get_data(as_text=True)


def _form(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "motivo": "Problema de acesso",
        "funcionalidade": "Acesso",
        "description": "Usuário não consegue entrar.",
    }
    data.update(overrides)
    return data


# ------------------------------------------------------------------ the catalog


def test_catalog_lists_the_tree_with_items(auth: AuthActions, make_user, catalog) -> None:
    auth.login(make_user())
    html = _html(auth.client.get("/catalogo"))
    for text in (
        "Todos os Catálogos",
        "SERVIÇOS MULTICLIENTE",
        "ACESSO MULTICLIENTE",
        "MCID",
        "CADÚNICO",
        "GERID",
        "Gerenciamento de Identidade",
        "Portal Rede Atendimento",
    ):
        assert text in html


# ------------------------------------------------------------------ the form


def test_form_shows_the_tutorial_fields(auth: AuthActions, make_user, catalog) -> None:
    me = make_user(name="Felipe Rodrigues", phone="(71) 3202-0000")
    auth.login(me)
    html = _html(auth.client.get("/catalogo/gerid"))
    for text in (
        "GERID - Gerenciamento de Identidade",
        "Indica campo obrigatório",
        "Requisitado para",
        "E-mail",
        "Quem pode acompanhar esta solicitação?",
        "Telefone",
        "Telefone Adicional",
        "Motivo",
        "Módulo",
        "Funcionalidade",
        "Descrição",
        "Adicionar anexos",
        "Enviar",
        "Informações necessárias",
        "-- Nenhum(a) --",
        "SERVIÇOS MULTICLIENTE",
        "ACESSO MULTICLIENTE",
    ):
        assert text in html, text
    assert 'value="Gestão de usuários" readonly' in html
    assert (
        f'<option value="{me.id}" data-email="{me.email}" data-phone="(71) 3202-0000" selected>'
        in html
    )
    missing = re.search(r'<ul role="list" id="missing-list">(.*?)</ul>', html, re.S).group(1)
    assert re.findall(r"<li>([^<]+)</li>", missing) == ["Motivo", "Funcionalidade", "Descrição"]


def test_portal_form_has_its_functions_and_symptoms(auth: AuthActions, make_user, catalog) -> None:
    auth.login(make_user())
    html = _html(auth.client.get("/catalogo/portal-rede-atendimento"))
    for text in (
        "Portal Atendimento - Consultas",
        "Login do Usuário",
        "Consulta Família por Tipo de Ocorrência",
        "Sintoma",
        "Lento",
        "Indisponível",
        "Inconsistente",
    ):
        assert text in html


def test_sending_the_form_opens_the_request_and_emails_it(
    auth: AuthActions, make_user, catalog, smtp_server
) -> None:
    me, colleague = make_user(name="Felipe Rodrigues"), make_user(name="Ellem Saraiva")
    auth.login(me)
    response = auth.post(
        "/catalogo/gerid", _form(followers=[str(colleague.id)], extra_phone="71 99999-8888")
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/solicitacoes/CS0000001"
    page = _html(auth.client.get("/solicitacoes/CS0000001"))
    assert "Solicitação CS0000001 registrada." in page
    assert "CS0000001 Criado" in page and "Aberto" in page and "Ellem Saraiva" in page
    request = db.session.query(ServiceRequest).one()
    assert request.extra_phone == "(71) 99999-8888"
    deliver_pending(db.session)
    for person in (me, colleague):
        [mail] = smtp_server.to(person.email)
        body = mail.get_body(preferencelist=("plain",)).get_content()
        assert (
            "CS0000001" in mail["Subject"] and "http://portal.test/solicitacoes/CS0000001" in body
        )


def test_requested_for_can_be_a_colleague_but_not_an_outsider(
    auth: AuthActions, make_user, make_org, catalog
) -> None:
    me, colleague = make_user(), make_user(name="Colega")
    outsider = make_user(name="De Fora", organisation=make_org(name="Outra Prefeitura"))
    auth.login(me)
    forged = auth.post(
        "/catalogo/gerid", _form(requested_for=str(outsider.id)), page="/catalogo/gerid"
    )
    assert forged.status_code == 400
    assert "Escolha um usuário do seu ente." in _html(forged)
    assert "De Fora" not in _html(forged)  # outsiders are not even offered
    forged_follower = auth.post("/catalogo/gerid", _form(followers=[str(outsider.id)]))
    assert "Só é possível indicar usuários do seu ente." in _html(forged_follower)
    assert db.session.query(ServiceRequest).count() == 0
    ok = auth.post("/catalogo/gerid", _form(requested_for=str(colleague.id)))
    assert ok.status_code == 302
    assert db.session.query(ServiceRequest).one().requested_for_id == colleague.id


def test_failed_submit_keeps_what_was_typed_and_the_accepted_files(
    auth: AuthActions, make_user, catalog
) -> None:
    me = make_user()
    auth.login(me)
    data = _form(
        description="",
        extra_phone="123",
        motivo="Dúvida",
        attachments=[
            (io.BytesIO(png_bytes()), "print da tela.png"),
            (io.BytesIO(SVG), "desenho.svg"),
        ],
    )
    response = auth.post("/catalogo/gerid", data, content_type="multipart/form-data")
    html = _html(response)
    assert response.status_code == 400
    assert '<option value="Dúvida" selected>' in html
    assert "Telefone inválido" in html and 'value="123"' in html
    assert "O campo “Descrição” é obrigatório." in html
    assert "desenho.svg" in html and "não é de um tipo permitido" in html
    assert "print da tela.png" in html
    tokens = re.findall(r'name="upload_tokens" value="([0-9a-f]+)"', html)
    assert len(tokens) == 1
    again = auth.post("/catalogo/gerid", _form(upload_tokens=tokens))
    assert again.status_code == 302
    [attachment] = db.session.query(Attachment).all()
    assert (
        attachment.original_name == "print da tela.png" and attachment.content_type == "image/png"
    )
    assert db.session.query(PendingUpload).count() == 0


def test_someone_elses_upload_token_attaches_nothing(auth: AuthActions, make_user, catalog) -> None:
    owner, thief = make_user(), make_user(name="Outra Pessoa")
    auth.login(owner)
    html = _html(
        auth.post(
            "/catalogo/gerid",
            _form(description="", attachments=[(io.BytesIO(pdf_bytes()), "sigiloso.pdf")]),
            content_type="multipart/form-data",
        )
    )
    token = re.search(r'name="upload_tokens" value="([0-9a-f]+)"', html).group(1)
    auth.logout()
    auth.login(thief)
    assert auth.post("/catalogo/gerid", _form(upload_tokens=[token])).status_code == 302
    assert db.session.query(Attachment).count() == 0


def test_oversized_file_is_named_in_the_message(app, auth: AuthActions, make_user, catalog) -> None:
    app.config["MAX_UPLOAD_BYTES"] = 1024
    auth.login(make_user())
    big = pdf_bytes() + b"0" * 2048
    html = _html(
        auth.post(
            "/catalogo/gerid",
            _form(attachments=[(io.BytesIO(big), "grande.pdf")]),
            content_type="multipart/form-data",
        )
    )
    assert "O arquivo “grande.pdf” é maior que o limite" in html
    assert db.session.query(ServiceRequest).count() == 0


# ------------------------------------------------------------------ lists


def test_my_requests_and_my_follows(auth: AuthActions, make_user, make_request) -> None:
    me, colleague, stranger = make_user(), make_user(name="Colega"), make_user(name="Estranho")
    opened = make_request(me)
    for_me = make_request(colleague, requested_for=me)
    followed = make_request(colleague, followers=[me])
    hidden = make_request(stranger)
    auth.login(me)
    mine = _html(auth.client.get("/solicitacoes"))
    assert opened.number in mine and for_me.number in mine
    assert followed.number not in mine and hidden.number not in mine
    follows = _html(auth.client.get("/acompanhamentos"))
    assert followed.number in follows
    assert opened.number not in follows and hidden.number not in follows
    for header in (
        "Número",
        "Serviço Cliente",
        "Estado",
        "Aberto em",
        "Resolvido em",
        "Encerrado em",
    ):
        assert header in mine


def test_pagination_with_filters_in_sql(auth: AuthActions, make_user, make_request) -> None:
    me, agent = make_user(), make_user(name="Agente", role="agent")
    created = [make_request(me) for _ in range(25)]
    for request in created[:3]:
        request_service.fire(db.session, request, Action.START, actor=agent)
    db.session.commit()
    auth.login(me)
    first = _html(auth.client.get("/solicitacoes"))
    assert "Linhas 1 - 20 de 25" in first
    assert first.index("CS0000025") < first.index("CS0000024")  # newest first
    second = _html(auth.client.get("/solicitacoes?pagina=2"))
    assert "Linhas 21 - 25 de 25" in second and "CS0000001" in second
    filtered = _html(auth.client.get("/solicitacoes?estado=in_progress"))
    assert "Linhas 1 - 3 de 3" in filtered and "CS0000004" not in filtered
    partial = _html(auth.client.get("/solicitacoes?numero=0001"))
    assert "Linhas 1 - 11 de 11" in partial  # CS0000001 and CS0000010..19
    paged = _html(auth.client.get("/solicitacoes?numero=00000&ordem=numero&dir=asc"))
    next_link = re.search(r'href="([^"]+)" rel="next"', paged).group(1).replace("&amp;", "&")
    assert "numero=00000" in next_link and "ordem=numero" in next_link and "dir=asc" in next_link
    assert "Linhas 21 - 25 de 25" in _html(auth.client.get(next_link))
    ascending = _html(auth.client.get("/solicitacoes?ordem=numero&dir=asc"))
    assert ascending.index("CS0000001") < ascending.index("CS0000002")


def test_list_pages_use_a_bounded_number_of_queries(
    auth: AuthActions, make_user, make_request, count_queries
) -> None:
    me = make_user()
    auth.login(me)

    def queries_for(path: str) -> int:
        with count_queries() as statements:
            assert auth.client.get(path).status_code == 200
        return len(statements)

    make_request(me)
    few = {
        p: queries_for(p) for p in ("/solicitacoes", "/acompanhamentos", "/solicitacoes/CS0000001")
    }
    for _ in range(19):
        make_request(me, followers=[make_user(name="Seguidor")])
    request = db.session.get(ServiceRequest, 1)
    for i in range(15):
        request_service.add_message(db.session, request, me, f"mensagem {i}")
    db.session.commit()
    many = {p: queries_for(p) for p in few}
    assert many == few
    assert max(many.values()) <= 12


# ------------------------------------------------------------------ the request page


def test_outsiders_get_404_everywhere(auth: AuthActions, make_user, make_request) -> None:
    owner, outsider = make_user(), make_user(name="Curioso")
    request = make_request(owner)
    request_service.add_message(db.session, request, owner, "com anexo", [])
    db.session.commit()
    auth.login(outsider)
    base = f"/solicitacoes/{request.number}"
    assert auth.client.get(base).status_code == 404
    assert auth.client.get(f"{base}/anexos/1").status_code == 404
    token = auth.csrf("/")
    for path in (
        f"{base}/mensagem",
        f"{base}/acoes/requester_cancel",
        f"{base}/acompanhantes",
        f"{base}/acompanhantes/{owner.id}/remover",
    ):
        response = auth.client.post(
            path, data={"csrf_token": token, "body": "x", "reason": "x", "user_id": outsider.id}
        )
        assert response.status_code == 404, path
    db.session.expire_all()
    assert request.state == State.OPEN.value
    assert policy.can_view(outsider, request) is False


def test_posting_without_csrf_is_refused(auth: AuthActions, make_user, make_request) -> None:
    me = make_user()
    request = make_request(me)
    auth.login(me)
    response = auth.client.post(f"/solicitacoes/{request.number}/mensagem", data={"body": "oi"})
    assert response.status_code == 400
    assert "Digite sua mensagem" not in _html(response)


def test_message_with_attachment_and_download_headers(
    auth: AuthActions, make_user, make_request
) -> None:
    me = make_user(name="Felipe Rodrigues")
    request = make_request(me)
    auth.login(me)
    path = f"/solicitacoes/{request.number}"
    response = auth.post(
        f"{path}/mensagem",
        {
            "body": "linha 1\nlinha 2",
            "attachments": [(io.BytesIO(png_bytes()), "Questionário.png")],
        },
        page=path,
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    html = _html(auth.client.get(path))
    assert "Comentários adicionais" in html and "linha 1\nlinha 2" in html
    assert "Questionário.png" in html and "agora mesmo" in html
    link = re.search(r'href="(/solicitacoes/CS0000001/anexos/\d+)"', html).group(1)
    with auth.client.get(link) as download:
        assert download.data == png_bytes()
        assert download.headers["Content-Disposition"].startswith("attachment")
        assert download.headers["X-Content-Type-Options"] == "nosniff"
        assert "sandbox" in download.headers["Content-Security-Policy"]
    other = make_request(me)
    wrong_request = link.replace(request.number, other.number)
    assert auth.client.get(wrong_request).status_code == 404  # id must belong to the URL's request


def test_user_text_is_never_rendered_as_html(auth: AuthActions, make_user, make_request) -> None:
    me = make_user(name=f"Nome {XSS}")
    request = make_request(me, description=f"Descrição {XSS}")
    request_service.add_message(db.session, request, me, f"Mensagem {XSS}")
    db.session.commit()
    auth.login(me)
    path = f"/solicitacoes/{request.number}"
    files = {"attachments": [(io.BytesIO(png_bytes()), f"{XSS}.png")]}
    auth.post(f"{path}/mensagem", files, page=path, content_type="multipart/form-data")
    html = _html(auth.client.get(path))
    assert html.count("&lt;svg onload=alert(1)&gt;") >= 5  # name, description, message, file x2
    assert "<svg onload" not in html
    assert "&lt;svg onload=alert(1)&gt;" in html


def test_follower_reads_and_writes_but_cannot_accept(
    auth: AuthActions, make_user, make_request
) -> None:
    owner, follower = make_user(), make_user(name="Ellem Saraiva")
    agent = make_user(name="Agente", role="agent")
    request = make_request(owner, followers=[follower])
    request_service.fire(db.session, request, Action.START, actor=agent)
    request_service.fire(db.session, request, Action.RESOLVE, actor=agent, reason="Feito")
    db.session.commit()
    auth.login(follower)
    path = f"/solicitacoes/{request.number}"
    html = _html(auth.client.get(path))
    assert "Aceitar Solução" not in html
    assert (
        auth.post(f"{path}/mensagem", {"body": "Também vi o problema"}, page=path).status_code
        == 302
    )
    auth.post(f"{path}/acoes/accept", {"version": request.version}, page=path)
    db.session.expire_all()
    assert request.state == State.AWAITING_USER.value


def test_accept_and_reject(auth: AuthActions, make_user, make_request) -> None:
    me, agent = make_user(), make_user(name="Agente", role="agent")
    request = make_request(me)
    request_service.fire(db.session, request, Action.START, actor=agent)
    request_service.fire(db.session, request, Action.RESOLVE, actor=agent, reason="Feito")
    db.session.commit()
    auth.login(me)
    path = f"/solicitacoes/{request.number}"
    html = _html(auth.client.get(path))
    assert "Aceitar Solução" in html and "Rejeitar Solução" in html
    assert "será fechada automaticamente" in html
    no_reason = auth.post(
        f"{path}/acoes/reject", {"version": request.version, "reason": " "}, page=path
    )
    assert "obrigatório" in _html(auth.client.get(no_reason.headers["Location"]))
    auth.post(
        f"{path}/acoes/reject", {"version": request.version, "reason": "Ainda falha"}, page=path
    )
    html = _html(auth.client.get(path))
    assert "Você rejeitou esta solução" in html and "Ainda falha" in html
    db.session.expire_all()
    assert request.state == State.IN_PROGRESS.value and request.resolved_at is None
    assert "Pedir Cancelamento" in html
    request_service.fire(db.session, request, Action.RESOLVE, actor=agent, reason="Agora sim")
    db.session.commit()
    auth.post(f"{path}/acoes/accept", {"version": request.version}, page=path)
    html = _html(auth.client.get(path))
    assert "Você aceitou esta solução" in html and "Fechado" in html
    assert "não recebe mais mensagens" in html and "Digite sua mensagem aqui..." not in html


def test_stale_page_action_is_refused(auth: AuthActions, make_user, make_request) -> None:
    me, agent = make_user(), make_user(name="Agente", role="agent")
    request = make_request(me)
    seen = request.version
    auth.login(me)
    request_service.fire(db.session, request, Action.START, actor=agent)
    db.session.commit()
    path = f"/solicitacoes/{request.number}"
    response = auth.post(
        f"{path}/acoes/request_cancel", {"version": seen, "reason": "x"}, page=path
    )
    assert "alterada por outra pessoa" in _html(auth.client.get(response.headers["Location"]))
    db.session.expire_all()
    assert request.cancellation_requested is False


def test_cancel_while_open_with_a_reason(auth: AuthActions, make_user, make_request) -> None:
    me = make_user()
    request = make_request(me)
    auth.login(me)
    path = f"/solicitacoes/{request.number}"
    html = _html(auth.client.get(path))
    assert "Cancelar Solicitação" in html and "Motivo do Cancelamento" in html
    auth.post(
        f"{path}/acoes/requester_cancel",
        {"version": request.version, "reason": "Duplicada"},
        page=path,
    )
    html = _html(auth.client.get(path))
    assert "Motivo do Cancelamento:\nDuplicada" in html and "Cancelado" in html
    blocked = auth.post(f"{path}/mensagem", {"body": "ainda aí?"}, page="/")
    assert blocked.status_code == 400 and "não recebe mais mensagens" in _html(blocked)


def test_followers_added_from_my_organisation_and_removed_by_the_opener(
    auth: AuthActions, make_user, make_org, make_request
) -> None:
    me, colleague = make_user(), make_user(name="Colega Próxima")
    outsider = make_user(name="De Fora", organisation=make_org(name="Outra"))
    request = make_request(me)
    auth.login(me)
    path = f"/solicitacoes/{request.number}"
    html = _html(auth.client.get(path))
    assert "Nenhum outro usuário está acompanhando esta solicitação" in html
    assert "Procurar pelo nome" in html and "De Fora" not in html
    auth.post(f"{path}/acompanhantes", {"user_id": outsider.id}, page=path)
    auth.post(f"{path}/acompanhantes", {"user_id": colleague.id}, page=path)
    db.session.expire_all()
    assert [f.user_id for f in request.followers] == [colleague.id]
    auth.post(f"{path}/acompanhantes/{colleague.id}/remover", page=path)
    db.session.expire_all()
    assert request.followers == []


def test_badge_counts_only_my_open_requests(auth: AuthActions, make_user, make_request) -> None:
    me, other = make_user(), make_user(name="Outra")
    make_request(me)
    make_request(me)
    closed = make_request(me)
    request_service.fire(db.session, closed, Action.REQUESTER_CANCEL, actor=me, reason="x")
    make_request(other, followers=[me])
    db.session.commit()
    auth.login(me)
    html = _html(auth.client.get("/solicitacoes"))
    assert re.search(r'data-badge="open-requests"[^>]*>\s*2\s*<', html)


def test_home_shows_announcement_my_counts_and_popular_items(
    auth: AuthActions, make_user, make_org, make_request
) -> None:
    from portal.models import Announcement

    db.session.add(
        Announcement(
            title="Manutenção programada",
            body="Sábado, das 8h às 12h.",
            state="published",
            published_at=utcnow(),
        )
    )
    me, colleague = make_user(), make_user(name="Colega")
    outsider = make_user(name="De Fora", organisation=make_org(name="Outra"))
    make_request(me)
    make_request(me)
    cancelled = make_request(
        me,
        item="portal-rede-atendimento",
        values={"motivo": "Dúvida", "funcionalidade": "Consulta Pessoa"},
    )
    request_service.fire(db.session, cancelled, Action.REQUESTER_CANCEL, actor=me, reason="x")
    for _ in range(3):
        make_request(colleague, item="pronto-cliente", values={"motivo": "Dúvida"})
    for _ in range(5):
        make_request(
            outsider,
            item="portal-rede-atendimento",
            values={"motivo": "Dúvida", "funcionalidade": "Consulta Pessoa"},
        )
    db.session.commit()
    auth.login(me)
    html = _html(auth.client.get("/"))
    for text in (
        "Base de Conhecimento",
        "Navegue e pesquise artigos, avalie ou envie feedback.",
        "Catálogo",
        "Entre em contato com o suporte abrindo uma solicitação.",
        "Manutenção programada",
        "Sábado, das 8h às 12h.",
        "Itens Populares",
        "Exibir Detalhes",
    ):
        assert text in html
    counts = re.findall(r'count-number">(\d+)</span> <span class="count-label">([^<]+)<', html)
    assert ("2", "GERID - Aberto") in counts
    assert ("1", "Portal Rede Atendimento - Cancelado") in counts
    popular = re.findall(r"<h3>([^<]+)</h3>", html.split("Itens Populares", 1)[1])
    assert popular[:2] == ["Pronto Cliente", "GERID"]  # my organisation's usage, not others'


def test_refused_access_is_logged(auth: AuthActions, make_user, make_request, caplog) -> None:
    import logging

    owner, outsider = make_user(), make_user(name="Curioso")
    request = make_request(owner)
    auth.login(outsider)
    with caplog.at_level(logging.INFO, logger="portal.security"):
        assert auth.client.get(f"/solicitacoes/{request.number}").status_code == 404
    [record] = [r for r in caplog.records if r.name == "portal.security"]
    assert f"/solicitacoes/{request.number}" in record.getMessage()
    assert f"user={outsider.id}" in record.getMessage()
    assert outsider.cpf not in record.getMessage()


def test_too_large_upload_gets_a_clear_page(app, auth: AuthActions, make_user, catalog) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 2048
    auth.login(make_user())
    big = _form(attachments=[(io.BytesIO(pdf_bytes() + b"0" * 4096), "enorme.pdf")])
    response = auth.post("/catalogo/gerid", big, content_type="multipart/form-data")
    assert response.status_code == 413
    assert "maior que o limite permitido" in _html(response)


def test_request_page_joins_people_flat(
    auth: AuthActions, make_user, make_request, count_queries
) -> None:
    """A nested "(users JOIN organisations)" under an outer join made SQLite scan both tables
    on every request page (265 ms at 100,000 requests); the joins must stay flat."""
    owner = make_user(name="Dona")
    request = make_request(owner)
    auth.login(owner)
    with count_queries() as statements:
        assert auth.client.get(f"/solicitacoes/{request.number}").status_code == 200
    assert statements
    assert not [s for s in statements if "JOIN (users" in s]


def test_a_signed_in_page_reads_the_user_and_the_badge_in_one_statement(
    auth: AuthActions, make_user, make_request, count_queries
) -> None:
    """Plus one for the critical Comunicados' banner (portal.home.banner), the only other
    statement every signed-in page sends."""
    me = make_user()
    make_request(me)
    make_request(me)
    auth.login(me)
    with count_queries() as statements:
        html = _html(auth.client.get("/acessibilidade"))  # a page that reads nothing else
    assert re.search(r'data-badge="open-requests"[^>]*>\s*2\s*<', html)
    sent = [s for s in statements if not s.lstrip().upper().startswith("BEGIN")]
    assert len(sent) == 2
    assert "session_token" in sent[0] and "party_counts" in sent[0]
    assert "FROM announcements" in sent[1]


def test_message_files_show_on_their_entry_in_upload_order(
    auth: AuthActions, make_user, make_request
) -> None:
    me = make_user()
    request = make_request(me)
    auth.login(me)
    path = f"/solicitacoes/{request.number}"
    files = [(io.BytesIO(pdf_bytes()), "primeiro.pdf"), (io.BytesIO(png_bytes()), "segundo.png")]
    response = auth.post(
        f"{path}/mensagem",
        {"body": "Seguem os arquivos", "attachments": files},
        page=path,
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    html = _html(auth.client.get(path))
    entry = re.search(r'<li class="timeline-entry kind-comment".*?</li>\s*</ul>', html, re.S)
    assert entry and "Seguem os arquivos" in entry.group(0)
    assert re.findall(r"</i> (\S+\.(?:pdf|png))</a>", entry.group(0)) == [
        "primeiro.pdf",
        "segundo.png",
    ]
    side = html[html.index('id="attachments-title"') :]
    assert "primeiro.pdf" in side and "segundo.png" in side
