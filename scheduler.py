"""Runs the scheduled jobs in their own process: `python scheduler.py`.

Web workers never start a scheduler (it would run once per worker); this process is the one
place where jobs are timed. The jobs themselves are plain functions in portal/jobs.py, safe to
run from two schedulers at once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask

from portal import create_app, jobs
from portal.core.extensions import db
from portal.core.timeutil import utcnow

log = logging.getLogger("portal.scheduler")


def run_job(app: Flask, job: Callable[..., object]) -> None:
    """One run of one job; an error is logged and the next run goes on."""
    with app.app_context():
        try:
            job(db.session)
        except Exception:
            log.exception("job %s failed; the next run goes on", job.__name__)
            db.session.rollback()
        finally:
            db.session.remove()


def build_scheduler(app: Flask) -> BlockingScheduler:
    config = app.config
    scheduler = BlockingScheduler(timezone="UTC")
    every = {
        "heartbeat": {"seconds": 30},
        "deliver_mail": {"seconds": config["MAIL_INTERVAL_SECONDS"]},
        # Same cadence as e-mail: both are outboxes whose rows wait for this job.
        "deliver_webhooks": {"seconds": config["MAIL_INTERVAL_SECONDS"]},
        "auto_close": {"minutes": config["AUTO_CLOSE_INTERVAL_MINUTES"]},
        "remind": {"minutes": config["AUTO_CLOSE_INTERVAL_MINUTES"]},
        "purge_pending_uploads": {"hours": 1},
    }
    for name, interval in every.items():
        scheduler.add_job(
            run_job,
            "interval",
            args=[app, jobs.JOBS[name]],
            id=name,
            name=name,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=60,
            next_run_time=utcnow(),
            **interval,
        )
    return scheduler


def main() -> None:
    app = create_app()
    scheduler = build_scheduler(app)
    log.info("scheduler started: %s", ", ".join(j.id for j in scheduler.get_jobs()))
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        log.info("scheduler stopped")


if __name__ == "__main__":
    main()
