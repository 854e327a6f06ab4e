"""One page of a list paged in SQL, as every list's pager shows it."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select

from portal.core.database import DbSession

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    rows: list[T]
    total: int
    page: int
    per_page: int
    # True when `total` only says "at least this many" (counting stopped past the pages near
    # this one, so a deep page never costs a count of the whole table).
    more: bool = False

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def first_row(self) -> int:
        return 0 if self.total == 0 else (self.page - 1) * self.per_page + 1

    @property
    def last_row(self) -> int:
        return min(self.page * self.per_page, self.total)

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def count_to_horizon(
    session: DbSession, ids: Select[Any], page: int, per_page: int, pages_ahead: int = 10
) -> tuple[int, bool]:
    """Count only as far as `pages_ahead` pages past this one: (total, whether there are more).

    A person with 12,000 requests would otherwise count them all on every page view.
    """
    horizon = (max(1, page) + pages_ahead) * per_page
    total = session.scalar(select(func.count()).select_from(ids.limit(horizon + 1).subquery()))
    total = total or 0
    return min(total, horizon), total > horizon


def clamp_page(page: int, total: int, per_page: int) -> int:
    return max(1, min(page, max(1, math.ceil(total / per_page))))
