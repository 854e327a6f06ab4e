"""Announcements ("Comunicado") shown on the home page."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.core.extensions import Model
from portal.core.timeutil import utcnow
from portal.core.types import UTCDateTime


class Announcement(Model):
    __tablename__ = "announcements"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(default=True, index=True)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
