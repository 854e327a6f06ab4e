"""How the Auditoria names what the trail stores: actions, kinds of object and fields in
Portuguese, and the values before and after as a per-field table.

One place for the words. An action without its own label reads as its object and its verb
("group.rename" -> "Grupo: renomeação"), and an unknown one as itself, so an entry written by
a new service still shows.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

OBJECT_LABELS = {
    "announcement": "Comunicado",
    "article": "Artigo",
    "catalog_item": "Item do catálogo",
    "category": "Categoria do catálogo",
    "form_version": "Versão de formulário",
    "group": "Grupo",
    "item_field": "Campo de formulário",
    "kb_category": "Categoria da base de conhecimento",
    "occurrence": "Ocorrência",
    "organisation": "Ente",
    "request": "Solicitação",
    "routing_rule": "Regra de roteamento",
    "token": "Token de acesso",
    "user": "Usuário",
    "webhook": "Webhook",
}

VERB_LABELS = {
    "anonymise": "anonimização",
    "archive": "arquivamento",
    "attach": "anexo",
    "change_password": "troca de senha",
    "create": "criação",
    "deactivate": "desativação",
    "delete": "exclusão",
    "dismiss": "dispensa",
    "hide": "ocultação",
    "load_ibge": "carga do IBGE",
    "move": "mudança de lugar",
    "publish": "publicação",
    "reactivate": "reativação",
    "register": "cadastro",
    "remove": "remoção",
    "rename": "renomeação",
    "reorder": "reordenação",
    "reset_password": "envio de redefinição de senha",
    "restore": "restauração",
    "revoke": "revogação",
    "set_password": "definição de senha",
    "show": "exibição",
    "unlock": "desbloqueio",
    "unpublish": "retirada de publicação",
    "update": "alteração",
    "withdraw": "retirada",
}

# Actions whose object-and-verb reading would mislead.
ACTION_LABELS = {
    "client.register": "Cliente: cadastro",
    "client.update": "Cliente: alteração",
    "user.client_registration": "Usuário: permissão de cadastro de clientes",
    "user.enable_two_factor": "Usuário: ativação da verificação em duas etapas",
    "user.disable_two_factor": "Usuário: desativação da verificação em duas etapas",
    "user.regenerate_recovery_codes": "Usuário: novos códigos de recuperação",
    "user.reset_two_factor": "Usuário: redefinição do segundo fator",
    "token.create": "Token de acesso: criação",
    "token.revoke": "Token de acesso: revogação",
    "webhook.create": "Webhook: criação",
    "webhook.update": "Webhook: alteração",
    "webhook.deactivate": "Webhook: desativação",
    "webhook.resend": "Webhook: reenvio de entrega",
}

FIELD_LABELS = {
    "active": "Ativo",
    "audience": "Público",
    "body": "Texto",
    "category": "Categoria",
    "category_id": "Categoria (id)",
    "changes": "Mudanças",
    "cpf": "CPF",
    "description": "Descrição",
    "email": "E-mail",
    "ends_at": "Termina em",
    "expires_at": "Expira em",
    "extra_phone": "Outro telefone",
    "fields": "Campos",
    "full_name": "Nome",
    "group": "Grupo",
    "group_id": "Grupo (id)",
    "groups": "Grupos",
    "hidden": "Oculta",
    "icon": "Ícone",
    "impact": "Impacto",
    "kind": "Tipo",
    "label": "Rótulo",
    "members": "Membros",
    "name": "Nome",
    "organisation": "Ente",
    "organisation_id": "Ente (id)",
    "password_hash": "Senha",
    "phone": "Telefone",
    "position": "Posição",
    "recovery_codes": "Códigos de recuperação",
    "required": "Obrigatório",
    "role": "Papel",
    "routing_rules": "Regras de encaminhamento",
    "scopes": "Escopos",
    "severity": "Gravidade",
    "short_description": "Descrição curta",
    "slug": "Endereço (slug)",
    "starts_at": "Começa em",
    "state": "Estado",
    "title": "Título",
    "two_factor": "Verificação em duas etapas",
    "uf": "UF",
    "version": "Versão",
}


def object_label(object_type: str) -> str:
    return OBJECT_LABELS.get(object_type, object_type)


def action_label(action: str) -> str:
    """ "user.create" -> "Usuário: criação"; an action nobody named reads as itself."""
    if action in ACTION_LABELS:
        return ACTION_LABELS[action]
    kind, _, verb = action.partition(".")
    if kind in OBJECT_LABELS and verb in VERB_LABELS:
        return f"{OBJECT_LABELS[kind]}: {VERB_LABELS[verb]}"
    return action


def display_value(value: Any) -> str:
    """A stored value as a person reads it: Sim/Não, lists joined, objects as JSON."""
    if value is None:
        return "(vazio)"
    if isinstance(value, bool):
        return "Sim" if value else "Não"
    if isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
        return ", ".join(str(v) for v in value) if value else "(nenhum)"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


@dataclass(frozen=True)
class ValueChange:
    """One line of the before/after table; `before`/`after` are None where that side has no
    such key (a creation has no before)."""

    key: str
    label: str
    before: str | None
    after: str | None


def value_changes(
    before: Mapping[str, Any] | None, after: Mapping[str, Any] | None
) -> list[ValueChange]:
    """Every key of either side, in the order written (after's keys, then before's others)."""
    before, after = before or {}, after or {}
    keys = list(after) + [k for k in before if k not in after]
    return [
        ValueChange(
            key,
            FIELD_LABELS.get(key, key),
            display_value(before[key]) if key in before else None,
            display_value(after[key]) if key in after else None,
        )
        for key in keys
    ]
