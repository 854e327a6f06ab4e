"""Runs the scheduled jobs in their own process: `python scheduler.py`.

Web workers never start a scheduler (it would run once per worker); this process is the one
place where jobs are timed. The jobs themselves live in portal/jobs.py.
"""

from __future__ import annotations

import logging
import os

from apscheduler.schedulers.blocking import BlockingScheduler

from portal import create_app, jobs
from portal.extensions import db

log = logging.getLogger("portal.scheduler")


def _run(app, job) -> None:
    with app.app_context():
        try:
            job(db.session)
        except Exception:
            log.exception("job %s failed; the next run goes on", job.__name__)
            db.session.rollback()
        finally:
            db.session.remove()


def main() -> None:
    app = create_app()
    mail_seconds = int(os.environ.get("PORTAL_MAIL_INTERVAL_SECONDS", "30"))
    close_minutes = int(os.environ.get("PORTAL_AUTO_CLOSE_INTERVAL_MINUTES", "15"))
    scheduler = BlockingScheduler(timezone="UTC")
    common = {"max_instances": 1, "coalesce": True, "misfire_grace_time": 60}
    scheduler.add_job(
        _run,
        "interval",
        args=[app, jobs.deliver_mail],
        seconds=mail_seconds,
        id="deliver_mail",
        **common,
    )
    scheduler.add_job(
        _run,
        "interval",
        args=[app, jobs.auto_close],
        minutes=close_minutes,
        id="auto_close",
        **common,
    )
    log.info(
        "scheduler started (mail every %ss, auto-close every %s min)", mail_seconds, close_minutes
    )
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        log.info("scheduler stopped")


if __name__ == "__main__":
    main()
