"""The Base de Conhecimento and the full-text indexes of a bench database.

`generate.py` calls `load_articles` once (10,000 articles by default: categories, 1-3 published
versions each, a few drafts, internal and archived ones, related forms, votes and feedback,
each indexed in search_documents) and feeds every generated request through `RequestTexts`
(description + messages into request_texts). Texts are drawn from a small Portuguese vocabulary
so the searches the bench runs match a realistic share of rows: "cliente" matches a form by its
title and about two thirds of the articles in their text; "senha" an eighth of the requests.

On SQLite the FTS5 tables follow through their triggers, over stems from `fulltext.terms`
(its lru cache makes a finite vocabulary cheap); on PostgreSQL the generated tsvector columns
are computed by COPY and the GIN indexes rebuilt after the load.
"""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta
from typing import Any, Protocol

import sqlalchemy as sa

from portal.core import fulltext
from portal.knowledge.models import format_article_number
from portal.knowledge.services import COUNTER, slugify

ARTICLES = 10_000
# The word each bench row searches for (see bench/run.py).
SEARCH_WORD = "cliente"  # in a form's title, and in articles' text (never in their titles)
QUEUE_WORD = "senha"  # in about an eighth of the request descriptions

CATEGORIES = {
    "Acesso e senhas": ["GERID", "Usuários máster", "Certificado digital", "Perfis"],
    "Portal Rede Atendimento": ["Lentidão e indisponibilidade", "Consultas", "Relatórios"],
    "Cadastro Único": ["Formulário de Cadastro", "Transferência de família", "Famílias"],
    "Usando o Portal de Atendimento": ["Solicitações", "Anexos"],
    "Procedimentos internos": ["Triagem", "Infraestrutura"],
}
SUBJECTS = [
    "Erro ao atribuir perfil", "Usuário bloqueado", "Token que não chega", "Login demorado",
    "Tela em branco", "Consulta sem resultado", "Relatório com totais divergentes",
    "Transferência recusada", "Endereço que não salva", "Mensagem de erro inesperada",
    "Perfil expirado", "Troca do usuário máster", "Cadastro de novo usuário", "Sessão encerrada",
    "Arquivo anexo recusado", "Solicitação duplicada", "Prazo para aceitar a solução",
    "Família não encontrada", "Renda inconsistente", "Integrante duplicado",
]  # fmt: skip
PLACES = [
    "no GERID", "no Portal Rede Atendimento", "na Consulta Família", "na Consulta Pessoa",
    "no Formulário de Cadastro", "nos Relatórios Gerenciais", "na Transferência de Família",
    "no login do usuário", "no Portal de Atendimento", "na Gestão de usuários",
]  # fmt: skip
AUDIENCES = [
    "", "para municípios", "para estados", "para usuários máster", "após a troca de senha",
    "em horário de pico", "no primeiro acesso", "em navegadores antigos",
]  # fmt: skip
SENTENCES = [
    "O acesso aos sistemas do Cadastro Único é feito com o CPF e a senha do GERID.",
    "O antigo Pronto Cliente foi substituído pelo Portal de Atendimento.",
    "Quem atribui perfis é o usuário máster do município ou do estado.",
    "O e-mail corporativo e o e-mail particular informados devem ser iguais.",
    "A lentidão costuma ocorrer entre 8h e 10h, quando o acesso é maior.",
    "Informe sempre o nome completo e o CPF do usuário afetado.",
    "Os relatórios consideram apenas cadastros atualizados nos últimos 24 meses.",
    "Anexe uma imagem da tela com a mensagem de erro para agilizar o atendimento.",
    "Solicitações registradas no Pronto Cliente continuam disponíveis para consulta.",
    "O prazo para aceitar ou rejeitar a solução é de 7 dias.",
    "Limpe o cache do navegador e tente novamente em outra rede.",
    "A transferência é concluída pelo município de destino no dia seguinte.",
]  # fmt: skip
STEPS = [
    "Entre no GERID com o seu CPF e senha.", "Abra o menu **Serviços**.",
    "Em **Gestão de usuários**, localize o usuário pelo CPF.",
    "Clique em **Atribuir perfil** e escolha o sistema.", "Informe a data de validade.",
    "Confira o e-mail cadastrado antes de confirmar.", "Marque **Não sou um robô**.",
    "Clique em **Confirmar Envio de Token**.", "Abra a mensagem recebida e siga as instruções.",
    "Teste em outro navegador atualizado.", "Anote o horário em que o problema ocorreu.",
    "Abra uma solicitação no formulário indicado com o motivo correto.",
]  # fmt: skip
TABLE_ROWS = [
    ("Nunca recebi acesso", "Peça o cadastro ao usuário máster"),
    ("Esqueci a senha", "Use o link Esqueci Minha Senha"),
    ("O token não chega", "Confira a pasta de spam e os dois e-mails"),
    ("A tela está lenta", "Informe horário e funcionalidade"),
    ("A consulta não retorna dados", "Reduza o período consultado"),
    ("O perfil expirou", "Peça a renovação ao usuário máster"),
]
DESCRIPTIONS = [
    "Não consigo atribuir o perfil de entrevistador ao usuário.",
    "A tela de login do Portal demora mais de dois minutos para abrir.",
    "Usuário bloqueado depois de errar a senha várias vezes.",
    "O token para redefinir a senha não chegou ao e-mail cadastrado.",
    "A Consulta Família por Tipo de Ocorrência não retorna dados.",
    "Relatório gerencial com totais divergentes da consulta.",
    "Transferência de família entre municípios falha com mensagem de erro.",
    "Preciso cadastrar um novo usuário do município no GERID.",
    "O Formulário de Cadastro não salva o endereço com CEP novo.",
    "O Portal Rede Atendimento está indisponível desde a manhã.",
    "A senha nova não é aceita no login do Portal.",
    "Dúvida sobre quem pode ser usuário máster do estado.",
    "A Consulta Pessoa mostra o integrante em duplicidade.",
    "Não consigo anexar a planilha com os dados do problema.",
    "A sessão é encerrada sozinha durante o atendimento.",
    "Perfil de operador expirou e o usuário perdeu o acesso.",
]
ARTICLE_COLUMNS = (
    "id", "number", "title", "summary", "slug", "category_id", "visibility", "owner_group_id",
    "author_id", "is_live", "archived", "version_count", "view_count", "helpful_yes",
    "helpful_no", "created_at", "updated_at", "published_at",
)  # fmt: skip
VERSION_COLUMNS = (
    "id", "article_id", "number", "state", "title", "summary", "body", "keywords",
    "category_id", "visibility", "owner_group_id", "item_ids", "created_by_id", "created_at",
    "updated_by_id", "updated_at", "submitted_at", "published_by_id", "published_at",
)  # fmt: skip
DOCUMENT_COLUMNS = (
    "kind", "ref_id", "category_id", "restricted", "label", "title", "body", "slug",
    "title_terms", "body_terms",
)  # fmt: skip
VOTE_COLUMNS = ("article_id", "user_id", "helpful", "comment", "created_at", "updated_at")
FEEDBACK_COLUMNS = (
    "article_id", "user_id", "owner_group_id", "text", "state", "reply", "created_at",
)  # fmt: skip
TEXT_COLUMNS = ("request_id", "body", "terms")


