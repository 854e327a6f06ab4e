"""Brazilian phone numbers: (DDD) plus 8 digits for landlines or 9 (starting with 9) for mobiles."""

from __future__ import annotations

import re


class InvalidPhone(ValueError):
    pass


def normalize_phone(raw: str) -> str:
    """`71999998888`, `+55 (71) 3202-0000`... → `(71) 99999-8888` / `(71) 3202-0000`."""
    text = (raw or "").strip()
    if not re.fullmatch(r"[\d\s()+.\-]+", text):
        raise InvalidPhone
    digits = re.sub(r"\D", "", text)
    if len(digits) in (12, 13) and digits.startswith("55"):
        digits = digits[2:]
    if len(digits) not in (10, 11) or digits[0] == "0" or digits[1] == "0":
        raise InvalidPhone
    number = digits[2:]
    if len(number) == 9 and number[0] != "9":
        raise InvalidPhone
    if len(number) == 8 and number[0] not in "2345":
        raise InvalidPhone
    return f"({digits[:2]}) {number[:-4]}-{number[-4:]}"
