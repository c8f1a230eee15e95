"""Scheduled publishing: the loop that publishes what is due, and when a schedule is late.

`workflow.publish_due()` does the publishing (each article and revision locked, then
re-checked), so any number of these loops, one per app server, and cron's
`manage.py publish_scheduled` may run at once. `manage.py run_scheduler` runs the loop;
`make run` starts it beside gunicorn.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import close_old_connections, connections
from django.utils import timezone

from .models import Revision
from .workflow import SCHEDULABLE_STATUSES, publish_due

logger = logging.getLogger(__name__)

DEFAULT_INTERVAL_SECONDS = 30.0

# A schedule still waiting this long after its time was missed by every scheduler: the
# scheduler (or cron) is not running, or the revision can no longer be published. Twice
# cron's minute, so a run that is merely due any moment is not flagged.
OVERDUE_AFTER = timedelta(minutes=2)


def site_time_zone() -> ZoneInfo:
    """The zone in which staff enter and read schedule times: settings.TIME_ZONE, whatever
    zone the browser or the server's clock is in."""
    return ZoneInfo(settings.TIME_ZONE)


class NotAWallClockTime(ValueError):
    """A local time that the site's zone skips (clocks go forward) or has twice (back)."""


def aware_in_site_zone(value: datetime) -> datetime:
    """A naive wall-clock time read as the site's zone; an aware one is left as it is.
    A time that does not exist there, or exists twice, is refused rather than guessed."""
    if value.tzinfo is not None and value.utcoffset() is not None:
        return value
    zone = site_time_zone()
    aware = value.replace(tzinfo=zone)
    if aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != value:
        raise NotAWallClockTime(
            f"{value:%Y-%m-%d %H:%M} does not exist in {zone.key}: the clocks go forward then."
        )
    if aware.utcoffset() != aware.replace(fold=1).utcoffset():
        raise NotAWallClockTime(
            f"{value:%Y-%m-%d %H:%M} happens twice in {zone.key} (the clocks go back): "
            "choose another time."
        )
    return aware


def in_site_zone(value: datetime) -> datetime:
    """An aware time as the site's zone reads it."""
    return value.astimezone(site_time_zone())


def schedule_overdue(revision: Revision, *, now: datetime | None = None) -> bool:
    """Whether this revision's schedule is more than OVERDUE_AFTER past and it is still
    waiting to go live. The one rule for "overdue schedule": the admin home and the review
    page both ask it."""
    if revision.publish_at is None or revision.status not in SCHEDULABLE_STATUSES:
        return False
    return (now or timezone.now()) - revision.publish_at > OVERDUE_AFTER


def _drop_stale_connections() -> None:
    """What Django does around each request, for this long-lived process: close connections
    past CONN_MAX_AGE or broken (the database restarted). Never inside a transaction: one
    that a caller (a test) holds open stays open."""
    if not any(conn.in_atomic_block for conn in connections.all(initialized_only=True)):
        close_old_connections()


class Scheduler:
    """Calls `publish` every `interval` seconds until `stop()` (a signal handler may call
    it), or for `iterations` rounds. A failing round is logged and the loop goes on: a
    database that is down for a minute must not end scheduled publishing."""

    STOP_CHECK_SECONDS = 0.5

    def __init__(
        self,
        *,
        interval: float = DEFAULT_INTERVAL_SECONDS,
        publish: Callable[[], list[Revision]] = publish_due,
    ) -> None:
        if interval <= 0:
            raise ValueError("The interval must be a positive number of seconds.")
        self.interval = interval
        self._publish = publish
        self._stop_requested = False

    def stop(self) -> None:
        # Only sets a flag: safe in a signal handler, which may interrupt anything.
        self._stop_requested = True

    @property
    def stopping(self) -> bool:
        return self._stop_requested

    def _pause(self, seconds: float) -> None:
        """Sleep between rounds in short steps, so a stop never waits out the interval."""
        deadline = time.monotonic() + seconds
        while not self._stop_requested:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            time.sleep(min(remaining, self.STOP_CHECK_SECONDS))

    def run_once(self) -> list[Revision]:
        _drop_stale_connections()
        try:
            published = self._publish()
        except Exception:
            logger.exception("Scheduled publishing failed; trying again in %g s.", self.interval)
            return []
        finally:
            _drop_stale_connections()
        for revision in published:
            logger.info(
                "Published “%s” (revision %s, article %s) on schedule.",
                revision.title,
                revision.number,
                revision.article_id,
            )
        return published

    def run(self, *, iterations: int | None = None) -> int:
        """Run until stopped (or `iterations` rounds); return the number of revisions
        published."""
        logger.info("Scheduler started: publishing due revisions every %g s.", self.interval)
        published = rounds = 0
        while not self.stopping:
            published += len(self.run_once())
            rounds += 1
            if iterations is not None and rounds >= iterations:
                break
            self._pause(self.interval)
        logger.info("Scheduler stopped after %d round(s); %d published.", rounds, published)
        return published
