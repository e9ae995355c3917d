"""Retention drops whole months, moves the horizon, and ingestion then refuses older events."""

from __future__ import annotations

import datetime as dt

import pytest

from boxoffice.ingest.retention import apply_retention
from tests.ingest.conftest import event, rows, run

NOW = dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC)


@pytest.fixture
def three_months(db):
    result = run(
        event(id="aug", time="2026-08-31T23:00:00Z"),
        event(id="sep-1", time="2026-09-01T00:00:00Z"),
        event(id="sep-2", time="2026-09-30T10:00:00Z"),
        event(id="oct", time="2026-10-15T10:00:00Z"),
    )
    assert result.stored == 4
    return db


def _partitions() -> list[str]:
    return [
        name
        for (name,) in rows(
            "select c.relname from pg_inherits i join pg_class c on c.oid = i.inhrelid"
            " where i.inhparent = 'raw.events'::regclass order by 1"
        )
    ]


def test_dry_run_changes_nothing(three_months):
    result = apply_retention(60, now=NOW, dry_run=True)  # cutoff 21 September
    assert result.dropped == [("events_2026_08", 1)]
    assert _partitions() == ["events_2026_08", "events_2026_09", "events_2026_10"]
    assert rows("select count(*) from raw.retention") == [(0,)]


def test_only_months_entirely_past_the_window_are_dropped(three_months):
    result = apply_retention(60, now=NOW)  # cutoff 21 Sep: September still has young events
    assert result.cutoff == dt.datetime(2026, 9, 21, 12, tzinfo=dt.UTC)
    assert result.dropped == [("events_2026_08", 1)]
    assert _partitions() == ["events_2026_09", "events_2026_10"]
    assert rows("select event_id from raw.events order by 1") == [("oct",), ("sep-1",), ("sep-2",)]
    horizon = dt.datetime(2026, 9, 1, tzinfo=dt.UTC)
    assert result.events_before == horizon
    assert rows("select events_before from raw.retention") == [(horizon,)]
    # a longer window later never moves the horizon back
    assert apply_retention(365, now=NOW).events_before == horizon


def test_ingest_rejects_events_before_the_horizon_and_still_knows_old_ids(three_months):
    apply_retention(60, now=NOW)
    result = run(
        event(id="aug"),  # replayed: its id is remembered, so a duplicate
        event(id="late-aug", time="2026-08-20T00:00:00Z"),
        event(id="sep-3", time="2026-09-02T00:00:00Z"),
    )
    assert (result.stored, result.duplicates, result.rejected) == (1, 1, 1)
    assert result.rejections == {"time: within-retention": 1}
    assert "events_2026_08" not in _partitions()


def test_old_dead_letters_are_deleted(db):
    run(b"garbage", now=dt.datetime(2026, 8, 1, tzinfo=dt.UTC))
    run(b"more garbage", now=dt.datetime(2026, 11, 1, tzinfo=dt.UTC))
    assert apply_retention(30, now=NOW).dead_letters_deleted == 1
    assert rows("select payload from raw.dead_letter") == [("more garbage",)]


def test_a_window_below_one_day_is_refused(db):
    with pytest.raises(ValueError, match="at least 1 day"):
        apply_retention(0)
