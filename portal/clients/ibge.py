"""The IBGE codes of the 27 UFs and 5,570 municípios, from the data files shipped beside this
module (see data/README.md for where they come from).

A município's code has seven digits: the UF's two, four of its own and a check digit (modulo
10 with weights 1-2-1-2-1-2). Nine municípios created in the 1990s got codes whose last digit
breaks that rule; the official list is the authority, so a code is valid when it is listed.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"


@dataclass(frozen=True)
class Place:
    code: str
    uf: str
    name: str

    @property
    def is_state(self) -> bool:
        return len(self.code) == 2


def _read(name: str) -> tuple[Place, ...]:
    with (DATA_DIR / name).open(encoding="utf-8", newline="") as handle:
        return tuple(Place(r["codigo_ibge"], r["uf"], r["nome"]) for r in csv.DictReader(handle))


@cache
def states() -> tuple[Place, ...]:
    return _read("ufs.csv")


@cache
def municipalities() -> tuple[Place, ...]:
    return _read("municipios.csv")


@cache
def _by_code() -> dict[str, Place]:
    return {place.code: place for place in (*states(), *municipalities())}


def find(code: str) -> Place | None:
    """The UF (two digits) or município (seven digits) of an IBGE code, if listed."""
    return _by_code().get((code or "").strip())


def uf_codes() -> dict[str, str]:
    """UF abbreviation → its two-digit IBGE code."""
    return {place.uf: place.code for place in states()}


def check_digit(first_six: str) -> int:
    """The seventh digit of a município code by IBGE's rule (nine listed codes differ)."""
    total = 0
    for position, char in enumerate(first_six):
        product = int(char) * (1 if position % 2 == 0 else 2)
        total += product // 10 + product % 10
    return (10 - total % 10) % 10
