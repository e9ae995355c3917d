"""The whole DAG on the small world: smoke, independent checks, idempotency, bad input, locking."""

import datetime as dt
import gzip
import json
import re
import subprocess
import zipfile
from pathlib import Path

import nbformat
import numpy as np
import openpyxl
import plotly.graph_objects as go
import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from polars.testing import assert_frame_equal

from boxoffice import forecast, metrics, warehouse
from boxoffice.cli import main
from boxoffice.pipeline import runner
from boxoffice.reports import pages, pdf
from boxoffice.tasks import report
from boxoffice.warehouse import engine
from tests.alerts.servers import mail_server
from tests.reports.test_pdf import raster

AS_OF = dt.date(2026, 10, 31)
TASKS = (  # Ploomber runs them in an order that respects the upstream edges
    "ingest",
    "sales-aggregates",
    "rfm",
    "attribution",
    "demand-forecast",
    "pricing",
    "customer-value",
    "alerts",
    "report",
)


@pytest.fixture
def env(built_world, monkeypatch, home):
    built = built_world
    monkeypatch.setenv("BOXOFFICE_DATABASE_URL", built["url"])
    monkeypatch.setenv("BOXOFFICE_LANDING_DIR", str(built_world["landing"]))
    monkeypatch.setenv("BOXOFFICE_REPORTS_DIR", str(built["reports"]))
    return built


def scalar(sql: str, **params):
    with engine.connect() as conn:
        return conn.execute(sa.text(sql), params).scalar_one()


def partition_checksum() -> str:
    """The sales facts (kept current) and the run's customer partitions."""
    return scalar(
        "select md5(string_agg(x, '|' order by x)) from ("
        " select h::text as x from analytics.sales_hourly h"
        " union all select e::text from analytics.event_sales_daily e"
        " union all select d::text from analytics.sales_daily d"
        " union all select c::text from analytics.customer_days c"
        " union all select r::text from analytics.customer_rfm r where as_of = :d"
        " union all select v::text from analytics.customer_value v where as_of = :d) x",
        d=AS_OF,
    )


def test_the_whole_dag_builds_and_leaves_its_artifacts(env):
    outcome = env["outcome"]
    assert sorted(outcome.ran) == sorted(TASKS) and outcome.skipped == ()
    directory = env["reports"] / "2026-10-31"
    operations = directory / "_operations"
    for name in TASKS:
        outputs = [
            o
            for c in nbformat.read(operations / f"{name}.ipynb", 4).cells
            for o in c.get("outputs", [])
        ]
        assert outputs and not [
            o for o in outputs if o.output_type == "error" or o.get("name") == "stderr"
        ]
        assert (operations / f"{name}.html").stat().st_size > 0
    report = (operations / "report.html").read_text()
    manifest = json.loads((directory / "manifest.json").read_text())
    for folder in manifest["folders"].values():  # each tenant's files, sizes and render times
        for name in ("report.html", "report.pdf", "report.xlsx"):
            assert re.search(rf'<td>"{re.escape(folder)}"</td><td>"{name}"</td>', report)
    assert "tasks.run" not in report  # inputs hidden
    assert '<script src="../../plotly-' in report  # the one copy at the reports root
    assert manifest["as_of"] == "2026-10-31"
    assert [t["name"] for t in manifest["tasks"]] == list(outcome.ran)
    assert manifest["rows"]["analytics.customer_rfm"] == scalar(
        "select count(*) from analytics.customer_rfm where as_of = :d", d=AS_OF
    )
    assert sorted(manifest["tenants"]) == sorted(t["tenant_id"] for t in env["manifest"]["tenants"])
    index = (directory / "index.html").read_text()
    assert "_operations/report.html" in index
    assert all(f"{folder}/index.html" in index for folder in manifest["folders"].values())
    assert (
        scalar("select status from analytics.pipeline_runs order by started_at limit 1")
        == "succeeded"
    )


