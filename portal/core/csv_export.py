"""CSV exports for Brazilian Excel: UTF-8 with a BOM, ";" between cells, CRLF, and every cell
that a spreadsheet would run as a formula neutralised. Lists stream their export through
`csv_stream` in batches, so a long export never sits whole in memory."""

from __future__ import annotations

import csv
import io
from collections.abc import Generator, Iterable, Iterator, Sequence
from typing import Any

from sqlalchemy import Executable, Row

from portal.core.database import DbSession

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: str) -> str:
    """A cell a spreadsheet would run as a formula starts with a quote instead."""
    return f"'{value}" if value.startswith(FORMULA_START) else value


def row_batches(session: DbSession, query: Executable) -> Generator[Sequence[Row[Any]], None, None]:
    """The rows of a `yield_per` query, a batch at a time (a server-side cursor on
    PostgreSQL). Callers wrap it in contextlib.closing, so a download stopped halfway (a
    closed connection) closes the cursor at once, not whenever the collector runs."""
    result = session.execute(query)
    try:
        yield from result.partitions()
    finally:
        result.close()


def csv_stream(header: list[str], batches: Iterable[Iterable[Iterable[Any]]]) -> Iterator[str]:
    """The header (after the BOM), then one chunk of text per batch of rows; None is an empty
    cell, anything else its text, neutralised."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")

    def chunk(rows: Iterable[Iterable[Any]]) -> str:
        buffer.seek(0)
        buffer.truncate()
        for row in rows:
            writer.writerow([neutralise("" if cell is None else str(cell)) for cell in row])
        return buffer.getvalue()

    yield "\ufeff" + chunk([header])
    for batch in batches:
        yield chunk(batch)
