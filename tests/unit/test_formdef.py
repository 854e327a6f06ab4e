"""The form engine (portal.catalog.formdef): what each type accepts, which fields show, how a
dependent field's options follow its parent, that a fixed value always wins, how a new version
is described and which definitions cannot be published."""

from __future__ import annotations

from typing import Any

import pytest

from portal.catalog import formdef
from portal.catalog.formdef import FieldSpec
from portal.catalog.models import FieldType
from portal.core.cpf import format_cpf, make_cpf

CPF = make_cpf("123456789")


def spec(key: str = "campo", kind: FieldType = FieldType.TEXT, **extra: Any) -> FieldSpec:
    return FieldSpec(key=key, label=extra.pop("label", key.capitalize()), type=kind, **extra)


def check(one: FieldSpec, answer: str) -> tuple[dict[str, str], list[str]]:
    cleaned, errors = formdef.check_answers([one], {one.key: answer})
    return cleaned, [str(e) for e in errors]


VALID = [
    (spec(kind=FieldType.TEXT), "  Olá  ", "Olá"),
    (spec(kind=FieldType.TEXTAREA), "linha 1\nlinha 2", "linha 1\nlinha 2"),
    (spec(kind=FieldType.SELECT, options=("A", "B")), "B", "B"),
    (spec(kind=FieldType.YES_NO), "Sim", "Sim"),
    (spec(kind=FieldType.YES_NO), "Não", "Não"),
    (spec(kind=FieldType.PHONE), "71 32020000", "(71) 3202-0000"),
    (spec(kind=FieldType.EMAIL), "Maria@Exemplo.GOV.br", "maria@exemplo.gov.br"),
    (spec(kind=FieldType.DATE), "05/02/2025", "05/02/2025"),
    (spec(kind=FieldType.DATE), "2025-02-05", "05/02/2025"),  # the browser's date picker
    (spec(kind=FieldType.NUMBER), "3.5", "3,5"),
    (spec(kind=FieldType.NUMBER), "-12", "-12"),
    (spec(kind=FieldType.CPF), CPF, format_cpf(CPF)),
]

INVALID = [
    (spec(kind=FieldType.TEXT), "x" * (formdef.TEXT_MAX + 1), "aceita até 2000"),
    (spec(kind=FieldType.TEXTAREA), "x" * (formdef.TEXTAREA_MAX + 1), "aceita até 10000"),
    (spec(kind=FieldType.SELECT, options=("A", "B")), "C", "Escolha uma opção válida"),
    (spec(kind=FieldType.YES_NO), "Talvez", "Escolha uma opção válida"),
    (spec(kind=FieldType.PHONE), "123", "informe o DDD"),
    (spec(kind=FieldType.EMAIL), "maria@", "e-mail válido"),
    (spec(kind=FieldType.DATE), "31/02/2025", "DD/MM/AAAA"),
    (spec(kind=FieldType.DATE), "amanhã", "DD/MM/AAAA"),
    (spec(kind=FieldType.NUMBER), "doze", "informe um número"),
    (spec(kind=FieldType.NUMBER), "1,2,3", "informe um número"),
    (spec(kind=FieldType.CPF), "111.111.111-11", "CPF inválido"),
]


@pytest.mark.parametrize(("one", "answer", "kept"), VALID, ids=lambda v: str(v)[:30])
def test_each_type_keeps_a_valid_answer_cleaned(one: FieldSpec, answer: str, kept: str) -> None:
    assert check(one, answer) == ({one.key: kept}, [])


@pytest.mark.parametrize(("one", "answer", "message"), INVALID, ids=lambda v: str(v)[:30])
def test_each_type_refuses_an_invalid_answer(one: FieldSpec, answer: str, message: str) -> None:
    cleaned, errors = check(one, answer)
    assert cleaned == {}
    assert len(errors) == 1 and message in errors[0], errors


@pytest.mark.parametrize("kind", [k for k in FieldType if k is not FieldType.FIXED])
def test_every_type_is_required_only_when_marked(kind: FieldType) -> None:
    options = ("A",) if kind is FieldType.SELECT else ()
    assert check(spec(kind=kind, options=options), "") == ({}, [])
    _, errors = check(spec(kind=kind, options=options, required=True, label="Motivo"), "  ")
    assert errors == ["O campo “Motivo” é obrigatório."]


