"""CNPJ check digits, numeric and alphanumeric (IN RFB nº 2.229/2024), against published
examples."""

from __future__ import annotations

import pytest

from portal.core.cnpj import (
    InvalidCNPJ,
    check_digits,
    format_cnpj,
    is_valid_cnpj,
    make_cnpj,
    normalize_cnpj,
)


def test_the_receitas_alphanumeric_example_is_valid() -> None:
    # The example of the Receita Federal's note on the alphanumeric CNPJ.
    assert normalize_cnpj("12.ABC.345/01DE-35") == "12ABC34501DE35"
    assert check_digits("12ABC34501DE") == "35"


@pytest.mark.parametrize(
    "raw", ["11.222.333/0001-81", "11222333000181", " 11 222 333 0001 81 ", "00.000.000/0001-91"]
)
def test_numeric_cnpjs_validate_as_before(raw: str) -> None:
    assert is_valid_cnpj(raw)


def test_lower_case_is_accepted_and_upper_cased() -> None:
    assert normalize_cnpj("12.abc.345/01de-35") == "12ABC34501DE35"


@pytest.mark.parametrize(
    "raw", ["11.222.333/0001-82", "11.222.333/0001-18", "12.ABC.345/01DE-36", "12.ABC.345/01DE-53"]
)
def test_wrong_check_digits_are_refused(raw: str) -> None:
    with pytest.raises(InvalidCNPJ, match="dígitos verificadores"):
        normalize_cnpj(raw)


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "1122233300018",  # 13 characters
        "112223330001811",  # 15
        "12.ABC.345/01DE-3A",  # a letter among the check digits
        "12.ABÇ.345/01DE-35",  # not A-Z
        "12#ABC345/01DE-35",
        "11.222.333/0001-8",
    ],
)
def test_wrong_shapes_are_refused(raw: str) -> None:
    assert not is_valid_cnpj(raw)


@pytest.mark.parametrize("char", "0123456789")
def test_all_same_digits_are_refused(char: str) -> None:
    # 00000000000000 even has matching check digits; none of these is a CNPJ.
    assert not is_valid_cnpj(char * 14)


@pytest.mark.parametrize("base", ["112223330001", "12ABC34501DE", "ZZZZZZZZ0001", "a1b2c3d4e5f6"])
def test_make_cnpj_round_trips(base: str) -> None:
    made = make_cnpj(base)
    assert len(made) == 14
    assert normalize_cnpj(made) == made == base.upper() + check_digits(base.upper())
    assert normalize_cnpj(format_cnpj(made)) == made


def test_format() -> None:
    assert format_cnpj("12ABC34501DE35") == "12.ABC.345/01DE-35"
    assert format_cnpj("11222333000181") == "11.222.333/0001-81"