class Loads(Protocol):
    postgresql: bool

    def load(self, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None: ...


def description(rng: random.Random) -> str:
    return rng.choice(DESCRIPTIONS)


class RequestTexts:
    """request_texts rows, as the portal writes them: the description, then each message."""

    def __init__(self, loader: Loads) -> None:
        self.loader = loader
        self.rows: list[tuple[int, str, str]] = []
        self.terms: dict[str, str] = {}  # the descriptions are few: stem each once

    def add(self, request_id: int, text: str, messages: list[str]) -> None:
        body = "\n".join([text, *messages])
        terms = ""
        if not self.loader.postgresql:
            known = self.terms.get(text)
            if known is None:
                known = self.terms[text] = fulltext.terms(text)
            terms = " ".join([known, *(fulltext.terms(m) for m in messages)]).strip()
        self.rows.append((request_id, body, terms))

    def flush(self) -> None:
        self.loader.load("request_texts", TEXT_COLUMNS, self.rows)
        self.rows.clear()


def _categories(conn: sa.Connection) -> list[int]:
    """The category tree; returns the ids of the leaves (where articles go)."""
    table = sa.table(
        "kb_categories",
        sa.column("id"),
        sa.column("name"),
        sa.column("parent_id"),
        sa.column("position"),
    )
    rows, leaves, next_id = [], [], 1
    for position, (root, children) in enumerate(CATEGORIES.items()):
        root_id = next_id
        rows.append({"id": root_id, "name": root, "parent_id": None, "position": position})
        for child_position, child in enumerate(children):
            next_id += 1
            rows.append(
                {"id": next_id, "name": child, "parent_id": root_id, "position": child_position}
            )
            leaves.append(next_id)
        next_id += 1
    conn.execute(table.insert(), rows)
    return leaves


def _body(rng: random.Random) -> tuple[str, str]:
    """(Markdown, the same as plain words) for one version."""
    intro = " ".join(rng.sample(SENTENCES, 3))
    steps = rng.sample(STEPS, rng.randint(4, 7))
    table = rng.sample(TABLE_ROWS, 3)
    note = " ".join(rng.sample(SENTENCES, 2))
    markdown = "\n".join(
        [
            intro,
            "",
            "## Passo a passo",
            "",
            *(f"{n}. {step}" for n, step in enumerate(steps, 1)),
            "",
            "| Situação | O que fazer |",
            "| --- | --- |",
            *(f"| {a} | {b} |" for a, b in table),
            "",
            "## Observações",
            "",
            note,
        ]
    )
    rows = [f"{a} {b}" for a, b in table]
    plain = "\n".join(
        [intro, "Passo a passo", *steps, "Situação O que fazer", *rows, "Observações", note]
    ).replace("**", "")
    return markdown, plain


def load_articles(
    conn: sa.Connection,
    loader: Loads,
    rng: random.Random,
    *,
    count: int,
    requesters: list[int],
    agents: list[int],
    items: list[tuple[int, int]],
    now: datetime,
) -> int:
    """Every Base de Conhecimento table, `count` articles; returns how many versions."""
    leaves = _categories(conn)
    sqlite = not loader.postgresql
    articles, versions, documents, votes, feedback, links = [], [], [], [], [], []
    version_id = 0
    span = int(timedelta(days=2 * 365).total_seconds())
    for aid in range(1, count + 1):
        subject, place, audience = rng.choice(SUBJECTS), rng.choice(PLACES), rng.choice(AUDIENCES)
        title = " ".join(p for p in (subject, place, audience) if p)
        summary = rng.choice(SENTENCES)
        keywords = " ".join(rng.sample(["senha", "perfil", "login", "token", "erro"], 2))
        category = rng.choice(leaves)
        related = rng.sample(items, rng.randint(1, 2))
        group = related[0][1]
        internal = aid > 1 and rng.random() < 0.05  # article 1 is public: the page bench
        roll = rng.random()
        fate = "live" if aid == 1 or roll < 0.96 else "draft" if roll < 0.98 else "archived"
        published = 0 if fate == "draft" else rng.choice((1, 1, 1, 2, 2, 3))
        pending = fate == "live" and rng.random() < 0.02
        author, reviewer = rng.sample(agents, 2)
        created = now - timedelta(seconds=rng.randrange(span))
        visibility = "internal" if internal else "public"
        item_ids = json.dumps(sorted(i for i, _ in related))
        live_plain = ""
        for n in range(1, published + pending + 1 + (fate == "draft")):
            version_id += 1
            markdown, plain = _body(rng)
            at = created + timedelta(days=30 * (n - 1))
            numbered = n <= published
            state = (
                "draft"
                if not numbered
                else "published"
                if n == published and fate == "live"
                else "archived"
            )
            versions.append(
                (
                    version_id, aid, n if numbered else None, state, title, summary, markdown,
                    keywords, category, visibility, group, item_ids, author, at, author, at,
                    at if numbered else None, reviewer if numbered else None,
                    at + timedelta(days=1) if numbered else None,
                )
            )  # fmt: skip
            if numbered:
                live_plain = plain
        last = created + timedelta(days=30 * max(published - 1, 0) + 1)
        yes = no = 0
        if fate == "live" and not internal:
            for voter in rng.sample(requesters, min(len(requesters), int(rng.expovariate(0.25)))):
                helpful = rng.random() < 0.75
                yes, no = yes + helpful, no + (not helpful)
                comment = "" if helpful or rng.random() < 0.8 else "Faltou explicar o passo 3."
                votes.append((aid, voter, helpful, comment, last, last))
                if comment:
                    feedback.append((aid, voter, group, comment, "open", "", last))
        articles.append(
            (
                aid, format_article_number(aid), title, summary, slugify(title), category,
                visibility, group, author, fate == "live", fate == "archived", published,
                int(rng.expovariate(1 / 40)) if fate != "draft" else 0, yes, no, created, last,
                last if published else None,
            )
        )  # fmt: skip
        links.extend((aid, item_id) for item_id, _ in related)
        if fate == "archived":
            continue
        label = "Rascunho" if fate == "draft" else "Interno" if internal else ""
        text = live_plain or _body(rng)[1]
        body = " \n".join([summary, text, keywords])
        documents.append(
            (
                "article", aid, category, bool(label), label, title, body,
                f"{format_article_number(aid)}-{slugify(title)}",
                fulltext.terms(title) if sqlite else "", fulltext.terms(body) if sqlite else "",
            )
        )  # fmt: skip
    loader.load("articles", ARTICLE_COLUMNS, articles)
    loader.load("article_versions", VERSION_COLUMNS, versions)
    loader.load("article_items", ("article_id", "item_id"), links)
    loader.load("article_votes", VOTE_COLUMNS, votes)
    loader.load("article_feedback", FEEDBACK_COLUMNS, feedback)
    loader.load("search_documents", DOCUMENT_COLUMNS, documents)
    _point_at_versions(conn)
    conn.execute(sa.text("DELETE FROM counters WHERE name = :n"), {"n": COUNTER})
    conn.execute(
        sa.text("INSERT INTO counters (name, value) VALUES (:n, :v)"), {"n": COUNTER, "v": count}
    )
    if loader.postgresql:
        for table in ("kb_categories", "articles", "article_versions", "article_votes"):
            conn.exec_driver_sql(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"
            )
    return version_id


def _point_at_versions(conn: sa.Connection) -> None:
    """Each article's live and working version (the two tables point at each other, so the
    pointers are set once both are loaded)."""
    conn.exec_driver_sql(
        "UPDATE articles SET "
        "live_version_id = (SELECT max(v.id) FROM article_versions v "
        "WHERE v.article_id = articles.id AND v.state = 'published'), "
        "working_version_id = (SELECT max(v.id) FROM article_versions v "
        "WHERE v.article_id = articles.id AND v.state IN ('draft', 'review'))"
    )


def sample_row(conn: sa.Connection) -> dict[str, Any]:
    """What the page bench opens: a published public article's number and slug."""
    row = conn.execute(
        sa.text(
            "SELECT number, slug FROM articles WHERE is_live AND visibility = 'public' "
            "ORDER BY id LIMIT 1"
        )
    ).one()
    return {"number": row.number, "slug": row.slug}
