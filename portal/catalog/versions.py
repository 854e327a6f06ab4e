"""Publishing an item's form: the draft's fields become a new, frozen FormVersion.

A request keeps the version it was opened with (ServiceRequest.form_version_id), so its
answers keep their labels when an admin later renames or removes a field.
"""

from __future__ import annotations

from sqlalchemy import select

from portal.catalog import formdef
from portal.catalog.formdef import FieldSpec
from portal.catalog.indexing import index_item
from portal.catalog.models import CatalogItem, FormVersion
from portal.catalog.policy import can_manage_catalog
from portal.core import audit
from portal.core.actors import Actor, SystemActor
from portal.core.database import DbSession
from portal.core.errors import FormErrors, ValidationError, require


def draft_specs(item: CatalogItem) -> list[FieldSpec]:
    """The form as the admin is editing it (what Pré-visualizar shows)."""
    return [FieldSpec.from_field(f) for f in item.fields]


def current_version(session: DbSession, item: CatalogItem) -> FormVersion | None:
    """The published version requesters fill in (None: never published)."""
    if item.published_version is None:
        return None
    return session.scalar(
        select(FormVersion).where(
            FormVersion.item_id == item.id, FormVersion.number == item.published_version
        )
    )


def published_specs(session: DbSession, item: CatalogItem) -> list[FieldSpec]:
    version = current_version(session, item)
    return formdef.load(version.fields) if version else []


def version_specs(version: FormVersion | None) -> list[FieldSpec]:
    return formdef.load(version.fields) if version else []


def history(session: DbSession, item: CatalogItem) -> list[FormVersion]:
    """Every version of the item's form, newest first."""
    return list(
        session.scalars(
            select(FormVersion)
            .where(FormVersion.item_id == item.id)
            .order_by(FormVersion.number.desc())
        )
    )


def unpublished_changes(session: DbSession, item: CatalogItem) -> list[str]:
    """What the draft changes against the published form (empty: nothing to publish)."""
    current = current_version(session, item)
    if current is None:
        return ["Primeira publicação"]
    return formdef.describe_changes(formdef.load(current.fields), draft_specs(item))


def publish_form(session: DbSession, actor: Actor, item: CatalogItem) -> FormVersion:
    """Freeze the draft as the next version and offer it to requesters.

    Refused, with the reasons, when the item has no group to receive its requests or when
    the draft is a form a requester could not fill in.
    """
    require(can_manage_catalog(actor))
    errors = [ValidationError(p, "fields") for p in formdef.problems(draft_specs(item))]
    if item.group_id is None:
        errors.insert(
            0,
            ValidationError(
                "Escolha o grupo que recebe as solicitações deste item antes de publicar.",
                "group_id",
            ),
        )
    if errors:
        raise FormErrors(errors)
    current = current_version(session, item)
    specs = draft_specs(item)
    if current is not None and formdef.load(current.fields) == specs:
        return current
    changes = (
        formdef.describe_changes(formdef.load(current.fields), specs)
        if current is not None
        else ["Primeira publicação"]
    )
    version = FormVersion(
        item_id=item.id,
        number=(current.number + 1) if current is not None else 1,
        fields=formdef.dump(specs),
        changes=changes,
        published_by_id=None if isinstance(actor, SystemActor) else actor.id,
        published_by_label=actor.label if isinstance(actor, SystemActor) else actor.full_name,
    )
    session.add(version)
    item.published_version = version.number
    session.flush()
    index_item(session, item)  # a first publication puts the item in search
    audit.record(
        session,
        actor,
        "catalog_item.publish",
        "catalog_item",
        item.id,
        after={"version": version.number, "changes": changes},
    )
    return version
