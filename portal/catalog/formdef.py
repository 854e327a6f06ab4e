"""A catalog item's form as data: one definition drives the form, the server's checks, the
preview, the staff view and the API.

Pure: no database, no Flask. A form is a list of FieldSpec in order; `check_answers` is the
single place that decides what a submission means (which fields show, which are required,
what a valid answer is), for a real request and for the admin's Pré-visualizar alike.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any

from portal.catalog.models import FieldType, ItemField
from portal.core.cpf import format_cpf, is_valid_cpf, normalize_cpf
from portal.core.errors import ValidationError
from portal.core.phone import InvalidPhone, normalize_phone

YES, NO = "Sim", "Não"
TEXT_MAX = 2000
TEXTAREA_MAX = 10_000
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
NUMBER_RE = re.compile(r"^-?\d{1,15}([.,]\d{1,6})?$")
CHOICE_TYPES = frozenset({FieldType.SELECT, FieldType.DEPENDENT_SELECT, FieldType.YES_NO})
# Fields whose answer is one of a known list: a dependent field's parent, a condition's field.
VALUED_TYPES = CHOICE_TYPES | {FieldType.FIXED}


@dataclass(frozen=True)
class FieldSpec:
    """One question of a form, as stored in a FormVersion."""

    key: str
    label: str
    type: FieldType
    required: bool = False
    help_text: str = ""
    default: str | None = None
    # FIXED: the value; the requester sees it and cannot change it.
    preset: str | None = None
    options: tuple[str, ...] = ()
    # DEPENDENT_SELECT: the field whose answer picks the options, and the options per answer.
    depends_on: str | None = None
    options_by_parent: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # Shown only when the field `show_when_key` is answered `show_when_value`.
    show_when_key: str | None = None
    show_when_value: str | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FieldSpec:
        return cls(
            key=str(data["key"]),
            label=str(data["label"]),
            type=FieldType(data.get("type", "text")),
            required=bool(data.get("required", False)),
            help_text=str(data.get("help_text") or ""),
            default=data.get("default"),
            preset=data.get("preset"),
            options=tuple(data.get("options") or ()),
            depends_on=data.get("depends_on"),
            options_by_parent={
                str(k): tuple(v) for k, v in (data.get("options_by_parent") or {}).items()
            },
            show_when_key=data.get("show_when_key"),
            show_when_value=data.get("show_when_value"),
        )

    @classmethod
    def from_field(cls, f: ItemField) -> FieldSpec:
        """The draft row an admin edits, read as a spec (for the preview and for publishing)."""
        return cls(
            key=f.key,
            label=f.label,
            type=FieldType(f.type),
            required=bool(f.required),
            help_text=f.help_text or "",
            default=f.default_value,
            preset=f.preset,
            options=tuple(f.options or ()),
            depends_on=f.depends_on,
            options_by_parent={str(k): tuple(v) for k, v in (f.options_by_parent or {}).items()},
            show_when_key=f.show_when_key,
            show_when_value=f.show_when_value,
        )

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["type"] = self.type.value
        data["options"] = list(self.options)
        data["options_by_parent"] = {k: list(v) for k, v in self.options_by_parent.items()}
        return data

    @property
    def is_fixed(self) -> bool:
        return self.type is FieldType.FIXED

    @property
    def is_choice(self) -> bool:
        return self.type in CHOICE_TYPES

    def choices_for(self, values: Mapping[str, Any]) -> list[str]:
        """The answers valid given the others (a dependent field's, for its parent's answer)."""
        if self.type is FieldType.YES_NO:
            return [YES, NO]
        if self.type is FieldType.DEPENDENT_SELECT:
            parent = str(values.get(self.depends_on or "") or "")
            return list(self.options_by_parent.get(parent, ()))
        return list(self.options)

    def display_options(self, values: Mapping[str, Any]) -> list[str]:
        """What the form offers: for a dependent field whose parent is still empty, every
        option of every parent (the script narrows them as the parent changes)."""
        if self.type is FieldType.DEPENDENT_SELECT and not values.get(self.depends_on or ""):
            seen: dict[str, None] = {}
            for options in self.options_by_parent.values():
                seen.update(dict.fromkeys(options))
            return list(seen)
        return self.choices_for(values)


def possible_values(spec: FieldSpec) -> list[str]:
    """Every answer a field of a VALUED type can have (what a dependent field's options and a
    condition may name); empty for free-text types."""
    if spec.is_fixed:
        return [spec.preset] if spec.preset else []
    if spec.type not in CHOICE_TYPES:
        return []
    return spec.display_options({})


def load(fields: Iterable[Mapping[str, Any]]) -> list[FieldSpec]:
    return [FieldSpec.from_dict(f) for f in fields]


def dump(specs: Iterable[FieldSpec]) -> list[dict[str, Any]]:
    return [s.to_dict() for s in specs]


def typed_answers(specs: list[FieldSpec], raw: Mapping[str, Any]) -> dict[str, str]:
    """What the person typed for each field (fixed ones are not theirs to type), kept as typed
    to show the form again; check_answers decides what counts."""
    return {s.key: str(raw.get(s.key) or "").strip() for s in specs if not s.is_fixed}


def visible_keys(specs: list[FieldSpec], values: Mapping[str, Any]) -> set[str]:
    """The fields shown for these answers. A condition on a hidden field is false, so a
    chain of conditions hides everything below the first one that does not hold."""
    shown: set[str] = set()
    for spec in specs:
        if spec.show_when_key:
            if spec.show_when_key not in shown:
                continue
            answer = str(values.get(spec.show_when_key) or "")
            if answer != (spec.show_when_value or ""):
                continue
        shown.add(spec.key)
    return shown


def initial_values(specs: list[FieldSpec]) -> dict[str, str]:
    """What a blank form starts with: defaults and fixed values."""
    return {
        s.key: (s.preset if s.is_fixed else s.default) or ""
        for s in specs
        if (s.preset if s.is_fixed else s.default)
    }


def check_answers(
    specs: list[FieldSpec], raw: Mapping[str, Any]
) -> tuple[dict[str, str], list[ValidationError]]:
    """The cleaned answers to keep and the errors, one per field, in Portuguese.

    Fixed values always win over what was sent; a hidden field's answer is dropped, never
    required; a dependent field is checked against its parent's cleaned answer.
    """
    values: dict[str, str] = {}
    errors: list[ValidationError] = []
    answers = {s.key: str(raw.get(s.key) or "").strip() for s in specs}
    for spec in specs:
        if spec.is_fixed:
            answers[spec.key] = spec.preset or ""
    shown = visible_keys(specs, answers)
    for spec in specs:
        if spec.key not in shown:
            continue
        if spec.is_fixed:
            if spec.preset:
                values[spec.key] = spec.preset
            continue
        try:
            cleaned = _clean(spec, answers[spec.key], {**answers, **values})
        except ValidationError as error:
            errors.append(error)
            continue
        if cleaned:
            values[spec.key] = cleaned
    return values, errors


def _clean(spec: FieldSpec, value: str, answers: Mapping[str, Any]) -> str:
    if not value:
        if spec.required:
            raise ValidationError(f"O campo “{spec.label}” é obrigatório.", spec.key)
        return ""
    limit = TEXTAREA_MAX if spec.type is FieldType.TEXTAREA else TEXT_MAX
    if len(value) > limit:
        raise ValidationError(f"O campo “{spec.label}” aceita até {limit} caracteres.", spec.key)
    cleaner = _CLEANERS.get(spec.type)
    return cleaner(spec, value, answers) if cleaner else value


def _choice(spec: FieldSpec, value: str, answers: Mapping[str, Any]) -> str:
    if value in spec.choices_for(answers):
        return value
    if spec.type is FieldType.DEPENDENT_SELECT and not answers.get(spec.depends_on or ""):
        raise ValidationError(f"Escolha antes o campo do qual “{spec.label}” depende.", spec.key)
    raise ValidationError(f"Escolha uma opção válida para “{spec.label}”.", spec.key)


def _phone(spec: FieldSpec, value: str, _answers: Mapping[str, Any]) -> str:
    try:
        return normalize_phone(value)
    except InvalidPhone:
        raise ValidationError(
            f"“{spec.label}”: informe o DDD e o número, ex.: (71) 3202-0000.", spec.key
        ) from None


def _email(spec: FieldSpec, value: str, _answers: Mapping[str, Any]) -> str:
    if not EMAIL_RE.match(value):
        raise ValidationError(f"“{spec.label}”: informe um e-mail válido.", spec.key)
    return value.lower()


def _date(spec: FieldSpec, value: str, _answers: Mapping[str, Any]) -> str:
    """DD/MM/AAAA, or the browser date picker's AAAA-MM-DD; kept as DD/MM/AAAA."""
    parsed = parse_date(value)
    if parsed is None:
        raise ValidationError(f"“{spec.label}”: informe a data como DD/MM/AAAA.", spec.key)
    return parsed.strftime("%d/%m/%Y")


