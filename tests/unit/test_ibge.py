"""The IBGE list shipped with the portal: 27 UFs, 5,570 municípios, codes that agree with
their UF and, but for nine listed codes, with IBGE's check digit."""

from __future__ import annotations

from portal.clients import ibge

# Municípios created in the 1990s whose code's last digit breaks the check-digit rule.
EXCEPTIONS = {
    "2201919",
    "2201988",
    "2202251",
    "2611533",
    "3117836",
    "3152131",
    "4305871",
    "5203939",
    "5203962",
}


def test_counts() -> None:
    assert len(ibge.states()) == 27
    assert len(ibge.municipalities()) == 5570
    assert len({p.code for p in ibge.municipalities()}) == 5570
    assert len({p.uf for p in ibge.states()}) == 27


def test_each_municipio_code_starts_with_its_ufs_code() -> None:
    uf_codes = ibge.uf_codes()
    assert all(len(code) == 2 and code.isdigit() for code in uf_codes.values())
    for place in ibge.municipalities():
        assert len(place.code) == 7 and place.code.isdigit(), place
        assert place.code[:2] == uf_codes[place.uf], place


def test_feira_de_santana() -> None:
    place = ibge.find("2910800")
    assert place is not None
    assert (place.name, place.uf, place.is_state) == ("Feira de Santana", "BA", False)
    bahia = ibge.find("29")
    assert bahia is not None and bahia.uf == "BA" and bahia.is_state


def test_the_check_digit_holds_for_all_but_the_nine_exceptions() -> None:
    breaking = {
        p.code for p in ibge.municipalities() if ibge.check_digit(p.code[:6]) != int(p.code[6])
    }
    assert breaking == EXCEPTIONS


def test_unknown_codes() -> None:
    assert ibge.find("2910801") is None
    assert ibge.find("99") is None
    assert ibge.find("") is None