def test_errors_name_their_field() -> None:
    specs = [spec("a", required=True), spec("b", FieldType.EMAIL)]
    _, errors = formdef.check_answers(specs, {"b": "nada"})
    assert [e.field for e in errors] == ["a", "b"]


# ---------------------------------------------------------------- fixed values


def test_a_fixed_value_always_wins_over_what_was_sent() -> None:
    specs = [spec("modulo", FieldType.FIXED, preset="Gestão de usuários")]
    assert formdef.check_answers(specs, {"modulo": "Outro módulo"}) == (
        {"modulo": "Gestão de usuários"},
        [],
    )
    assert formdef.check_answers(specs, {}) == ({"modulo": "Gestão de usuários"}, [])
    assert formdef.typed_answers(specs, {"modulo": "Outro"}) == {}


# ---------------------------------------------------------------- dependent options

FUNCIONALIDADE = spec("funcionalidade", FieldType.SELECT, options=("Login", "Consulta"))
SINTOMA = spec(
    "sintoma",
    FieldType.DEPENDENT_SELECT,
    depends_on="funcionalidade",
    options_by_parent={"Login": ("Senha não aceita", "Lento"), "Consulta": ("Lento", "Vazio")},
)


def test_dependent_options_follow_the_parents_answer() -> None:
    assert SINTOMA.choices_for({"funcionalidade": "Login"}) == ["Senha não aceita", "Lento"]
    assert SINTOMA.choices_for({"funcionalidade": "Consulta"}) == ["Lento", "Vazio"]
    # An empty parent offers every option once, in order (the script narrows them).
    assert SINTOMA.display_options({}) == ["Senha não aceita", "Lento", "Vazio"]
    assert formdef.possible_values(SINTOMA) == ["Senha não aceita", "Lento", "Vazio"]


def test_a_dependent_answer_must_belong_to_the_parents_answer() -> None:
    specs = [FUNCIONALIDADE, SINTOMA]
    ok = {"funcionalidade": "Login", "sintoma": "Senha não aceita"}
    assert formdef.check_answers(specs, ok) == (ok, [])
    _, errors = formdef.check_answers(specs, {"funcionalidade": "Consulta", "sintoma": "Senha"})
    assert [str(e) for e in errors] == ["Escolha uma opção válida para “Sintoma”."]
    _, errors = formdef.check_answers(specs, {"sintoma": "Lento"})
    assert [str(e) for e in errors] == ["Escolha antes o campo do qual “Sintoma” depende."]


def test_a_dependent_field_can_follow_a_fixed_value() -> None:
    modulo = spec("modulo", FieldType.FIXED, preset="Gestão")
    child = spec(
        "tela",
        FieldType.DEPENDENT_SELECT,
        depends_on="modulo",
        options_by_parent={"Gestão": ("A",)},
    )
    assert formdef.check_answers([modulo, child], {"tela": "A"}) == (
        {"modulo": "Gestão", "tela": "A"},
        [],
    )


# ---------------------------------------------------------------- visibility

MOTIVO = spec("motivo", FieldType.SELECT, options=("Erro", "Outros"))
DETALHE = spec("detalhe", FieldType.YES_NO, show_when_key="motivo", show_when_value="Outros")
QUAL = spec("qual", required=True, show_when_key="detalhe", show_when_value="Sim")
CHAIN = [MOTIVO, DETALHE, QUAL]


@pytest.mark.parametrize(
    ("answers", "shown"),
    [
        ({}, {"motivo"}),
        ({"motivo": "Erro", "detalhe": "Sim"}, {"motivo"}),  # chain broken at the first link
        ({"motivo": "Outros"}, {"motivo", "detalhe"}),
        ({"motivo": "Outros", "detalhe": "Não"}, {"motivo", "detalhe"}),
        ({"motivo": "Outros", "detalhe": "Sim"}, {"motivo", "detalhe", "qual"}),
    ],
)
def test_visibility_follows_a_chain_of_conditions(answers: dict, shown: set) -> None:
    assert formdef.visible_keys(CHAIN, answers) == shown


