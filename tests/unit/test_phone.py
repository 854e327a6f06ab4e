import pytest

from portal.core.phone import InvalidPhone, normalize_phone


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("71999998888", "(71) 99999-8888"),
        ("(71) 3202-0000", "(71) 3202-0000"),
        ("+55 71 3202 0000", "(71) 3202-0000"),
        ("11 9 8765-4321", "(11) 98765-4321"),
    ],
)
def test_valid_brazilian_numbers(raw: str, expected: str) -> None:
    assert normalize_phone(raw) == expected


@pytest.mark.parametrize(
    "raw", ["", "12345", "(71) 8888-888", "(01) 3202-0000", "71 89999 8888", "7132020000x", "<b>"]
)
def test_invalid_numbers(raw: str) -> None:
    with pytest.raises(InvalidPhone):
        normalize_phone(raw)
