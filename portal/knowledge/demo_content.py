"""The demo articles, as the DATAPREV/MDS support team would write them (drawn from the Pronto
Cliente tutorial): plain data that `portal.knowledge.demo` loads through the services. Bodies
are Markdown files in demo_articles/, named here without their ".md".

The order matters: numbers are given in creation order (KB0000001 is the first entry).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path

GERID = "Suporte GERID"
CADUNICO = "Suporte CadÚnico"
BODIES = Path(__file__).parent / "demo_articles"


@functools.cache
def body(name: str) -> str:
    """The Markdown of one demo body."""
    return (BODIES / f"{name}.md").read_text("utf-8")


@dataclass(frozen=True)
class Revision:
    """A later published version: what changed (the title may stay)."""

    days_ago: int
    body: str  # a file in demo_articles/
    title: str = ""
    summary: str = ""


@dataclass(frozen=True)
class DemoArticle:
    title: str
    summary: str
    body: str  # a file in demo_articles/
    category: tuple[str, ...]
    group: str
    items: tuple[str, ...] = ()
    keywords: str = ""
    internal: bool = False
    # "published", "review" (never published, waiting for a reviewer), "draft", "archived",
    # "pending" (published, with a new draft started from it)
    fate: str = "published"
    days_ago: int = 30
    views: int = 0
    revisions: tuple[Revision, ...] = field(default_factory=tuple)
    pending_body: str = ""  # fate "pending": the file with the new draft's body


ACCESS = ("Acesso e senhas", "GERID")
MASTERS = ("Acesso e senhas", "Usuários máster")
PORTAL_SLOW = ("Portal Rede Atendimento", "Lentidão e indisponibilidade")
PORTAL_QUERIES = ("Portal Rede Atendimento", "Consultas e relatórios")
CADASTRO = ("Cadastro Único",)
USING = ("Usando o Portal de Atendimento",)
INTERNAL = ("Procedimentos internos",)


ARTICLES: list[DemoArticle] = [
    DemoArticle(
        "Como obter o primeiro acesso ao GERID",
        "Crie a sua senha do GERID pelo primeiro acesso: os e-mails corporativo e particular "
        "devem ser iguais.",
        "first-access",
        ACCESS,
        GERID,
        ("gerid",),
        "senha login primeiro acesso token",
        days_ago=60,
        views=148,
    ),
    DemoArticle(
        "Desbloqueio de usuário no GERID",
        "Roteiro interno para desbloquear usuários e revisar perfis no GERID.",
        "unblock",
        INTERNAL,
        GERID,
        ("gerid",),
        "bloqueado desbloquear perfil",
        internal=True,
        days_ago=45,
        views=12,
    ),
    DemoArticle(
        "Esqueci minha senha do GERID",
        "Redefina a senha você mesmo pelo link “Esqueci Minha Senha” na página de login.",
        "forgot",
        ACCESS,
        GERID,
        ("gerid",),
        "senha esqueci redefinir token",
        days_ago=58,
        views=97,
    ),
    DemoArticle(
        "Token de redefinição de senha não chega ao e-mail",
        "O que verificar quando o token não chega.",
        "no-mail-v1",
        ACCESS,
        GERID,
        ("gerid",),
        "token e-mail spam",
        days_ago=50,
        views=64,
        revisions=(
            Revision(35, "no-mail-v2"),
            Revision(
                10,
                "no-mail-v3",
                title="O token de redefinição de senha não chegou: o que verificar",
                summary="Confira se os dois e-mails são iguais, a pasta de spam e a caixa "
                "cheia antes de pedir um novo token.",
            ),
        ),
    ),
    DemoArticle(
        "Como atribuir perfil a um usuário no GERID",
        "O usuário máster atribui os perfis em Gestão de usuários.",
        "profile",
        ACCESS,
        GERID,
        ("gerid",),
        "perfil entrevistador operador",
        days_ago=40,
        views=41,
    ),
    DemoArticle(
        "Cadastrar um novo usuário no GERID",
        "Passo a passo do usuário máster para cadastrar usuários do município ou do estado.",
        "new-user",
        ACCESS,
        GERID,
        ("gerid",),
        "cadastro usuário novo",
        days_ago=39,
        views=23,
    ),
    DemoArticle(
        "O que é o usuário máster e como indicá-lo",
        "Quem administra os acessos de municípios e estados, e como trocá-lo.",
        "master",
        MASTERS,
        GERID,
        ("gerid", "pronto-cliente"),
        "máster master município estado ofício",
        days_ago=38,
        views=30,
    ),
    DemoArticle(
        "Portal Rede Atendimento lento: o que verificar",
        "Testes simples antes de abrir uma solicitação de lentidão, e o que informar.",
        "slow",
        PORTAL_SLOW,
        CADUNICO,
        ("portal-rede-atendimento",),
        "lentidão lento demora navegador",
        fate="pending",
        pending_body="slow-draft",
        days_ago=30,
        views=56,
    ),
    DemoArticle(
        "Portal Rede Atendimento indisponível",
        "Confira os comunicados e, se preciso, registre a indisponibilidade com o horário.",
        "down",
        PORTAL_SLOW,
        CADUNICO,
        ("portal-rede-atendimento",),
        "fora do ar erro indisponibilidade",
        days_ago=29,
        views=18,
    ),
    DemoArticle(
        "Consulta Família por Tipo de Ocorrência não retorna dados",
        "Ajuste os filtros e o período antes de registrar o problema.",
        "occurrence",
        PORTAL_QUERIES,
        CADUNICO,
        ("portal-rede-atendimento",),
        "ocorrência consulta família filtro",
        days_ago=25,
        views=15,
    ),
    DemoArticle(
        "Consultar pessoas e famílias no Cadastro Único",
        "Como usar a Consulta Pessoa e a Consulta Família do Portal Rede Atendimento.",
        "query-person",
        CADASTRO,
        CADUNICO,
        ("portal-rede-atendimento",),
        "CPF NIS código familiar",
        days_ago=24,
        views=33,
    ),
    DemoArticle(
        "Transferência de família entre municípios",
        "Quem faz a transferência e o que informar quando ela falha.",
        "transfer",
        CADASTRO,
        CADUNICO,
        ("portal-rede-atendimento",),
        "mudança endereço transferir",
        days_ago=20,
        views=9,
    ),
    DemoArticle(
        "Por que os totais dos Relatórios Gerenciais diferem das consultas",
        "Os relatórios contam apenas cadastros atualizados nos últimos 24 meses.",
        "reports",
        PORTAL_QUERIES,
        CADUNICO,
        ("portal-rede-atendimento",),
        "relatório totais divergentes",
        days_ago=15,
        views=7,
    ),
    DemoArticle(
        "Quais arquivos posso anexar a uma solicitação",
        "Imagens, planilhas, documentos e arquivos compactados.",
        "attachments",
        USING,
        GERID,
        ("gerid", "portal-rede-atendimento", "pronto-cliente"),
        "anexo arquivo imagem pdf zip",
        days_ago=14,
        views=21,
    ),
    DemoArticle(
        "Como acompanhar as suas solicitações",
        "Onde ver as suas solicitações e as que você acompanha, e o que cada estado significa.",
        "follow",
        USING,
        GERID,
        ("pronto-cliente",),
        "acompanhamento estado solicitação",
        days_ago=13,
        views=26,
    ),
    DemoArticle(
        "Aceitar ou rejeitar a solução de uma solicitação",
        "Você tem 7 dias para aceitar ou rejeitar; depois a solicitação é fechada.",
        "accept",
        USING,
        GERID,
        ("pronto-cliente",),
        "aceite rejeitar prazo 7 dias",
        days_ago=12,
        views=11,
    ),
    DemoArticle(
        "Cancelar uma solicitação",
        "Como cancelar uma solicitação aberta por engano ou em duplicidade.",
        "cancel",
        USING,
        GERID,
        ("pronto-cliente",),
        "cancelamento duplicidade",
        days_ago=11,
        views=5,
    ),
    DemoArticle(
        "Triagem de solicitações de lentidão do Portal",
        "Roteiro interno: classificar a lentidão e quando publicar comunicado.",
        "triage",
        INTERNAL,
        CADUNICO,
        ("portal-rede-atendimento",),
        "triagem balanceador incidente",
        internal=True,
        days_ago=9,
        views=4,
    ),
    DemoArticle(
        "Mensagem “Senha não aceita” no login do Portal Rede Atendimento",
        "A senha do GERID expirou ou foi digitada errada: redefina e aguarde 15 minutos.",
        "login-refused",
        PORTAL_SLOW,
        CADUNICO,
        ("portal-rede-atendimento", "gerid"),
        "senha login expirada",
        fate="review",
        days_ago=3,
    ),
    DemoArticle(
        "Formulário de Cadastro: erro ao salvar endereço com CEP novo",
        "Contorno enquanto a correção não é publicada.",
        "form-address",
        CADASTRO,
        CADUNICO,
        ("portal-rede-atendimento",),
        "CEP endereço formulário",
        fate="draft",
        days_ago=2,
    ),
    DemoArticle(
        "Acesso ao antigo Pronto Cliente",
        "O Pronto Cliente foi substituído pelo Portal de Atendimento.",
        "old-portal",
        USING,
        GERID,
        ("pronto-cliente",),
        "pronto cliente antigo",
        fate="archived",
        days_ago=90,
        views=80,
    ),
]