def test_each_tenant_folder_holds_its_pages_and_nothing_of_another_tenant(env):
    directory = env["reports"] / "2026-10-31"
    folders = json.loads((directory / "manifest.json").read_text())["folders"]
    assert sorted(p.name for p in directory.iterdir()) == sorted(
        [*folders.values(), "_operations", "index.html", "manifest.json"]
    )
    with engine.connect() as conn:  # every tenant's id, name and venue names, from source
        names = conn.execute(
            sa.text(
                "select t.tenant_id::text, t.name, array_agg(v.name) from source.tenants t"
                " join source.venues v using (tenant_id) group by 1, 2"
            )
        ).all()
    assert len(names) == len(folders) >= 2
    for tenant, folder in folders.items():
        files = sorted(p for p in (directory / folder).rglob("*") if p.is_file())
        assert [p.name for p in files] == ["index.html", "report.html", "report.pdf", "report.xlsx"]
        text = "\n".join(_text(p) for p in files).lower()
        own = next(n for n in names if n[0] == tenant)
        assert own[1].lower() in text  # the report names its tenant …
        for other_id, other_name, venues in names:
            if other_id == tenant:
                continue
            for needle in (other_id, other_id.replace("-", ""), other_name, *venues):
                assert needle.lower() not in text, (folder, needle)  # … and no other
        report = (directory / folder / "report.html").read_text()
        assert report.count('class="plotly-graph-div"') >= 8
        assert '<script src="../../plotly-' in report
        # the period's net revenue, as the database has it, in the PDF and the workbook
        net = scalar(
            "select sum(net_cents) from analytics.sales_daily where tenant_id = :t"
            " and local_date between :s and :d",
            t=tenant, s=AS_OF - dt.timedelta(days=29), d=AS_OF,
        )  # fmt: skip
        assert f"USD {net / 100:,.2f}" in _text(directory / folder / "report.pdf")
        book = openpyxl.load_workbook(directory / folder / "report.xlsx")
        assert ("revenue", "USD", net / 100) == next(
            r[:3] for r in book["Key figures"].iter_rows(values_only=True) if r[0] == "revenue"
        )


