"""Meus dados (LGPD, Lei 13.709/2018 art. 18, II): a person downloads the data the portal
keeps about them, as a ZIP of JSON files, a README.txt and the files they sent.

What is "theirs", precisely (and nothing of anybody else):
- their profile (never the password hash, the second factor's secret or session keys);
- the requests they opened or that were opened for them: number, form, state, dates, the
  description and the form answers; whether they opened it and whether it is for them, but
  never the other person's name;
- what they wrote on those requests and on the ones they follow: their own public messages,
  replies and reasons (never other people's messages, never internal notes: those are the
  support team's);
- the requests they follow: only number and form, the follow date (the rest of a followed
  request is the requester's);
- their sign-ins and failed sign-ins, and their sessions (dates, address, browser);
- the files they themselves attached to those requests, under anexos/.

The archive is built in a temporary file, reading each table in batches, so neither the
tables nor the files are ever held in memory whole.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import IO, Any
from zipfile import ZIP_DEFLATED, ZipFile
from zoneinfo import ZoneInfo

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import joinedload, lazyload, selectinload

from portal.accounts.models import ApiToken, SignInEvent, User, UserSession
from portal.accounts.policy import can_edit_profile
from portal.catalog.models import CatalogItem
from portal.core.actors import Actor
from portal.core.database import DbSession
from portal.core.errors import require
from portal.core.files import safe_filename
from portal.core.models import Attachment
from portal.core.storage import file_store
from portal.requests.lifecycle import Action, State
from portal.requests.models import (
    ENTRY_OWNER,
    EntryKind,
    Follower,
    ServiceRequest,
    TimelineEntry,
)
from portal.requests.presenter import answers

BATCH = 200
# The kinds of entry a person writes themselves; "Acompanhamento" and "Atribuição" entries
# name other people, and "Criado" holds nothing they typed.
OWN_KINDS = (EntryKind.COMMENT, EntryKind.NOTE, EntryKind.ATTACHMENT, EntryKind.TRANSITION)
SIGN_IN_OUTCOMES = {
    "success": "Entrada",
    "wrong_password": "Senha incorreta",
    "wrong_code": "Código de verificação incorreto",
    "throttled": "Bloqueada por excesso de tentativas",
    "inactive": "Conta desativada",
    "recovery_code": "Entrada com código de recuperação",
}

README = """Meus dados - Portal de Atendimento
=====================================

Este arquivo reúne os dados pessoais que o Portal de Atendimento guarda sobre você, como
prevê a Lei Geral de Proteção de Dados (Lei 13.709/2018, art. 18). Ele contém só os seus
dados: mensagens de outras pessoas, notas internas da equipe de atendimento e dados de
outros solicitantes não fazem parte dele. Datas e horas estão no fuso {tz}.

profile.json      Seu cadastro: nome, CPF, e-mails, telefones, ente, papel, situação da conta,
                  data de cadastro, último acesso e se a verificação em duas etapas está
                  ativada. A senha e o segredo da verificação nunca saem do portal.
requests.json     As solicitações que você abriu ou que foram abertas para você: número,
                  formulário, situação, datas, descrição e respostas do formulário.
                  "aberta_por_voce" e "para_voce" dizem a sua relação com cada uma.
messages.json     O que você escreveu nas suas solicitações e nas que acompanha: mensagens,
                  respostas e justificativas visíveis ao solicitante.
follows.json      As solicitações que você acompanha: só o número, o formulário e desde
                  quando (o restante pertence a quem a abriu).
sign_ins.json     Suas entradas no portal e tentativas sem sucesso: data, resultado,
                  endereço de rede e navegador.
sessions.json     Suas sessões: quando começaram, quando foram usadas pela última vez,
                  quando terminaram, endereço de rede e navegador.
tokens.json       Seus tokens de acesso à API: nome, escopo, criação, validade, último uso e
                  revogação (o token em si não é guardado pelo portal, só o seu resumo).
attachments.json  Os arquivos que você anexou às solicitações, com a solicitação e o nome
                  de cada um dentro da pasta anexos/.
anexos/           Os próprios arquivos, numa pasta por solicitação.

Para corrigir um dado, use a página Perfil ou fale com a administração do portal. Para
pedir a eliminação dos seus dados, fale com a administração do portal.
"""


class _Dates:
    """Datetimes as ISO 8601 in the portal's time zone (what a person reads)."""

    def __init__(self, tz: str) -> None:
        self.zone = ZoneInfo(tz)

    def __call__(self, value: datetime | None) -> str | None:
        return None if value is None else value.astimezone(self.zone).isoformat(timespec="seconds")


