"""Brazil's five regions as data, for routing rules: the form offers "Nordeste" as a shortcut
for its nine UFs, and a rule's text names the region ("Do Nordeste (AL, BA, ...)").

The UFs are IBGE's (portal/clients/data/ufs.csv); the first digit of a UF's IBGE code is its
region (1 Norte, 2 Nordeste, 3 Sudeste, 4 Sul, 5 Centro-Oeste), which a test checks.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Region:
    name: str
    # "do Nordeste", "do Sul": how a sentence names where a request comes from.
    from_text: str
    ufs: tuple[str, ...]

    @property
    def key(self) -> str:
        """A form-friendly identifier ("centro-oeste")."""
        return self.name.lower()


REGIONS: tuple[Region, ...] = (
    Region("Norte", "do Norte", ("AC", "AM", "AP", "PA", "RO", "RR", "TO")),
    Region("Nordeste", "do Nordeste", ("AL", "BA", "CE", "MA", "PB", "PE", "PI", "RN", "SE")),
    Region("Centro-Oeste", "do Centro-Oeste", ("DF", "GO", "MS", "MT")),
    Region("Sudeste", "do Sudeste", ("ES", "MG", "RJ", "SP")),
    Region("Sul", "do Sul", ("PR", "RS", "SC")),
)
ALL_UFS: frozenset[str] = frozenset(uf for region in REGIONS for uf in region.ufs)
REGION_BY_KEY = {region.key: region for region in REGIONS}


def ufs_chosen(ufs: Iterable[str], region_keys: Iterable[str]) -> list[str]:
    """The UFs ticked plus every UF of each region ticked (the form without JavaScript),
    sorted and without repeats; unknown values are kept so the service can refuse them."""
    chosen = {uf.strip().upper() for uf in ufs if uf.strip()}
    for key in region_keys:
        region = REGION_BY_KEY.get(key.strip().lower())
        chosen.update(region.ufs if region else (key,))
    return sorted(chosen)


def describe_places(ufs: Iterable[str]) -> str:
    """Where requests come from, in words: "do Nordeste (AL, BA, ...)", "de BA ou PE",
    "do Sul (PR, RS, SC) e de SP". Whole regions are named; the remaining UFs are listed."""
    wanted = set(ufs)
    parts: list[str] = []
    for region in REGIONS:
        if set(region.ufs) <= wanted:
            parts.append(f"{region.from_text} ({', '.join(region.ufs)})")
            wanted -= set(region.ufs)
    if wanted:
        loose = sorted(wanted)
        listed = ", ".join(loose[:-1]) + " ou " + loose[-1] if len(loose) > 1 else loose[0]
        parts.append(f"de {listed}")
    return " e ".join(parts)
