"""The catalog the Pronto Cliente tutorial describes, as data (demo data and tests load it)."""

from __future__ import annotations

from typing import Any

PORTAL_FUNCTIONS = [
    "Login do Usuário",
    "Consulta Família por Tipo de Ocorrência",
    "Consulta Família",
    "Consulta Pessoa",
    "Formulário de Cadastro",
    "Relatórios Gerenciais",
    "Transferência de Família",
]
COMMON_SYMPTOMS = ["Lento", "Indisponível", "Inconsistente", "Mensagem de erro"]

CATALOG: list[dict[str, Any]] = [
    {
        "path": ["SERVIÇOS MULTICLIENTE", "ACESSO MULTICLIENTE"],
        "slug": "gerid",
        "name": "GERID",
        "short_description": "Gerenciamento de Identidade",
        "description": "GERID - Gerenciamento de Identidade",
        "icon": "fa-id-card",
        "group": "Suporte GERID",
        "fields": [
            {
                "key": "motivo",
                "label": "Motivo",
                "type": "select",
                "required": True,
                "options": [
                    "Cadastramento de usuário",
                    "Atribuição de perfil",
                    "Problema de acesso",
                    "Dúvida",
                    "Outros",
                ],
            },
            {
                "key": "modulo",
                "label": "Módulo",
                "type": "fixed",
                "required": True,
                "preset": "Gestão de usuários",
            },
            {
                "key": "funcionalidade",
                "label": "Funcionalidade",
                "type": "select",
                "required": True,
                "options": ["Acesso"],
            },
        ],
    },
    {
        "path": ["MCID", "CADÚNICO"],
        "slug": "portal-rede-atendimento",
        "name": "Portal Rede Atendimento",
        "short_description": "Portal Rede Atendimento (Portal Novo Cadastro Único)",
        "description": "Portal Rede Atendimento",
        "icon": "fa-users",
        "group": "Suporte CadÚnico",
        "fields": [
            {
                "key": "motivo",
                "label": "Motivo",
                "type": "select",
                "required": True,
                "options": ["Erro no sistema", "Lentidão", "Indisponibilidade", "Dúvida", "Outros"],
            },
            {
                "key": "modulo",
                "label": "Módulo",
                "type": "fixed",
                "required": True,
                "preset": "Portal Atendimento - Consultas",
            },
            {
                "key": "funcionalidade",
                "label": "Funcionalidade",
                "type": "select",
                "required": True,
                "options": PORTAL_FUNCTIONS,
            },
            {
                "key": "sintoma",
                "label": "Sintoma",
                "type": "dependent_select",
                "required": False,
                "depends_on": "funcionalidade",
                "options_by_parent": {
                    name: (
                        ["Lento", "Indisponível", "Inconsistente", "Senha não aceita"]
                        if name == "Login do Usuário"
                        else COMMON_SYMPTOMS
                    )
                    for name in PORTAL_FUNCTIONS
                },
            },
        ],
    },
    {
        "path": ["SERVIÇOS MULTICLIENTE", "ACESSO MULTICLIENTE"],
        "slug": "pronto-cliente",
        "name": "Pronto Cliente",
        "short_description": "Sistema de Registro de chamados para plataformas multicliente",
        "description": "Dúvidas e problemas no próprio portal de registro de chamados.",
        "icon": "fa-headset",
        "group": "Suporte GERID",
        "fields": [
            {
                "key": "motivo",
                "label": "Motivo",
                "type": "select",
                "required": True,
                "options": ["Dúvida", "Problema no portal", "Sugestão"],
            },
        ],
    },
]
