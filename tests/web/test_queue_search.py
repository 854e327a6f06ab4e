"""The queue's "Número ou descrição" filter: a request number, or the full-text index of a
request's description, messages, notes and reasons (identical on SQLite and PostgreSQL)."""

from __future__ import annotations

import re

import pytest
from werkzeug.test import TestResponse

from portal.core.extensions import db
from portal.requests import services as request_service
from portal.requests.lifecycle import Action
from portal.requests.queue import QueueFilters, agent_queue
from tests.conftest import AuthActions

CADUNICO_VALUES = {"motivo": "Dúvida", "funcionalidade": "Consulta Pessoa"}


def _numbers(response: TestResponse) -> list[str]:
    assert response.status_code == 200
    return re.findall(r'<td><a href="/solicitacoes/(CS\d+)">', response.get_data(as_text=True))


@pytest.fixture
def cast(make_user):
    return {
        "felipe": make_user(name="Felipe Rodrigues"),
        "ana": make_user(name="Ana Atendente", role="agent", groups=["Suporte GERID"]),
        "bruno": make_user(name="Bruno Atendente", role="agent", groups=["Suporte CadÚnico"]),
    }


def _queue(auth: AuthActions, text: str) -> list[str]:
    return _numbers(auth.client.get("/atendimento", query_string={"texto": text}))


def test_a_word_of_an_internal_note_or_a_message_finds_the_request(
    auth: AuthActions, cast, make_request
) -> None:
    noted, messaged, other = (make_request(cast["felipe"]) for _ in range(3))
    request_service.add_note(
        db.session, noted, cast["ana"], "Impressora da unidade travada.", public=False
    )
    request_service.add_message(db.session, messaged, cast["felipe"], "O certificado expirou.")
    db.session.commit()
    auth.login(cast["ana"])
    assert _queue(auth, "impressora") == [noted.number]
    assert _queue(auth, "certificado") == [messaged.number]
    assert _queue(auth, "certificado impressora") == []  # every word is required
    assert other.number not in _queue(auth, "impressora")


def test_inflected_and_unaccented_words_find_the_description_and_reasons(
    auth: AuthActions, cast, make_request
) -> None:
    described = make_request(cast["felipe"], description="Não consigo acessar o Cadastro Único.")
    resolved = make_request(cast["felipe"], description="Outro pedido.")
    request_service.fire(db.session, resolved, Action.START, actor=cast["ana"])
    request_service.fire(
        db.session, resolved, Action.RESOLVE, actor=cast["ana"], reason="Perfil liberado."
    )
    db.session.commit()
    auth.login(cast["ana"])
    assert _queue(auth, "acesso unico") == [described.number]
    assert _queue(auth, "CADASTROS") == [described.number]
    # Whole words: a prefix would make a common one cost in proportion to the table.
    assert _queue(auth, "cadas") == []
    assert _numbers(
        auth.client.get(
            "/atendimento", query_string={"texto": "perfil liberados", "estado": "todos"}
        )
    ) == [resolved.number]


@pytest.mark.parametrize("typed", ["{number}", "{lower}", "cs{n}", "CS {n}", "{n}"])
def test_a_request_number_still_finds_it(auth: AuthActions, cast, make_request, typed: str) -> None:
    requests = [make_request(cast["felipe"]) for _ in range(3)]
    wanted = requests[1]
    n = int(wanted.number[2:])
    auth.login(cast["ana"])
    text = typed.format(number=wanted.number, lower=wanted.number.lower(), n=n)
    assert _queue(auth, text) == [wanted.number]


def test_another_groups_request_is_not_shown_even_when_its_text_matches(
    auth: AuthActions, cast, make_request
) -> None:
    mine = make_request(cast["felipe"], description="Tela branca ao entrar.")
    theirs = make_request(
        cast["felipe"],
        item="portal-rede-atendimento",
        values=CADUNICO_VALUES,
        description="Tela branca ao consultar.",
    )
    auth.login(cast["ana"])
    assert _queue(auth, "tela branca") == [mine.number]
    assert _queue(auth, theirs.number) == []
    auth.logout()
    auth.login(cast["bruno"])
    assert _queue(auth, "tela branca") == [theirs.number]


def test_text_without_a_searchable_word_finds_nothing(
    auth: AuthActions, cast, make_request
) -> None:
    make_request(cast["felipe"], description="Erro de acesso.")
    auth.login(cast["ana"])
    assert _queue(auth, "de") == []
    assert _queue(auth, "%") == []


def test_a_text_search_counts_only_two_pages_ahead(cast, make_request) -> None:
    for _ in range(13):
        make_request(cast["felipe"], description="Impressora travada.")
    make_request(cast["felipe"], description="Outro assunto.")
    page = agent_queue(db.session, cast["ana"], QueueFilters(text="impressoras"), per_page=1)
    assert (page.total, page.more) == (3, True)
    page = agent_queue(
        db.session, cast["ana"], QueueFilters(text="impressoras"), page=3, per_page=1
    )
    assert (page.total, page.more, page.page) == (5, True, 3)
    page = agent_queue(db.session, cast["ana"], QueueFilters(text="impressoras"), per_page=5)
    assert (page.total, page.more, len(page.rows)) == (13, False, 5)
    # Digits are a number, not a text search: they count ten pages ahead as other filters do.
    page = agent_queue(db.session, cast["ana"], QueueFilters(text="0"), per_page=1)
    assert (page.total, page.more) == (11, True)


def test_text_results_come_newest_first_by_number_and_page(
    auth: AuthActions, cast, make_request
) -> None:
    # The index drives a text search: the newest matches first (by number, the order in
    # which requests were opened), oldest first on request, and pages as the queue does.
    found = [make_request(cast["felipe"], description=f"Senha bloqueada {n}.") for n in range(23)]
    make_request(cast["felipe"], description="Outro assunto.")
    auth.login(cast["ana"])
    numbers = [r.number for r in found]
    first = _numbers(auth.client.get("/atendimento", query_string={"texto": "senhas"}))
    assert first == sorted(numbers, reverse=True)[:20]
    second = _numbers(
        auth.client.get("/atendimento", query_string={"texto": "senhas", "pagina": 2})
    )
    assert second == sorted(numbers, reverse=True)[20:]
    oldest = _numbers(
        auth.client.get("/atendimento", query_string={"texto": "senhas", "ordem": "antigas"})
    )
    assert oldest == sorted(numbers)[:20]