def _write_json_list(archive: ZipFile, name: str, items: Iterable[dict[str, Any]]) -> int:
    """A JSON array written item by item into the archive."""
    count = 0
    with archive.open(name, "w") as out:
        out.write(b"[")
        for item in items:
            out.write(b",\n" if count else b"\n")
            out.write(json.dumps(item, ensure_ascii=False, indent=2).encode())
            count += 1
        out.write(b"\n]\n")
    return count


def _in_batches(session: DbSession, query: Select[Any]) -> Iterator[Any]:
    yield from session.scalars(query.execution_options(yield_per=BATCH))


def _profile(user: User, when: _Dates) -> dict[str, Any]:
    return {
        "nome": user.full_name,
        "cpf": user.cpf,
        "email": user.email,
        "email_particular": user.personal_email,
        "telefone": user.phone,
        "telefone_adicional": user.extra_phone,
        "ente": user.organisation.display_name,
        "papel": user.role.label,
        "grupos": sorted(g.name for g in user.groups),
        "ativo": user.active,
        "cadastrado_em": when(user.created_at),
        "ultimo_acesso_em": when(user.last_login_at),
        "verificacao_em_duas_etapas_desde": when(user.totp_enabled_at),
    }


def _mine(user: User) -> Any:
    return or_(ServiceRequest.opened_by_id == user.id, ServiceRequest.requested_for_id == user.id)


def _followed_ids(user: User) -> Select[Any]:
    return select(Follower.request_id).where(Follower.user_id == user.id)


def _requests(session: DbSession, user: User, when: _Dates) -> Iterator[dict[str, Any]]:
    query = (
        select(ServiceRequest)
        .where(_mine(user))
        .order_by(ServiceRequest.opened_at, ServiceRequest.id)
        .options(
            joinedload(ServiceRequest.item),
            selectinload(ServiceRequest.form_version),
            lazyload(ServiceRequest.opened_by),
            lazyload(ServiceRequest.requested_for),
            lazyload(ServiceRequest.assignee),
            lazyload(ServiceRequest.organisation),
            lazyload(ServiceRequest.group),
        )
    )
    for req in _in_batches(session, query):
        opened_by_you = req.opened_by_id == user.id
        yield {
            "numero": req.number,
            "formulario": req.item.name,
            "situacao": State(req.state).label,
            "aberta_por_voce": opened_by_you,
            "para_voce": req.requested_for_id == user.id,
            "aberta_em": when(req.opened_at),
            "atualizada_em": when(req.updated_at),
            "resolvida_em": when(req.resolved_at),
            "encerrada_em": when(req.closed_at),
            "descricao": req.description,
            "respostas": [{"campo": label, "resposta": value} for label, value in answers(req)],
            "telefone_de_contato": req.extra_phone if opened_by_you else None,
        }


def _scope(user: User) -> Any:
    """The requests whose own entries and files are exported: theirs and the ones they follow."""
    return or_(_mine(user), ServiceRequest.id.in_(_followed_ids(user)))


def _messages(session: DbSession, user: User, when: _Dates) -> Iterator[dict[str, Any]]:
    query = (
        select(
            TimelineEntry.kind,
            TimelineEntry.action,
            TimelineEntry.body,
            TimelineEntry.created_at,
            ServiceRequest.number,
        )
        .join(ServiceRequest, ServiceRequest.id == TimelineEntry.request_id)
        .where(
            TimelineEntry.author_id == user.id,
            TimelineEntry.public,
            TimelineEntry.kind.in_(OWN_KINDS),
            _scope(user),
        )
        .order_by(TimelineEntry.created_at, TimelineEntry.id)
        .execution_options(yield_per=BATCH)
    )
    for kind, action, body, created_at, number in session.execute(query):
        if kind is EntryKind.TRANSITION:
            label = Action(action).label if action else ""
            text = "" if body == label else body
            if not text and not label:
                continue
            yield {"solicitacao": number, "em": when(created_at), "acao": label, "texto": text}
        elif body or kind is EntryKind.ATTACHMENT:
            yield {"solicitacao": number, "em": when(created_at), "acao": None, "texto": body}


def _follows(session: DbSession, user: User, when: _Dates) -> Iterator[dict[str, Any]]:
    query = (
        select(ServiceRequest.number, CatalogItem.name, Follower.created_at)
        .join(Follower, Follower.request_id == ServiceRequest.id)
        .join(CatalogItem, CatalogItem.id == ServiceRequest.item_id)
        .where(Follower.user_id == user.id)
        .order_by(Follower.created_at, ServiceRequest.id)
        .execution_options(yield_per=BATCH)
    )
    for number, item_name, since in session.execute(query):
        yield {"numero": number, "formulario": item_name, "acompanha_desde": when(since)}