def test_the_pdf_has_its_pages_and_no_blank_chart(env, tmp_path):
    """Every chart of a tenant's printed report, printed alone as the PDF prints it: at least
    5 % of the pixels where it stands differ from the white page."""
    folders = json.loads((env["reports"] / "2026-10-31" / "manifest.json").read_text())["folders"]
    for folder in folders.values():
        info = subprocess.run(
            ["pdfinfo", env["reports"] / "2026-10-31" / folder / "report.pdf"],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        assert 2 <= int(re.search(r"Pages:\s+(\d+)", info).group(1)) <= 4, folder
    tenant = next(iter(folders))
    printed = pages.executive_report(report.frames(tenant, AS_OF), top=5)
    figures = [b for b in printed.blocks if isinstance(b, go.Figure)]
    figures += [f for b in printed.blocks if isinstance(b, pages.Row) for f in b.figures]
    assert len(figures) >= 8
    dpi, width = 50, int(180 * pdf.PIXELS_PER_MM)  # A4 less the margins, in CSS pixels
    for i, figure in enumerate(figures):
        alone = pdf.write_pdf(
            tmp_path / f"{i}.pdf", pages.Page("", "", [figure]), reports_root=env["reports"]
        )
        height = min(figure.layout.height, pdf.CHART_HEIGHT)
        if any(isinstance(t, go.Table) for t in figure.data):
            height = figure.layout.height
        top, left = round(pdf.MARGIN_MM / 25.4 * dpi), round(pdf.MARGIN_MM / 25.4 * dpi)
        box = raster(alone, dpi=dpi)[
            top : top + round(height / 96 * dpi), left : left + round(width / 96 * dpi)
        ]
        inked = (np.abs(box - 255).sum(axis=2) > 30).mean()
        assert inked >= 0.05, (figure.layout.title.text, inked)


def _text(path: Path) -> str:
    """A page's text, a PDF's (``pdftotext``), or a workbook's: its XML members (cells, sheet
    names) joined."""
    if path.suffix == ".pdf":
        return subprocess.run(
            ["pdftotext", path, "-"], capture_output=True, check=True
        ).stdout.decode()
    if path.suffix != ".xlsx":
        return path.read_text()
    with zipfile.ZipFile(path) as book:
        return "\n".join(book.read(n).decode() for n in book.namelist() if n.endswith(".xml"))


def test_plotly_js_is_shipped_once_per_reports_root(env):
    root = env["reports"]
    [script] = root.glob("plotly-*.min.js")
    assert script.read_text().startswith("/**\n* plotly.js v")
    embedded = [
        p
        for p in (root / "2026-10-31").rglob("*")
        if p.is_file() and b"* plotly.js v" in p.read_bytes()
    ]
    assert embedded == []


def test_every_attribution_model_adds_up_to_the_revenue_of_the_windows_orders(env):
    """The 90 UTC days to AS_OF: the tickets' prices of the orders created then, per tenant."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "select a.tenant_id, a.model, a.revenue_cents, o.revenue from"
                " (select tenant_id, model, sum(revenue_cents) as revenue_cents"
                "  from analytics.attribution where as_of = :d group by 1, 2) a"
                " join (select o.tenant_id, sum(t.price_cents) as revenue from source.orders o"
                "  join source.tickets t using (tenant_id, order_id)"
                "  where o.created_at >= (cast(:d as date) - 89)::timestamp at time zone 'UTC'"
                "  and o.created_at < (cast(:d as date) + 1)::timestamp at time zone 'UTC'"
                "  group by 1) o using (tenant_id)"
            ),
            {"d": AS_OF},
        ).all()
    assert len(rows) == 5 * len(env["manifest"]["tenants"])
    assert all(revenue > 0 and attributed == revenue for *_, attributed, revenue in rows)


def test_forecasts_cover_every_selling_venue_and_every_upcoming_event(env):
    counts = {
        name: scalar(sql, d=AS_OF)
        for name, sql in {
            "venues": "select count(distinct venue_id) from analytics.sales_daily"
            " where local_date <= :d",
            "forecast_days": "select count(*) from analytics.demand_forecasts where as_of = :d",
            "backtests": "select count(*) from analytics.forecast_backtests where as_of = :d"
            " and mase is not null and coverage_80 between 0 and 1",
            "upcoming": "select count(*) from analytics.events where as_of = :d"
            " and start_date > :d",
            "event_forecasts": "select count(*) from analytics.event_forecasts where as_of = :d"
            " and forecast between 0 and capacity and lower_95 <= upper_95",
        }.items()
    }
    assert counts["venues"] > 0 and counts["upcoming"] > 0
    assert counts["forecast_days"] == counts["venues"] * 2 * 28  # two measures, 28 days
    assert counts["backtests"] == counts["venues"] * 2
    assert counts["event_forecasts"] == counts["upcoming"]


def test_the_stored_revenue_projection_is_the_fit_of_the_runs_sales(env):
    """What pages show without fitting: the run's rows, the same as fitting its sales again."""
    for tenant in (t["tenant_id"] for t in env["manifest"]["tenants"]):
        sales = warehouse.read_sales_daily(as_of=AS_OF, tenant=tenant)
        daily = metrics.sales.rollup(sales, "day")
        fitted = forecast.project(daily, date_col="period", end=AS_OF)
        stored = forecast.projection.from_rows(
            warehouse.read_revenue_projection(as_of=AS_OF, tenant=tenant),
            warehouse.read_revenue_projection_totals(as_of=AS_OF, tenant=tenant),
            daily,
            date_col="period",
        )
        assert stored.model == fitted.model and stored.aicc == pytest.approx(fitted.aicc)
        assert stored.daily["date"].to_list() == [
            AS_OF + dt.timedelta(days=h) for h in range(1, 91)
        ]
        assert_frame_equal(stored.daily, fitted.daily, check_dtypes=False)
        assert_frame_equal(stored.totals, fitted.totals, check_dtypes=False)
        assert_frame_equal(stored.history, fitted.history)


def test_pricing_scores_every_upcoming_event_and_recommends_within_the_rules(env):
    counts = {
        name: scalar(sql, d=AS_OF)
        for name, sql in {
            "upcoming": "select count(*) from analytics.events where as_of = :d"
            " and start_date >= :d",
            "priced": "select count(*) from analytics.event_pricing where as_of = :d",
            "recommended": "select count(*) from analytics.event_pricing where as_of = :d"
            " and recommended_price_cents is not null",
            # pending, or decided by the dashboard's browser test (same session world)
            "published": "select count(*) from analytics.price_recommendations"
            " where as_of = :d and status in ('pending', 'approved', 'rejected')",
            "outside": "select count(*) from analytics.price_recommendations r"
            " join analytics.events e using (tenant_id, event_id, as_of) where r.as_of = :d"
            " and (r.recommended_price_cents not between 0.7 * e.base_price_cents"
            "      and 1.5 * e.base_price_cents"
            "   or abs(r.recommended_price_cents - r.current_price_cents)"
            "      > 0.15 * r.current_price_cents)",
            "categories": "select count(*) from analytics.price_elasticities where as_of = :d"
            " and scope = 'category'",
        }.items()
    }
    assert counts["priced"] == counts["upcoming"] > 0
    assert counts["published"] == counts["recommended"]
    assert counts["outside"] == 0
    assert counts["categories"] == 5 * len(env["manifest"]["tenants"])


def test_aggregates_match_an_independent_computation_at_local_midnights(env):
    """Bucket tickets by comparing instants with local midnights (not by converting each
    timestamp), for hand-chosen venue days: the evening sale nearest local midnight in the
    Los Angeles venue (that day and the next) and both 2026 US DST changes in New York."""
    la = scalar(
        "select t.sold_at from source.tickets t join source.events e using (tenant_id, event_id)"
        " join source.venues v using (tenant_id, venue_id) where v.timezone = 'America/Los_Angeles'"
        " order by abs(extract(epoch from (t.sold_at at time zone v.timezone)::time - time '23:59:59')) limit 1"
    )
    la_day = scalar(
        "select (cast(:t as timestamptz) at time zone 'America/Los_Angeles')::date", t=la
    )
    cases = [
        ("America/Los_Angeles", la_day),
        ("America/Los_Angeles", la_day + dt.timedelta(days=1)),
        ("America/New_York", dt.date(2026, 3, 8)),
        ("America/New_York", dt.date(2026, 11, 1) - dt.timedelta(days=366)),  # 2025-11-01
        ("America/New_York", dt.date(2025, 11, 2)),
    ]
    for tz, day in cases:
        independent = scalar(
            """
            select coalesce(sum(t.price_cents), 0) from source.tickets t
            join source.events e using (tenant_id, event_id)
            join source.venues v using (tenant_id, venue_id)
            where v.timezone = :tz
              and t.sold_at >= (cast(:day as date)::timestamp at time zone :tz)
              and t.sold_at < ((cast(:day as date) + 1)::timestamp at time zone :tz)
            """,
            tz=tz,
            day=day,
        )
        aggregated = scalar(
            "select coalesce(sum(s.gross_cents), 0) from analytics.sales_daily s join analytics.venues v"
            " using (tenant_id, venue_id) where v.timezone = :tz and s.local_date = :day and v.as_of = :d",
            tz=tz,
            day=day,
            d=AS_OF,
        )
        assert aggregated == independent, (tz, day)
        assert independent > 0, (tz, day)


def test_rerun_without_force_is_a_no_op_and_force_gives_identical_tables(env):
    before = partition_checksum()
    again = runner.run(AS_OF, progress=False)
    assert again.ran == () and sorted(again.skipped) == sorted(TASKS)
    assert partition_checksum() == before
    forced = runner.run(AS_OF, force=True, progress=False)
    assert sorted(forced.ran) == sorted(TASKS)
    assert partition_checksum() == before
    runs = scalar("select string_agg(status, ',' order by started_at) from analytics.pipeline_runs")
    assert runs.endswith("succeeded,skipped,succeeded")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--as-of", "31/10/2026"], "as_of must be a date like 2026-10-31, got '31/10/2026'"),
        (["--as-of", "2027-01-01"], "as_of 2027-01-01 is after the newest sales data (2026-10-31)"),
        (["--as-of", "2026-10-31", "--tenant", "nope"], "tenant must be a UUID, got 'nope'"),
        (
            ["--as-of", "2026-10-31", "--tenant", "00000000-0000-4000-8000-000000000000"],
            "unknown tenant(s)",
        ),
    ],
    ids=["not-a-date", "after-the-data", "bad-tenant", "unknown-tenant"],
)
def test_bad_parameters_fail_clearly_and_write_nothing(env, tmp_path, monkeypatch, args, message):
    monkeypatch.setenv("BOXOFFICE_REPORTS_DIR", str(tmp_path / "untouched"))
    runs = scalar("select count(*) from analytics.pipeline_runs")
    result = CliRunner().invoke(main, ["run", *args])
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "untouched").exists()
    assert scalar("select count(*) from analytics.pipeline_runs") == runs


