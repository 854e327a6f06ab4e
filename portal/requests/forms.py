"""Parsing of the request forms (fields come from the catalog, so no fixed WTForms class)."""

from __future__ import annotations

from dataclasses import dataclass, field

from werkzeug.datastructures import MultiDict

from portal.catalog.models import CatalogItem
from portal.core.phone import InvalidPhone, normalize_phone


def _int(raw: str | None) -> int | None:
    try:
        return int(raw) if raw else None
    except ValueError:
        return None


@dataclass
class RequestFormInput:
    """What the person typed on an item's form, kept as typed to show it again."""

    requested_for_id: int | None
    follower_ids: list[int]
    extra_phone: str
    description: str
    values: dict[str, str]
    upload_tokens: list[str]
    errors: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def parse(cls, form: MultiDict[str, str], item: CatalogItem) -> RequestFormInput:
        return cls(
            requested_for_id=_int(form.get("requested_for")),
            follower_ids=[i for i in (_int(v) for v in form.getlist("followers")) if i],
            extra_phone=form.get("extra_phone", "").strip(),
            description=form.get("description", ""),
            values={f.key: form.get(f.key, "").strip() for f in item.fields if f.preset is None},
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


def missing_required(item: CatalogItem, data: RequestFormInput | None) -> list[str]:
    """Labels for the "Informações necessárias" panel: required fields still empty."""
    labels = []
    values = data.values if data else {}
    for f in item.fields:
        if f.required and f.preset is None and not values.get(f.key):
            labels.append(f.label)
    if not (data and data.description.strip()):
        labels.append("Descrição")
    return labels