def _sign_ins(session: DbSession, user: User, when: _Dates) -> Iterator[dict[str, Any]]:
    query = select(SignInEvent).where(SignInEvent.user_id == user.id)
    for event in _in_batches(session, query.order_by(SignInEvent.at, SignInEvent.id)):
        yield {
            "em": when(event.at),
            "resultado": SIGN_IN_OUTCOMES.get(event.outcome, event.outcome),
            "endereco": event.address,
            "navegador": event.user_agent,
        }


def _sessions(session: DbSession, user: User, when: _Dates) -> Iterator[dict[str, Any]]:
    query = select(UserSession).where(UserSession.user_id == user.id)
    for row in _in_batches(session, query.order_by(UserSession.created_at, UserSession.id)):
        yield {
            "inicio": when(row.created_at),
            "ultimo_uso": when(row.last_seen_at),
            "fim": when(row.ended_at),
            "endereco": row.address,
            "navegador": row.user_agent,
        }


def _tokens(session: DbSession, user: User, when: _Dates) -> Iterator[dict[str, Any]]:
    query = select(ApiToken).where(ApiToken.user_id == user.id)
    for token in _in_batches(session, query.order_by(ApiToken.created_at, ApiToken.id)):
        yield {
            "nome": token.name,
            "inicio": f"{token.prefix}…",
            "escopo": token.scopes,
            "criado_em": when(token.created_at),
            "valido_ate": when(token.expires_at),
            "ultimo_uso": when(token.last_used_at),
            "revogado_em": when(token.revoked_at),
        }


def _own_files(session: DbSession, user: User) -> Iterator[tuple[Attachment, str]]:
    """The files the person attached to public entries of requests in their scope."""
    query = (
        select(Attachment, ServiceRequest.number)
        .join(
            TimelineEntry,
            (Attachment.owner_type == ENTRY_OWNER) & (Attachment.owner_id == TimelineEntry.id),
        )
        .join(ServiceRequest, ServiceRequest.id == TimelineEntry.request_id)
        .where(Attachment.uploader_id == user.id, TimelineEntry.public, _scope(user))
        .order_by(Attachment.created_at, Attachment.id)
        .options(lazyload(Attachment.uploader))
        .execution_options(yield_per=BATCH)
    )
    for row in session.execute(query):
        yield row[0], row[1]


def _attachments(
    session: DbSession, user: User, archive: ZipFile, when: _Dates
) -> Iterator[dict[str, Any]]:
    store = file_store()
    for attachment, number in _own_files(session, user):
        path = f"anexos/{number}/{attachment.id}-{safe_filename(attachment.original_name)}"
        try:
            source = store.open(attachment.stored_name)
        except (FileNotFoundError, ValueError):
            path = ""  # listed, but its bytes are gone from the store
        else:
            with source, archive.open(path, "w") as out:
                shutil.copyfileobj(source, out, 1024 * 1024)
        yield {
            "solicitacao": number,
            "nome": attachment.original_name,
            "arquivo": path or None,
            "tamanho_bytes": attachment.size,
            "tipo": attachment.content_type,
            "enviado_em": when(attachment.created_at),
        }


def build_export(session: DbSession, actor: Actor, user: User, *, tz: str) -> IO[bytes]:
    """The person's data as a ZIP in a temporary file, positioned at its start; the caller
    sends it and closes it (closing deletes it). Only the person may export their data."""
    require(can_edit_profile(actor, user))
    when = _Dates(tz)
    out = tempfile.TemporaryFile()  # noqa: SIM115  (closed by the response that sends it)
    try:
        with ZipFile(out, "w", compression=ZIP_DEFLATED) as archive:
            archive.writestr("README.txt", README.format(tz=tz))
            archive.writestr(
                "profile.json", json.dumps(_profile(user, when), ensure_ascii=False, indent=2)
            )
            _write_json_list(archive, "requests.json", _requests(session, user, when))
            _write_json_list(archive, "messages.json", _messages(session, user, when))
            _write_json_list(archive, "follows.json", _follows(session, user, when))
            _write_json_list(archive, "sign_ins.json", _sign_ins(session, user, when))
            _write_json_list(archive, "sessions.json", _sessions(session, user, when))
            _write_json_list(archive, "tokens.json", _tokens(session, user, when))
            # The files are written while their list is: two open members at once is not
            # allowed, so the list is kept (small rows) and written after.
            listed = list(_attachments(session, user, archive, when))
            _write_json_list(archive, "attachments.json", listed)
    except BaseException:
        out.close()
        raise
    out.seek(0)
    return out