def test_a_second_run_while_one_holds_the_lock_is_refused(env):
    with (
        runner.exclusive_lock(),
        pytest.raises(runner.PipelineError, match="another boxoffice run is in progress"),
    ):
        runner.run(AS_OF, progress=False)


def test_a_failing_task_is_recorded_with_its_reason_and_mailed_by_the_run_failed_rule(
    env, tmp_path, monkeypatch
):
    with engine.connect() as conn:  # (a forced run rebuilds the sales facts)
        conn.execute(sa.text("revoke insert on analytics.sales_daily from boxoffice_pipeline"))
    try:
        with (
            mail_server(tmp_path) as (url, mailbox),
            pytest.raises(
                runner.PipelineError, match=r"task sales-aggregates failed: .*permission denied"
            ),
        ):
            monkeypatch.setenv("BOXOFFICE_SMTP_URL", url)
            runner.run(AS_OF, force=True, progress=False)
    finally:
        with engine.connect() as conn:
            conn.execute(sa.text("grant insert on analytics.sales_daily to boxoffice_pipeline"))
    # the project's run-failed rule told operations, per tenant, though no task finished
    names = dict(warehouse.list_tenants().rows())
    assert sorted((m[1], m[2]["Subject"]) for m in mailbox.messages) == sorted(
        (["operations@boxoffice.example"], f"[boxoffice] {name}: run-failed firing ({name})")
        for name in names.values()
    )
    assert all(
        "permission denied for table sales_daily" in m[2].get_content() for m in mailbox.messages
    )
    with engine.connect() as conn:
        status, error = conn.execute(
            sa.text(
                "select status, error from analytics.pipeline_runs order by started_at desc limit 1"
            )
        ).one()
    assert status == "failed" and "permission denied for table sales_daily" in error


