"""A field's definition as the admin types it, read and checked (Administração > Campos).

Field by field, with messages tied to the definition form's inputs; then against the whole
form with formdef.problems, so a draft never holds a field the requester's form could not
honour. Pure: portal.catalog.field_services applies the result and records it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from portal.catalog import formdef
from portal.catalog.formdef import VALUED_TYPES, FieldSpec
from portal.catalog.models import FieldType, ItemField
from portal.core.errors import FormErrors, ValidationError

LIMITS = {"label": 120, "help_text": 500, "preset": 200, "default": 200}
OPTION_MAX = 200
OPTIONS_MAX = 300


@dataclass
class FieldInput:
    """A field's definition as the admin typed it (options as text, one per line)."""

    label: str = ""
    type: str = FieldType.TEXT.value
    required: bool = False
    help_text: str = ""
    default: str = ""
    preset: str = ""
    options: str = ""
    depends_on: str = ""
    # One line per value of the parent field: "Valor: opção 1; opção 2".
    options_by_parent: str = ""
    show_when_key: str = ""
    show_when_value: str = ""

    @classmethod
    def of(cls, f: ItemField) -> FieldInput:
        """The stored field as the form shows it for editing."""
        return cls(
            label=f.label,
            type=FieldType(f.type).value,
            required=bool(f.required),
            help_text=f.help_text or "",
            default=f.default_value or "",
            preset=f.preset or "",
            options="\n".join(f.options or []),
            depends_on=f.depends_on or "",
            options_by_parent="\n".join(
                f"{value}: {'; '.join(options)}"
                for value, options in (f.options_by_parent or {}).items()
            ),
            show_when_key=f.show_when_key or "",
            show_when_value=f.show_when_value or "",
        )


def checked(
    data: FieldInput,
    key: str,
    earlier: list[FieldSpec],
    form: list[FieldSpec],
    index: int | None = None,
) -> FieldSpec:
    """The definition as a spec, or FormErrors naming the inputs to fix. `earlier` are the
    fields before this one (what it may depend on); `form` is the whole draft, and `index`
    this field's place in it (None: a new field at the end)."""
    errors: list[ValidationError] = []
    spec = _read(data, key, earlier, {s.label for i, s in enumerate(form) if i != index}, errors)
    if errors:
        raise FormErrors(errors)
    changed = [*form, spec] if index is None else [*form[:index], spec, *form[index + 1 :]]
    refuse_new_problems(form, changed, "form")
    return spec


def _read(
    data: FieldInput,
    key: str,
    earlier: list[FieldSpec],
    labels: set[str],
    errors: list[ValidationError],
) -> FieldSpec:
    label = data.label.strip()
    if not label:
        errors.append(ValidationError("Informe o rótulo do campo.", "label"))
    elif label in labels:
        errors.append(ValidationError(f"Já existe um campo “{label}” neste formulário.", "label"))
    for name, limit in LIMITS.items():
        if len(getattr(data, name).strip()) > limit:
            errors.append(ValidationError(f"Use até {limit} caracteres.", name))
    try:
        kind = FieldType(data.type)
    except ValueError:
        errors.append(ValidationError("Escolha o tipo do campo.", "type"))
        kind = FieldType.TEXT
    by_key = {s.key: s for s in earlier}
    spec = FieldSpec(
        key=key,
        label=label,
        type=kind,
        required=data.required and kind is not FieldType.FIXED,
        help_text=data.help_text.strip(),
    )
    spec = _read_type(spec, data, by_key, errors)
    spec = _read_condition(spec, data, by_key, errors)
    return _read_default(spec, data.default.strip(), errors)


def _read_type(
    spec: FieldSpec, data: FieldInput, by_key: dict[str, FieldSpec], errors: list[ValidationError]
) -> FieldSpec:
    if spec.type is FieldType.FIXED:
        preset = data.preset.strip()
        if not preset:
            errors.append(ValidationError("Informe o valor fixo.", "preset"))
        return replace(spec, preset=preset or None)
    if spec.type is FieldType.SELECT:
        options = _lines(data.options, "options", errors)
        if not options:
            errors.append(ValidationError("Informe as opções, uma por linha.", "options"))
        return replace(spec, options=tuple(options))
    if spec.type is FieldType.DEPENDENT_SELECT:
        return _read_dependent(spec, data, by_key, errors)
    return spec


