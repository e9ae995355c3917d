"""``boxoffice schedule``: run the pipeline for every due date of a cron schedule.

``schedule.yaml`` (project root, or ``--config``)::

    cron: "30 6 * * *"      # when runs fire (standard 5-field crontab)
    timezone: "UTC"         # of the cron expression (IANA name)
    lag_days: 1             # a run fired on day D computes as_of = D − lag_days
    catch_up_days: 7        # missed fire times this far back are run too, oldest first

A date is *due* when a fire time in the catch-up window maps to it and ``analytics.pipeline_runs``
has no succeeded (or up-to-date) run for it. Dates after the newest sales data wait. Runs never
overlap: each takes the pipeline's run lock (a row lock in PostgreSQL), and a tick that finds it
held leaves the date due for the next tick. Every run is recorded with trigger ``schedule``.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from boxoffice import warehouse
from boxoffice.pipeline import runner
from boxoffice.warehouse import runs

log = logging.getLogger(__name__)


class ScheduleError(ValueError):
    """The schedule's configuration is invalid; the message names the field."""


@dataclass(frozen=True)
class Schedule:
    cron: str
    timezone: str = "UTC"
    lag_days: int = 1
    catch_up_days: int = 7

    def __post_init__(self) -> None:
        from apscheduler.triggers.cron import CronTrigger

        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ScheduleError(f"timezone: unknown IANA zone {self.timezone!r}") from None
        try:
            CronTrigger.from_crontab(self.cron, timezone=self.timezone)
        except ValueError as exc:
            raise ScheduleError(
                f"cron: {self.cron!r} is not a crontab expression ({exc})"
            ) from None
        if self.lag_days < 0 or self.catch_up_days < 0:
            raise ScheduleError("lag_days and catch_up_days must be zero or more")

    @classmethod
    def load(cls, path: Path) -> Schedule:
        if not path.is_file():
            raise ScheduleError(f"no schedule configuration at {path}")
        data = yaml.safe_load(path.read_text()) or {}
        if not isinstance(data, dict) or "cron" not in data:
            raise ScheduleError(f"{path}: expected a mapping with at least `cron`")
        if unknown := sorted(set(data) - {"cron", "timezone", "lag_days", "catch_up_days"}):
            raise ScheduleError(f"{path}: unknown key(s) {unknown}")
        return cls(**data)

    def fire_times(self, start: dt.datetime, end: dt.datetime) -> list[dt.datetime]:
        """Fire times in ``(start, end]``."""
        from apscheduler.triggers.cron import CronTrigger

        trigger = CronTrigger.from_crontab(self.cron, timezone=self.timezone)
        times, previous, cursor = [], None, start + dt.timedelta(microseconds=1)
        while (fire := trigger.get_next_fire_time(previous, cursor)) is not None and fire <= end:
            times.append(fire)
            previous, cursor = fire, fire + dt.timedelta(microseconds=1)
        return times

    def due_dates(self, now: dt.datetime, done: set[dt.date]) -> list[dt.date]:
        """The as_of dates of fire times in the catch-up window not yet done, oldest first."""
        fires = self.fire_times(now - dt.timedelta(days=self.catch_up_days), now)
        local = ZoneInfo(self.timezone)
        dates = {f.astimezone(local).date() - dt.timedelta(days=self.lag_days) for f in fires}
        return sorted(dates - done)

    def next_fire(self, now: dt.datetime) -> dt.datetime:
        fires = self.fire_times(now, now + dt.timedelta(days=366))
        if not fires:
            raise ScheduleError(f"cron: {self.cron!r} never fires within a year")
        return fires[0]


def tick(
    schedule: Schedule,
    now: dt.datetime,
    say: Callable[[str], None] = log.info,
    after_run: Callable[[], None] | None = None,
) -> list[dt.date]:
    """Run every due date once, oldest first, calling ``after_run`` (the retention policy) after
    each that completes; return the dates that ran to completion."""
    newest = warehouse.newest_sale_date()
    finished = []
    for as_of in schedule.due_dates(now, runs.completed_dates()):
        if newest is None or as_of > newest:
            say(f"{as_of}: waiting for data (newest sales: {newest})")
            continue
        try:
            outcome = runner.run(as_of, trigger="schedule", progress=False)
        except runner.RunInProgress as exc:
            say(f"{as_of}: {exc}; trying again at the next tick")
            break
        except runner.PipelineError as exc:
            say(f"{as_of}: {exc}")
            continue
        say(f"{as_of}: {'built ' + ', '.join(outcome.ran) if outcome.ran else 'up to date'}")
        finished.append(as_of)
        if after_run is not None:
            after_run()
    return finished


def serve(
    schedule: Schedule,
    say: Callable[[str], None] = log.info,
    after_run: Callable[[], None] | None = None,
) -> None:
    """Tick now, then at every fire time, forever (stop with Ctrl-C or SIGTERM)."""
    while True:
        now = dt.datetime.now(dt.UTC)
        tick(schedule, now, say, after_run)
        wake = schedule.next_fire(now)
        say(f"next run at {wake.isoformat()}")
        time.sleep(max((wake - dt.datetime.now(dt.UTC)).total_seconds(), 0) + 1)
