import pytest

from portal.core.cpf import InvalidCPF, format_cpf, make_cpf, mask_cpf, normalize_cpf


@pytest.mark.parametrize("raw", ["529.982.247-25", "52998224725", " 529 982 247 25 "])
def test_accepts_cpf_with_or_without_punctuation(raw: str) -> None:
    assert normalize_cpf(raw) == "52998224725"


@pytest.mark.parametrize(
    "raw",
    [
        "529.982.247-24",
        "52998224735",
        "111.111.111-11",
        "00000000000",
        "1234567890",
        "abc",
        "",
        "5299822472a",
    ],
)
def test_refuses_wrong_check_digits_repeated_digits_and_garbage(raw: str) -> None:
    with pytest.raises(InvalidCPF):
        normalize_cpf(raw)


def test_make_cpf_produces_valid_numbers() -> None:
    for base in ("111444777", "123456789", "000000001"):
        assert normalize_cpf(make_cpf(base)) == make_cpf(base)
    assert make_cpf("111444777") == "11144477735"


def test_format_and_mask() -> None:
    assert format_cpf("52998224725") == "529.982.247-25"
    masked = mask_cpf("52998224725")
    assert "52998224725" not in masked and "982" in masked