def test_a_hidden_field_is_neither_required_nor_kept() -> None:
    sent = {"motivo": "Erro", "detalhe": "Sim", "qual": "texto escondido"}
    assert formdef.check_answers(CHAIN, sent) == ({"motivo": "Erro"}, [])
    _, errors = formdef.check_answers(CHAIN, {"motivo": "Outros", "detalhe": "Sim"})
    assert [e.field for e in errors] == ["qual"]


def test_initial_values_are_defaults_and_fixed_values() -> None:
    specs = [
        spec("a", default="x"),
        spec("b", FieldType.FIXED, preset="P", default="ignored"),
        spec("c"),
    ]
    assert formdef.initial_values(specs) == {"a": "x", "b": "P"}


def test_specs_survive_the_round_trip_through_json() -> None:
    specs = [MOTIVO, DETALHE, QUAL, FUNCIONALIDADE, SINTOMA]
    assert formdef.load(formdef.dump(specs)) == specs


# ---------------------------------------------------------------- describe_changes


def test_describe_changes_names_additions_removals_renames_and_edits() -> None:
    old = [MOTIVO, spec("sintoma", label="Sintoma"), spec("obs", label="Observação")]
    new = [
        spec("motivo", FieldType.SELECT, label="Razão", options=("Erro", "Outros")),
        spec("obs", label="Observação", required=True),
        spec("data", FieldType.DATE, label="Data"),
    ]
    assert formdef.describe_changes(old, new) == [
        "Campo “Data” adicionado",
        "Campo “Sintoma” removido",
        "Campo “Motivo” renomeado para “Razão”",
        "Campo “Observação” alterado",
    ]


def test_describe_changes_notices_a_new_order_only_when_nothing_else_changed() -> None:
    assert formdef.describe_changes([MOTIVO, DETALHE], [DETALHE, MOTIVO]) == [
        "Ordem dos campos alterada"
    ]
    assert formdef.describe_changes([MOTIVO], [MOTIVO]) == []


# ---------------------------------------------------------------- problems


def test_a_consistent_form_has_no_problems() -> None:
    assert formdef.problems([*CHAIN, FUNCIONALIDADE, SINTOMA]) == []


@pytest.mark.parametrize(
    ("specs", "problem"),
    [
        ([spec("m", FieldType.FIXED, label="Módulo")], "“Módulo” é de valor fixo e não tem valor."),
        ([spec("m", FieldType.SELECT, label="Motivo")], "“Motivo” é uma seleção sem opções."),
        ([SINTOMA, FUNCIONALIDADE], "“Sintoma” depende de um campo que não vem antes dele."),
        ([spec("funcionalidade"), SINTOMA], "que não tem uma lista de valores"),
        (
            [
                FUNCIONALIDADE,
                spec("sintoma", FieldType.DEPENDENT_SELECT, depends_on="funcionalidade"),
            ],
            "não tem opções para os valores de “Funcionalidade”",
        ),
        (
            [
                FUNCIONALIDADE,
                spec(
                    "s",
                    FieldType.DEPENDENT_SELECT,
                    label="S",
                    depends_on="funcionalidade",
                    options_by_parent={"Relatórios": ("A",)},
                ),
            ],
            "“S” tem opções para “Relatórios”, que não é um valor de “Funcionalidade”.",
        ),
        ([DETALHE, MOTIVO], "“Detalhe” aparece conforme um campo que não vem antes dele."),
        (
            [spec("motivo"), DETALHE],
            "“Detalhe” aparece conforme “Motivo”, que não tem uma lista de valores.",
        ),
        (
            [MOTIVO, spec("d", label="D", show_when_key="motivo", show_when_value="Nenhum")],
            "“D” aparece quando “Motivo” for “Nenhum”, que não é um valor de “Motivo”.",
        ),
        ([MOTIVO, MOTIVO], "Há mais de um campo com a chave “motivo”."),
    ],
)
def test_problems_name_what_the_requesters_form_could_not_honour(
    specs: list[FieldSpec], problem: str
) -> None:
    found = formdef.problems(specs)
    assert any(problem in p for p in found), found