def _read_dependent(
    spec: FieldSpec, data: FieldInput, by_key: dict[str, FieldSpec], errors: list[ValidationError]
) -> FieldSpec:
    parent = by_key.get(data.depends_on)
    if parent is None or parent.type not in VALUED_TYPES:
        errors.append(
            ValidationError(
                "Escolha o campo do qual este depende: uma seleção, seleção dependente, "
                "sim/não ou valor fixo que venha antes dele.",
                "depends_on",
            )
        )
        return spec
    values = formdef.possible_values(parent)
    by_parent = _options_by_parent(data.options_by_parent, parent, values, errors)
    if not by_parent:
        errors.append(
            ValidationError(
                f"Informe as opções para os valores de “{parent.label}”, uma linha por valor, "
                "ex.: “Valor: opção 1; opção 2”.",
                "options_by_parent",
            )
        )
    elif spec.required and (without := [v for v in values if not by_parent.get(v)]):
        errors.append(
            ValidationError(
                "O campo é obrigatório: informe opções também para "
                + ", ".join(f"“{v}”" for v in without)
                + ".",
                "options_by_parent",
            )
        )
    return replace(spec, depends_on=parent.key, options_by_parent=by_parent)


def _options_by_parent(
    text: str, parent: FieldSpec, values: list[str], errors: list[ValidationError]
) -> dict[str, tuple[str, ...]]:
    """ "Valor: a; b" lines, read against the parent's values (a value may hold a colon)."""
    found: dict[str, tuple[str, ...]] = {}
    for line in (raw.strip() for raw in text.splitlines()):
        if not line:
            continue
        value = _leading_value(line, values)
        if value is None:
            named = line.split(":", 1)[0].strip() if ":" in line else line
            errors.append(
                ValidationError(
                    f"“{named}” não é um valor de “{parent.label}”. Comece cada linha com um "
                    f"destes valores e dois-pontos: {', '.join(values)}.",
                    "options_by_parent",
                )
            )
            continue
        rest = line[len(value) :].lstrip()[1:]
        options = _unique(o.strip() for o in rest.split(";"))
        if any(len(o) > OPTION_MAX for o in options):
            errors.append(
                ValidationError(f"Use até {OPTION_MAX} caracteres por opção.", "options_by_parent")
            )
        found[value] = tuple(_unique([*found.get(value, ()), *options]))
    return {value: options for value, options in found.items() if options}


def _leading_value(line: str, values: list[str]) -> str | None:
    """The longest parent value the line starts with, followed by a colon."""
    for value in sorted(values, key=len, reverse=True):
        if line.startswith(value) and line[len(value) :].lstrip().startswith(":"):
            return value
    return None


def _read_condition(
    spec: FieldSpec, data: FieldInput, by_key: dict[str, FieldSpec], errors: list[ValidationError]
) -> FieldSpec:
    if not data.show_when_key:
        return spec
    shown_by = by_key.get(data.show_when_key)
    value = data.show_when_value.strip()
    if (
        shown_by is None
        or shown_by.type not in VALUED_TYPES
        or value not in formdef.possible_values(shown_by)
    ):
        errors.append(
            ValidationError(
                "Escolha a condição entre os valores de um campo de seleção, sim/não ou valor "
                "fixo que venha antes deste.",
                "condition",
            )
        )
        return spec
    return replace(spec, show_when_key=shown_by.key, show_when_value=value)


def _read_default(spec: FieldSpec, default: str, errors: list[ValidationError]) -> FieldSpec:
    """A default the field's own check accepts (formdef, as for an answer), kept cleaned."""
    if not default or spec.is_fixed:
        return spec
    if spec.type is FieldType.DEPENDENT_SELECT:
        if default not in formdef.possible_values(spec):
            errors.append(
                ValidationError("O valor inicial deve ser uma das opções do campo.", "default")
            )
            return spec
        return replace(spec, default=default)
    alone = replace(spec, required=False, show_when_key=None, show_when_value=None)
    cleaned, problems = formdef.check_answers([alone], {spec.key: default})
    if problems:
        errors.append(ValidationError(f"Valor inicial inválido. {problems[0]}", "default"))
        return spec
    return replace(spec, default=cleaned.get(spec.key))


def _lines(text: str, name: str, errors: list[ValidationError]) -> list[str]:
    options = _unique(line.strip() for line in text.splitlines())
    if any(len(o) > OPTION_MAX for o in options):
        errors.append(ValidationError(f"Use até {OPTION_MAX} caracteres por opção.", name))
    if len(options) > OPTIONS_MAX:
        errors.append(ValidationError(f"Use até {OPTIONS_MAX} opções.", name))
    return options


def _unique(values: Any) -> list[str]:
    return [v for v in dict.fromkeys(values) if v]


def refuse_new_problems(before: list[Any], after: list[Any], field: str) -> None:
    """Refuse a change that makes the whole form one a requester could not fill in."""
    old = set(formdef.problems(_specs(before)))
    new = [p for p in formdef.problems(_specs(after)) if p not in old]
    if new:
        raise FormErrors([ValidationError(p, field) for p in new])


def _specs(fields: list[Any]) -> list[FieldSpec]:
    return [f if isinstance(f, FieldSpec) else FieldSpec.from_field(f) for f in fields]
