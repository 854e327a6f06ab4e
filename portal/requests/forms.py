"""Parsing of the request forms (fields come from the catalog's published form, so no fixed
WTForms class: portal.catalog.formdef reads and checks them)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from werkzeug.datastructures import MultiDict

from portal.catalog import formdef
from portal.catalog.formdef import FieldSpec
from portal.core.phone import InvalidPhone, normalize_phone
from portal.core.web import int_or_none


@dataclass
class RequestFormInput:
    """What the person typed on an item's form, kept as typed to show it again."""

    requested_for_id: int | None
    follower_ids: list[int]
    extra_phone: str
    description: str
    # Every answer typed, hidden fields' too (shown again as typed; the service ignores them).
    values: dict[str, str]
    upload_tokens: list[str]
    errors: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def parse(cls, form: MultiDict[str, str], specs: list[FieldSpec]) -> RequestFormInput:
        return cls(
            requested_for_id=int_or_none(form.get("requested_for")),
            follower_ids=[i for i in (int_or_none(v) for v in form.getlist("followers")) if i],
            extra_phone=form.get("extra_phone", "").strip(),
            description=form.get("description", ""),
            values=formdef.typed_answers(specs, form),
            upload_tokens=form.getlist("upload_tokens"),
        )

    def add_error(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(message)

    def normalized_phone(self) -> str | None:
        if not self.extra_phone:
            return None
        try:
            return normalize_phone(self.extra_phone)
        except InvalidPhone:
            self.add_error(
                "extra_phone", "Telefone inválido. Informe o DDD e o número, ex.: (71) 3202-0000."
            )
            return None


def shown_values(specs: list[FieldSpec], data: RequestFormInput | None) -> dict[str, str]:
    """The answers the form shows: as typed after a refused submission, else the defaults;
    fixed values always."""
    if data is None:
        return formdef.initial_values(specs)
    return {**data.values, **{s.key: s.preset for s in specs if s.is_fixed and s.preset}}


def missing_required(specs: list[FieldSpec], data: RequestFormInput | None) -> list[str]:
    """Labels for the "Informações necessárias" panel: required fields shown and still empty."""
    values: Mapping[str, str] = shown_values(specs, data)
    shown = formdef.visible_keys(specs, values)
    labels = [
        s.label
        for s in specs
        if s.required and not s.is_fixed and s.key in shown and not values.get(s.key)
    ]
    if not (data and data.description.strip()):
        labels.append("Descrição")
    return labels