def test_the_ingest_task_loaded_the_landing_folder_and_reconciled(env):
    lines = 0
    for path in env["files"]:
        with gzip.open(path, "rb") as f:
            lines += sum(1 for line in f if line.strip())
    batches = scalar("select count(*) from raw.ingest_batches")
    received, accounted = (
        scalar(f"select sum({c}) from raw.ingest_batches")
        for c in ("received", "stored + duplicates + rejected")
    )
    assert batches == len(env["files"]) and received == accounted == lines
    assert scalar("select sum(rejected) from raw.ingest_batches") > 0  # the stream's bad lines
    assert scalar("select count(*) from raw.dead_letter") == scalar(
        "select sum(rejected) from raw.ingest_batches"
    )
    # every online order of the window's full days has its purchase event: nothing flagged
    assert (
        scalar(
            "select count(*) from analytics.event_reconciliation where as_of = :d"
            " and type = 'purchase' and day < :d",
            d=AS_OF,
        )
        >= 2 * 13
    )
    assert (
        scalar(
            "select count(*) from analytics.event_reconciliation where as_of = :d"
            " and orders_mismatch and day between :d - 12 and :d - 1",
            d=AS_OF,
        )
        == 0
    )
    manifest = json.loads((env["reports"] / "2026-10-31" / "manifest.json").read_text())
    assert manifest["rows"]["analytics.event_reconciliation"] > 0


def test_json_logs_of_a_run_carry_its_run_id(env):
    result = CliRunner().invoke(
        main, ["-v", "--log-format", "json", "run", "--as-of", AS_OF.isoformat()]
    )
    assert result.exit_code == 0, result.output
    run_id = scalar(
        "select run_id::text from analytics.pipeline_runs order by started_at desc limit 1"
    )
    records = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    mine = [r for r in records if r["logger"] == "boxoffice.pipeline.runner"]
    assert mine[0]["message"] == f"run {run_id} of {AS_OF} started (cli)"
    assert mine[-1]["message"].startswith(f"run {run_id} s")  # succeeded or skipped
    assert {r["run_id"] for r in mine} == {run_id}
