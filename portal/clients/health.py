"""A client's health over the last 90 days, for the client page.

Each number reads the window or a bounded number of rows, never the client's whole history:
occurrences through the index (organisation_id, occurred_on), open requests from
client_request_counts, outcomes from client_request_days (at most 90 days × 4 measures, kept by
triggers: portal.clients.derived), and the median time to resolve over the latest
`MEDIAN_SAMPLE` resolutions in the window through (organisation_id, resolved_at).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, ScalarResult, func, select

from portal.clients.models import ClientRequestCount, ClientRequestDay, Impact, Occurrence
from portal.core.database import DbSession
from portal.requests.lifecycle import ACTIVE_STATES
from portal.requests.models import ServiceRequest

WINDOW_DAYS = 90
MEDIAN_SAMPLE = 200


@dataclass(frozen=True)
class HealthSummary:
    """What the client page's "Saúde do cliente" shows."""

    start: date  # first day of the window (inclusive)
    end: date  # today (inclusive)
    occurrences: dict[Impact, int] = field(default_factory=dict)
    open_requests: int = 0
    resolved: int = 0
    median_resolution: timedelta | None = None
    median_sample: int = 0  # how many resolutions the median is over
    median_capped: bool = False  # True: over the latest MEDIAN_SAMPLE, not all of the window
    accepted: int = 0
    rejected: int = 0
    auto_closed: int = 0

    @property
    def occurrence_total(self) -> int:
        return sum(self.occurrences.values())

    @property
    def median_label(self) -> str:
        return format_duration(self.median_resolution)


def format_duration(value: timedelta | None) -> str:
    """Like "2 dias e 4 horas", "5 horas" or "35 min"; "—" when there is nothing to measure."""
    if value is None:
        return "—"
    minutes = max(0, int(value.total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        text = f"{days} dia{'s' if days != 1 else ''}"
        return f"{text} e {hours} hora{'s' if hours != 1 else ''}" if hours else text
    if hours:
        return f"{hours} hora{'s' if hours != 1 else ''}"
    return f"{minutes} min"


def window(today: date) -> tuple[date, date]:
    """The last WINDOW_DAYS days, today included."""
    return today - timedelta(days=WINDOW_DAYS - 1), today


def health_summary(session: DbSession, organisation_id: int, today: date) -> HealthSummary:
    """The 90-day health of one client (`today` in the portal's time zone; the request
    outcomes are tallied by their UTC day)."""
    start, end = window(today)
    occurrences = {impact: 0 for impact in Impact}
    by_impact = session.execute(
        select(Occurrence.impact, func.count())
        .where(
            Occurrence.organisation_id == organisation_id,
            Occurrence.occurred_on >= start,
            Occurrence.occurred_on <= end,
        )
        .group_by(Occurrence.impact)
    )
    for impact, total in by_impact:
        occurrences[Impact(impact)] = int(total)
    open_requests = session.scalar(
        select(func.coalesce(func.sum(ClientRequestCount.total), 0)).where(
            ClientRequestCount.organisation_id == organisation_id,
            ClientRequestCount.state.in_(sorted(s.value for s in ACTIVE_STATES)),
        )
    )
    measures = dict(
        session.execute(
            select(ClientRequestDay.measure, func.sum(ClientRequestDay.total))
            .where(
                ClientRequestDay.organisation_id == organisation_id,
                ClientRequestDay.day >= start,
                ClientRequestDay.day <= end,
            )
            .group_by(ClientRequestDay.measure)
        ).all()
    )
    durations = _latest_resolutions(session, organisation_id, start)
    capped = len(durations) > MEDIAN_SAMPLE
    durations = durations[:MEDIAN_SAMPLE]
    return HealthSummary(
        start=start,
        end=end,
        occurrences=occurrences,
        open_requests=int(open_requests or 0),
        resolved=int(measures.get("resolved") or 0),
        median_resolution=_median(durations),
        median_sample=len(durations),
        median_capped=capped,
        accepted=int(measures.get("accepted") or 0),
        rejected=int(measures.get("rejected") or 0),
        auto_closed=int(measures.get("auto_closed") or 0),
    )


def _median(seconds: list[float]) -> timedelta | None:
    """The exact median (the mean of the middle two for an even count)."""
    if not seconds:
        return None
    ordered = sorted(seconds)
    middle = len(ordered) // 2
    value = ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
    return timedelta(seconds=round(value))


def _seconds_to_resolve(session: DbSession) -> ColumnElement[Any]:
    """Opening to resolution in seconds, computed by the database: a busy client's page then
    reads numbers, not two timestamps per row to parse."""
    SR = ServiceRequest  # noqa: N806
    if session.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", SR.resolved_at - SR.opened_at)
    return (func.julianday(SR.resolved_at) - func.julianday(SR.opened_at)) * 86400.0


def _latest_resolutions(session: DbSession, organisation_id: int, start: date) -> list[float]:
    """Opening-to-resolution times of the latest resolutions since `start`, newest first, one
    more than the sample so the caller knows whether it was capped."""
    since = datetime.combine(start, time.min, tzinfo=UTC)
    SR = ServiceRequest  # noqa: N806
    seconds: ScalarResult[Any] = session.scalars(
        select(_seconds_to_resolve(session))
        .where(SR.organisation_id == organisation_id, SR.resolved_at >= since)
        .order_by(SR.resolved_at.desc())
        .limit(MEDIAN_SAMPLE + 1)
    )
    return [float(value) for value in seconds if value is not None]