def parse_date(value: str) -> date | None:
    for pattern in ("%d/%m/%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(value.strip(), pattern).date()
        except ValueError:
            continue
    return None


def _number(spec: FieldSpec, value: str, _answers: Mapping[str, Any]) -> str:
    compact = value.replace(" ", "")
    if not NUMBER_RE.match(compact):
        raise ValidationError(f"“{spec.label}”: informe um número, ex.: 12 ou 3,5.", spec.key)
    return compact.replace(".", ",")


def _cpf(spec: FieldSpec, value: str, _answers: Mapping[str, Any]) -> str:
    if not is_valid_cpf(value):
        raise ValidationError(f"“{spec.label}”: CPF inválido.", spec.key)
    return format_cpf(normalize_cpf(value))


_CLEANERS = {
    FieldType.SELECT: _choice,
    FieldType.DEPENDENT_SELECT: _choice,
    FieldType.YES_NO: _choice,
    FieldType.PHONE: _phone,
    FieldType.EMAIL: _email,
    FieldType.DATE: _date,
    FieldType.NUMBER: _number,
    FieldType.CPF: _cpf,
}


def describe_changes(old: list[FieldSpec], new: list[FieldSpec]) -> list[str]:
    """What a new version changes, in the admin's words, for the version history."""
    before = {s.key: s for s in old}
    after = {s.key: s for s in new}
    changes = [f"Campo “{s.label}” adicionado" for s in new if s.key not in before]
    changes += [f"Campo “{s.label}” removido" for s in old if s.key not in after]
    for spec in new:
        previous = before.get(spec.key)
        if previous is None or previous == spec:
            continue
        if previous.label != spec.label:
            changes.append(f"Campo “{previous.label}” renomeado para “{spec.label}”")
        if _without_label(previous) != _without_label(spec):
            changes.append(f"Campo “{spec.label}” alterado")
    if not changes and [s.key for s in old] != [s.key for s in new]:
        changes.append("Ordem dos campos alterada")
    return changes


def _without_label(spec: FieldSpec) -> dict[str, Any]:
    data = spec.to_dict()
    data.pop("label")
    return data


def problems(specs: list[FieldSpec]) -> list[str]:
    """Why a form cannot be published (a definition the requester's form could not honour)."""
    found: list[str] = []
    earlier: dict[str, FieldSpec] = {}
    for spec in specs:
        if spec.key in earlier:
            found.append(f"Há mais de um campo com a chave “{spec.key}”.")
        if spec.type is FieldType.FIXED and not spec.preset:
            found.append(f"“{spec.label}” é de valor fixo e não tem valor.")
        if spec.type is FieldType.SELECT and not spec.options:
            found.append(f"“{spec.label}” é uma seleção sem opções.")
        if spec.type is FieldType.DEPENDENT_SELECT:
            found += _dependency_problems(spec, earlier.get(spec.depends_on or ""))
        if spec.show_when_key:
            found += _condition_problems(spec, earlier.get(spec.show_when_key))
        earlier[spec.key] = spec
    return found


def _dependency_problems(spec: FieldSpec, parent: FieldSpec | None) -> list[str]:
    if parent is None:
        return [f"“{spec.label}” depende de um campo que não vem antes dele."]
    if parent.type not in VALUED_TYPES:
        return [f"“{spec.label}” depende de “{parent.label}”, que não tem uma lista de valores."]
    if not spec.options_by_parent:
        return [f"“{spec.label}” não tem opções para os valores de “{parent.label}”."]
    values = possible_values(parent)
    return [
        f"“{spec.label}” tem opções para “{value}”, que não é um valor de “{parent.label}”."
        for value in spec.options_by_parent
        if value not in values
    ]


def _condition_problems(spec: FieldSpec, shown_by: FieldSpec | None) -> list[str]:
    if shown_by is None:
        return [f"“{spec.label}” aparece conforme um campo que não vem antes dele."]
    if shown_by.type not in VALUED_TYPES:
        return [
            f"“{spec.label}” aparece conforme “{shown_by.label}”, que não tem uma lista de valores."
        ]
    if (spec.show_when_value or "") not in possible_values(shown_by):
        return [
            f"“{spec.label}” aparece quando “{shown_by.label}” for “{spec.show_when_value}”, "
            f"que não é um valor de “{shown_by.label}”."
        ]
    return []
