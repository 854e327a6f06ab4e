"""CNPJ (Cadastro Nacional da Pessoa Jurídica) parsing and validation, alphanumeric included.

Since July 2026 the Receita Federal issues CNPJs whose first twelve characters may be letters
or digits (Instrução Normativa RFB nº 2.229/2024); the two check digits stay digits. The
algorithm is the old modulo 11 one with each character's value taken as its ASCII code minus
48, so a numeric CNPJ validates exactly as before.
"""

from __future__ import annotations

import re

_FIRST_WEIGHTS = (5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2)
_SECOND_WEIGHTS = (6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2)
_SHAPE = re.compile(r"[0-9A-Z]{12}[0-9]{2}")
_PUNCTUATION = re.compile(r"[.\-/\s]")


class InvalidCNPJ(ValueError):
    """The text is not a valid CNPJ."""


def _check_digit(base: str, weights: tuple[int, ...]) -> int:
    total = sum((ord(char) - 48) * weight for char, weight in zip(base, weights, strict=True))
    rest = total % 11
    return 0 if rest < 2 else 11 - rest


def check_digits(base12: str) -> str:
    """The two check digits of twelve characters (letters upper case)."""
    first = _check_digit(base12, _FIRST_WEIGHTS)
    second = _check_digit(base12 + str(first), _SECOND_WEIGHTS)
    return f"{first}{second}"


def normalize_cnpj(raw: str) -> str:
    """The fourteen characters of a CNPJ typed with or without punctuation, or InvalidCNPJ."""
    text = _PUNCTUATION.sub("", (raw or "").strip()).upper()
    if not _SHAPE.fullmatch(text) or text == text[0] * 14:
        raise InvalidCNPJ("CNPJ inválido.")
    if check_digits(text[:12]) != text[12:]:
        raise InvalidCNPJ("CNPJ inválido: os dígitos verificadores não conferem.")
    return text


def is_valid_cnpj(raw: str) -> bool:
    try:
        normalize_cnpj(raw)
    except InvalidCNPJ:
        return False
    return True


def format_cnpj(value: str) -> str:
    """`12ABC34501DE35` → `12.ABC.345/01DE-35`."""
    if len(value) != 14:
        return value
    return f"{value[:2]}.{value[2:5]}.{value[5:8]}/{value[8:12]}-{value[12:]}"


def make_cnpj(base12: str) -> str:
    """Complete twelve characters with their check digits (demo data and tests)."""
    return base12.upper() + check_digits(base12.upper())
