"""CPF (Cadastro de Pessoas Físicas) parsing and validation."""

from __future__ import annotations

import re

_NON_DIGITS = re.compile(r"\D")


class InvalidCPF(ValueError):
    """The text is not a valid CPF."""


def _check_digit(digits: str) -> int:
    weight = len(digits) + 1
    total = sum(int(d) * (weight - i) for i, d in enumerate(digits))
    rest = (total * 10) % 11
    return 0 if rest == 10 else rest


def normalize_cpf(raw: str) -> str:
    """Return the 11 digits of a CPF typed with or without punctuation, or raise InvalidCPF."""
    text = (raw or "").strip()
    if not re.fullmatch(r"[\d.\-\s]+", text):
        raise InvalidCPF("CPF inválido.")
    digits = _NON_DIGITS.sub("", text)
    if len(digits) != 11 or digits == digits[0] * 11:
        raise InvalidCPF("CPF inválido.")
    if _check_digit(digits[:9]) != int(digits[9]) or _check_digit(digits[:10]) != int(digits[10]):
        raise InvalidCPF("CPF inválido.")
    return digits


def is_valid_cpf(raw: str) -> bool:
    try:
        normalize_cpf(raw)
    except InvalidCPF:
        return False
    return True


def format_cpf(digits: str) -> str:
    """`12345678909` → `123.456.789-09`."""
    return f"{digits[:3]}.{digits[3:6]}.{digits[6:9]}-{digits[9:]}"


def mask_cpf(digits: str) -> str:
    """For logs: keep only enough to correlate, never the whole number."""
    return f"***.{digits[3:6]}.***-**" if len(digits) == 11 else "***"


def make_cpf(base9: str) -> str:
    """Complete nine digits with their two check digits (demo data and tests)."""
    first = _check_digit(base9)
    second = _check_digit(base9 + str(first))
    return f"{base9}{first}{second}"
