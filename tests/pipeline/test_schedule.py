"""`boxoffice schedule`: due dates from a cron expression, catch-up, locking, run history."""

import datetime as dt

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from boxoffice.cli import main
from boxoffice.pipeline import runner
from boxoffice.pipeline.schedule import Schedule, ScheduleError, tick
from boxoffice.warehouse import engine

UTC = dt.UTC


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_due_dates_are_the_lagged_fire_dates_not_done_yet():
    daily = Schedule(cron="0 6 * * *", timezone="UTC", lag_days=1, catch_up_days=3)
    # fire times in (10-31 07:00, 11-03 07:00]: 11-01, 11-02, 11-03 at 06:00 → as_of one day before
    assert daily.due_dates(at("2026-11-03 07:00"), done=set()) == [
        dt.date(2026, 10, 31),
        dt.date(2026, 11, 1),
        dt.date(2026, 11, 2),
    ]
    assert daily.due_dates(at("2026-11-03 07:00"), done={dt.date(2026, 10, 31)}) == [
        dt.date(2026, 11, 1),
        dt.date(2026, 11, 2),
    ]
    assert daily.due_dates(at("2026-11-03 05:59"), done=set())[-1] == dt.date(2026, 11, 1)


def test_the_cron_timezone_decides_the_local_date():
    # 23:30 in Los Angeles on 1 Nov is 07:30 UTC on 2 Nov: the local fire date is 1 Nov
    la = Schedule(cron="30 23 * * *", timezone="America/Los_Angeles", lag_days=0, catch_up_days=1)
    assert la.due_dates(at("2026-11-02 08:00"), done=set()) == [dt.date(2026, 11, 1)]


def test_weekly_schedule_fires_on_mondays_only():
    weekly = Schedule(cron="0 5 * * mon", timezone="UTC", lag_days=1, catch_up_days=14)
    assert weekly.due_dates(at("2026-11-23 06:00"), done=set()) == [
        dt.date(2026, 11, 15),
        dt.date(2026, 11, 22),
    ]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"cron": "61 * * *"}, "is not a crontab expression"),
        ({"cron": "0 6 * * *", "timezone": "Mars/Olympus"}, "unknown IANA zone"),
        ({"cron": "0 6 * * *", "lag_days": -1}, "zero or more"),
    ],
    ids=["cron", "timezone", "lag"],
)
def test_invalid_schedules_are_refused_with_the_field_named(fields, message):
    with pytest.raises(ScheduleError, match=message):
        Schedule(**fields)


def test_cli_rejects_a_bad_config_file(home, tmp_path):
    bad = tmp_path / "schedule.yaml"
    bad.write_text("cron: '0 6 * * *'\nretries: 3\n")
    result = CliRunner().invoke(main, ["schedule", "--once", "--config", str(bad)])
    assert result.exit_code == 2
    assert "unknown key(s) ['retries']" in result.output


@pytest.fixture
def env(built_world, monkeypatch, home):
    monkeypatch.setenv("BOXOFFICE_DATABASE_URL", built_world["url"])
    monkeypatch.setenv("BOXOFFICE_LANDING_DIR", str(built_world["landing"]))
    monkeypatch.setenv("BOXOFFICE_REPORTS_DIR", str(built_world["reports"]))
    return built_world


def runs(as_of: dt.date) -> list[tuple[str, str]]:
    with engine.connect() as conn:
        return [
            tuple(r)
            for r in conn.execute(
                sa.text(
                    "select trigger, status from analytics.pipeline_runs where as_of = :d order by started_at"
                ),
                {"d": as_of},
            )
        ]


def test_a_tick_runs_due_dates_once_and_waits_for_future_data(env):
    # fires 10-30 and 11-01 at 06:00 → as_of 10-29 (to run), 10-31 (already built) …
    plan = Schedule(cron="0 6 * * *", timezone="UTC", lag_days=1, catch_up_days=3)
    messages, retained = [], []
    ran = tick(plan, at("2026-11-01 07:00"), messages.append, lambda: retained.append(1))
    assert ran == [dt.date(2026, 10, 29), dt.date(2026, 10, 30)]
    assert len(retained) == 2  # the retention policy after each run
    assert runs(dt.date(2026, 10, 29)) == [("schedule", "succeeded")]
    assert tick(plan, at("2026-11-01 07:00"), messages.append) == []  # nothing due twice
    # … and a date after the newest sales waits
    later = tick(plan, at("2026-11-03 07:00"), messages.append)
    assert later == [] and any("2026-11-01: waiting for data" in m for m in messages)


def test_a_tick_while_another_run_holds_the_lock_runs_nothing(env):
    plan = Schedule(cron="0 6 * * *", timezone="UTC", lag_days=1, catch_up_days=1)
    messages = []
    with runner.exclusive_lock():
        assert tick(plan, at("2026-10-29 07:00"), messages.append) == []
    assert any("another boxoffice run is in progress" in m for m in messages)
    assert runs(dt.date(2026, 10, 28)) == []
