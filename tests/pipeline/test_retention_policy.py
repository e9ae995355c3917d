"""The retention policy: which run dates it keeps (by hand), its configuration's errors, and
applying it — partitions of old runs and their report folders go, as the pipeline role; a dry
run changes nothing."""

from __future__ import annotations

import datetime as dt
import json

import polars as pl
import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from boxoffice.cli import main
from boxoffice.pipeline.retention import Policy, PolicyError, apply, kept_dates
from boxoffice.warehouse import engine, schema, write_partitions

D = dt.date


def days(start: dt.date, end: dt.date) -> list[dt.date]:
    return [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]


def test_kept_dates_by_hand():
    dates = [*days(D(2026, 8, 1), D(2026, 10, 31)), D(2025, 1, 31), D(2024, 10, 15)]
    kept = kept_dates(dates, Policy(daily_days=35, month_end_months=24))
    # the 35 days back from 10-31: 09-27 … 10-31; month ends: 08-31, 09-30 (kept anyway),
    # 10-31, 2025-01-31 (21 months back); 2024-10 is 24 months back: gone
    assert kept == {*days(D(2026, 9, 27), D(2026, 10, 31)), D(2026, 8, 31), D(2025, 1, 31)}
    assert D(2024, 10, 15) in kept_dates(dates, Policy(month_end_months=None))
    assert kept_dates(dates, Policy(daily_days=1, month_end_months=1)) == {D(2026, 10, 31)}
    assert kept_dates([], Policy()) == set()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("daily: 3\n", "unknown key(s) ['daily']"),
        ("daily_days: 0\n", "daily_days: expected a whole number ≥ 1, got 0"),
        ("daily_days: 2.5\n", "daily_days: expected a whole number ≥ 1, got 2.5"),
        ("raw_events_days: null\n", "raw_events_days: expected a whole number ≥ 1, got None"),
        ("daily_days: true\n", "daily_days: expected a whole number ≥ 1, got True"),
        ("- 1\n", "expected a mapping"),
        ("a: [\n", "not YAML"),
    ],
    ids=["unknown", "zero", "float", "null", "bool", "list", "not-yaml"],
)
def test_bad_policies_name_the_file_and_key(tmp_path, text, message):
    path = tmp_path / "retention.yaml"
    path.write_text(text)
    with pytest.raises(PolicyError, match=str(path)) as caught:
        Policy.load(path)
    assert message in str(caught.value)


def test_an_absent_file_or_a_partial_one_keeps_the_defaults(tmp_path):
    assert Policy.load(tmp_path / "none.yaml") == Policy()
    (tmp_path / "r.yaml").write_text("month_end_months: null\n")
    assert Policy.load(tmp_path / "r.yaml") == Policy(month_end_months=None)


A = "aaaaaaaa-0000-4000-8000-000000000001"
B = "bbbbbbbb-0000-4000-8000-000000000002"
RUNS = [D(2026, 8, 15), D(2026, 8, 31), D(2026, 9, 30), D(2026, 10, 30), D(2026, 10, 31)]


@pytest.fixture
def runs_on_disk(migrated_db, tmp_path, monkeypatch):
    """Segments of five run dates for two tenants (A has all five, B the last two), and a
    report folder for each date plus one that is not a run's."""
    monkeypatch.setenv("BOXOFFICE_REPORTS_DIR", str(tmp_path / "reports"))
    with engine.connect("owner") as conn:
        for t, name in ((A, "Alpha"), (B, "Beta")):
            conn.execute(
                sa.text("insert into source.tenants values (:t, :n, now())"), {"t": t, "n": name}
            )
    segments = pl.DataFrame(
        {"segment": ["champions", "lost"], "customers": [3, 4], "revenue": [10.0, 1.0],
         "purchases": [6, 4], "average_order_value": [1.5, 0.25],
         "share_of_customers": [3 / 7, 4 / 7], "share_of_revenue": [10 / 11, 1 / 11]}
    )  # fmt: skip
    for day in RUNS:
        tenants = {A: segments} | ({B: segments} if day >= D(2026, 10, 30) else {})
        write_partitions(schema.customer_segments, tenants, as_of=day)
        (tmp_path / "reports" / day.isoformat()).mkdir(parents=True)
    (tmp_path / "reports" / "notes").mkdir()
    return tmp_path / "reports"


def segment_dates() -> list[tuple[str, dt.date]]:
    with engine.connect("owner") as conn:
        rows = conn.execute(
            sa.text(
                "select distinct tenant_id::text, as_of from analytics.customer_segments order by 1, 2"
            )
        )
        return [tuple(r) for r in rows]


def test_applying_the_policy_drops_old_runs_partitions_and_folders(runs_on_disk):
    policy = Policy(daily_days=2, month_end_months=2)  # keeps 10-30, 10-31, 09-30
    before = segment_dates()
    dry = apply(policy, dry_run=True)
    assert segment_dates() == before and len(list(runs_on_disk.iterdir())) == 6
    assert dry["run_dates"] == ["2026-08-15", "2026-08-31"]
    assert dry["partition_rows"] == {"analytics.customer_segments": 4}  # 2 dates × 2 rows

    done = apply(policy)
    assert {k: done[k] for k in ("run_dates", "partition_rows")} == {
        k: dry[k] for k in ("run_dates", "partition_rows")
    }
    assert segment_dates() == [
        (A, D(2026, 9, 30)), (A, D(2026, 10, 30)), (A, D(2026, 10, 31)),
        (B, D(2026, 10, 30)), (B, D(2026, 10, 31)),
    ]  # fmt: skip
    assert sorted(p.name for p in runs_on_disk.iterdir()) == [
        "2026-09-30", "2026-10-30", "2026-10-31", "notes", "retention.ndjson",
    ]  # fmt: skip
    assert apply(policy)["run_dates"] == []  # idempotent
    # what went is on record (once: the second application removed nothing)
    [pruned] = [json.loads(line) for line in (runs_on_disk / "retention.ndjson").open()]
    assert pruned["run_dates"] == ["2026-08-15", "2026-08-31"]
    assert pruned["report_folders"] == [str(runs_on_disk / d) for d in ("2026-08-15", "2026-08-31")]
    assert pruned["partition_rows"] == {"analytics.customer_segments": 4}
    assert dt.datetime.fromisoformat(pruned["applied_at"]).tzinfo is not None


def test_the_command_reads_the_policy_file_and_refuses_a_bad_one(runs_on_disk, tmp_path):
    policy = tmp_path / "retention.yaml"
    policy.write_text("daily_days: 1\nmonth_end_months: 1\n")
    result = CliRunner().invoke(main, ["retention", "--config", str(policy), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["run_dates"] == [
        "2026-08-15", "2026-08-31", "2026-09-30", "2026-10-30",
    ]  # fmt: skip
    policy.write_text("daily_days: -1\n")
    bad = CliRunner().invoke(main, ["retention", "--config", str(policy)])
    assert bad.exit_code == 2 and "daily_days: expected a whole number ≥ 1, got -1" in bad.output
    assert segment_dates() == [(A, D(2026, 10, 31)), (B, D(2026, 10, 31))]
