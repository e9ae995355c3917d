"""The synthetic world: deterministic, internally consistent, shaped like real ticketing."""

import datetime as dt
import json
from types import SimpleNamespace

import numpy as np
import polars as pl
import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from boxoffice.cli import main
from boxoffice.synth import WorldSpec, build_world
from boxoffice.synth import world as world_mod
from boxoffice.synth.world import generate_tenant, realized_elasticity
from boxoffice.warehouse import engine
from tests.conftest import WORLD_END, WORLD_SEED, build_small_world

SOURCE = ["tenants", "venues", "events", "customers", "orders", "tickets", "campaign_touches"]


def checksums() -> dict[str, str]:
    with engine.connect() as conn:
        return {
            t: conn.execute(
                sa.text(f"select md5(string_agg(x::text, '|' order by x::text)) from source.{t} x")
            ).scalar_one()
            for t in SOURCE
        }


def scalar(sql: str, **params):
    with engine.connect() as conn:
        return conn.execute(sa.text(sql), params).scalar_one()


# ------------------------------------------------------------------------- determinism
def test_same_seed_same_frames_other_seed_other_frames():
    spec = WorldSpec("small", 3, WORLD_END)
    one, two = generate_tenant(spec, 1), generate_tenant(spec, 1)
    for name in SOURCE:
        assert one.tables[name].equals(two.tables[name]), name
    other = generate_tenant(WorldSpec("small", 4, WORLD_END), 1)
    assert not other.tables["tickets"].equals(one.tables["tickets"])


def test_same_seed_same_database_checksums(world, make_database, tmp_path, monkeypatch):
    first = checksums()
    again = build_small_world(make_database(), tmp_path / "m.json")
    monkeypatch.setenv("BOXOFFICE_DATABASE_URL", again["url"])
    assert checksums() == first
    assert again["manifest"]["rows"] == world["manifest"]["rows"]


def test_rebuilding_replaces_the_world_and_a_failure_keeps_the_old_one(
    migrated_db, tmp_path, monkeypatch
):
    build_world(WorldSpec("small", 8, WORLD_END), tmp_path / "a.json")
    before = checksums()
    real = world_mod.generate_tenant

    def fails_on_second_tenant(spec, index):
        if index == 1:
            raise RuntimeError("generator died")
        return real(spec, index)

    monkeypatch.setattr("boxoffice.synth.load.generate_tenant", fails_on_second_tenant)
    with pytest.raises(RuntimeError, match="generator died"):
        build_world(WorldSpec("small", 9, WORLD_END), tmp_path / "b.json")
    assert checksums() == before
    assert not (tmp_path / "b.json").exists()
    monkeypatch.setattr("boxoffice.synth.load.generate_tenant", real)
    build_world(
        WorldSpec("small", 8, WORLD_END), tmp_path / "c.json"
    )  # same seed again: same world
    assert checksums() == before


# -------------------------------------------------------------------------- invariants
def test_scale_small_is_about_100k_tickets(world):
    rows = world["manifest"]["rows"]
    assert 80_000 <= rows["tickets"] <= 130_000
    assert rows["tenants"] == 2
    assert rows == {t: scalar(f"select count(*) from source.{t}") for t in SOURCE}


def test_tickets_never_exceed_event_capacity_and_some_events_sell_out(world):
    over = scalar(
        "select count(*) from (select e.event_id from source.events e join source.tickets t"
        " using (tenant_id, event_id) group by e.event_id, e.capacity having count(*) > e.capacity) x"
    )
    assert over == 0
    sold_out = scalar(
        "select count(*) from (select e.event_id from source.events e join source.tickets t"
        " using (tenant_id, event_id) group by e.event_id, e.capacity having count(*) = e.capacity) x"
    )
    assert sold_out >= 5


def test_time_order_sale_refund_scan_and_event(world):
    bad = scalar(
        """
        select count(*) from source.tickets t
        join source.events e using (tenant_id, event_id)
        join source.orders o using (tenant_id, order_id)
        where t.sold_at <> o.created_at
           or t.sold_at < e.on_sale_at or t.sold_at >= e.starts_at
           or t.refunded_at < t.sold_at or t.refunded_at > e.starts_at
           or t.scanned_at < t.sold_at or t.scanned_at > e.starts_at
           or (t.status = 'scanned' and e.starts_at > :end)
        """,
        end=dt.datetime(2026, 11, 2, tzinfo=dt.UTC),
    )
    assert bad == 0
    refunds = scalar("select count(*) from source.tickets where status = 'refunded'")
    assert 0.01 < refunds / world["manifest"]["rows"]["tickets"] < 0.06


def test_no_data_after_the_end_of_the_history(world):
    # data ends at midnight after the end date in each tenant's home zone (UTC-8 … UTC+14)
    latest = scalar(
        "select greatest(max(sold_at), max(refunded_at), max(scanned_at)) from source.tickets"
    )
    assert latest < dt.datetime(2026, 11, 1, 8, tzinfo=dt.UTC)
    assert scalar("select max(touched_at) from source.campaign_touches") < dt.datetime(
        2026, 11, 1, 8, tzinfo=dt.UTC
    )


def test_no_shows_exist_for_past_events_and_future_events_are_on_sale(world):
    no_shows = scalar(
        "select count(*) from source.tickets t join source.events e using (tenant_id, event_id)"
        " where e.starts_at < '2026-10-01' and t.status = 'sold'"
    )
    assert no_shows > 0
    upcoming = scalar(
        "select count(distinct event_id) from source.events e join source.tickets t"
        " using (tenant_id, event_id) where e.starts_at > '2026-11-02'"
    )
    assert upcoming >= 10


def test_money_is_integer_cents_in_whole_50_cent_steps(world):
    with engine.connect() as conn:
        types = dict(
            conn.execute(
                sa.text(
                    "select column_name, data_type from information_schema.columns"
                    " where table_schema = 'source' and column_name like '%\\_cents'"
                )
            ).all()
        )
    assert set(types.values()) == {"bigint"} and {
        "price_cents",
        "fee_cents",
        "base_price_cents",
    } <= set(types)
    assert (
        scalar(
            "select count(*) from source.tickets where price_cents % 50 <> 0 or price_cents <= 0"
        )
        == 0
    )
    assert (
        scalar(
            "select count(*) from source.tickets t join source.orders o using (tenant_id, order_id)"
            " where (o.channel = 'box_office') <> (t.fee_cents = 0)"
        )
        == 0
    )


def test_prices_change_during_sales(world):
    moved = scalar(
        "select count(*) from (select event_id from source.tickets where ticket_type = 'standard'"
        " group by event_id having count(distinct price_cents) >= 3) x"
    )
    events = scalar("select count(*) from source.events")
    assert moved / events > 0.5


def test_booking_curves_accelerate_toward_the_event(world):
    last_week, fourth_week = (
        scalar(
            "select count(*) from source.tickets t join source.events e using (tenant_id, event_id)"
            f" where e.starts_at - t.sold_at between interval '{lo} days' and interval '{hi} days'"
        )
        for lo, hi in ((0, 7), (21, 28))
    )
    assert last_week > 2 * fourth_week


def test_weekly_seasonality_in_local_time(world):
    with engine.connect() as conn:
        n = dict(
            conn.execute(
                sa.text(
                    "select extract(isodow from t.sold_at at time zone v.timezone)::int, count(*)"
                    " from source.tickets t join source.events e using (tenant_id, event_id)"
                    " join source.venues v using (tenant_id, venue_id) group by 1"
                )
            ).all()
        )
    assert n[2] > n[7] * 1.15 and n[5] > n[7] * 1.15  # Tuesday and Friday beat Sunday


def test_venue_timezones_are_real_iana_zones(world):
    assert (
        scalar(
            "select count(*) from source.venues v where not exists"
            " (select from pg_timezone_names z where z.name = v.timezone)"
        )
        == 0
    )
    assert scalar("select count(distinct timezone) from source.venues") >= 3


def test_customer_emails_are_unique_within_a_tenant(world):
    assert scalar("select count(*) - count(distinct (tenant_id, email)) from source.customers") == 0
    assert scalar("select count(*) from source.customers where email not like '%@example.org'") == 0


# ---------------------------------------------------------------------------- manifest
def test_manifest_holds_the_ground_truth(world):
    manifest = json.loads(world["manifest_path"].read_text())
    truth = manifest["truth"]
    assert truth["bgnbd"] == {"r": 0.55, "alpha": 110.0, "a": 0.85, "b": 2.6}
    assert truth["gamma_gamma"] == {"p": 6.0, "q": 4.0, "gamma": 75.0}
    assert truth["elasticity"]["theatre"] == -1.4
    assert manifest["seed"] == 11 and manifest["end_date"] == "2026-10-31"
    customers = pl.read_parquet(world["manifest_path"].with_name(truth["customers_file"]))
    assert customers.height == manifest["rows"]["customers"]
    ids = {t["tenant_id"] for t in manifest["tenants"]}
    assert set(customers["tenant_id"].unique()) == ids
    assert (
        scalar(
            "select count(*) from source.customers where customer_id = any(cast(:ids as uuid[]))",
            ids=customers["customer_id"].head(100).to_list(),
        )
        == 100
    )


def test_realized_elasticity_by_hand():
    """One concert at base 100: orders wanting 0.5, 4 and 10 tickets at the base price. Over
    the tests ×0.85 … ×1.15 they buy 1 (floored), 4/m and 8 (capped) tickets; event choice
    ∝ m^(ε+1) = m^(−0.1)."""
    purchases = SimpleNamespace(spend=np.array([50.0, 400.0, 1000.0]), tier=np.zeros(3, int))
    events = SimpleNamespace(
        base_price=np.array([100]), category=np.array([0]), elasticity=np.array([-1.1])
    )
    r = np.log(1.15 / 0.85)
    expected = -0.1 + np.log((1 + 4 / 1.15 + 8) / (1 + 4 / 0.85 + 8)) / r
    assert realized_elasticity(purchases, events) == {"concert": round(expected, 3)}
    assert -1.1 < expected < -0.1  # between the choice part alone and the nominal ε


def test_the_manifest_reports_each_tenants_realized_elasticity(world):
    nominal = world["manifest"]["truth"]["elasticity"]
    for tenant in world["manifest"]["tenants"]:
        realized = tenant["realized_elasticity"]
        assert set(realized) == set(nominal)
        assert all(nominal[c] < realized[c] < nominal[c] + 1 for c in nominal)


def test_bgnbd_purchases_follow_the_truth(world):
    """Mean purchases in the window match the BG/NBD expectation for the drawn customers."""
    manifest = world["manifest"]
    generated = sum(t["purchases_generated"] for t in manifest["tenants"])
    lost = sum(t["orders_lost_to_capacity"] for t in manifest["tenants"])
    assert generated - lost == manifest["rows"]["orders"]
    assert lost / generated < 0.05
    # E[repeats | λ, p] over a window ≥ 0 is bounded by E[(1-p)/p] per customer: sanity of scale
    per_customer = manifest["rows"]["orders"] / manifest["rows"]["customers"]
    assert 1.3 < per_customer < 2.5


# ------------------------------------------------------------------------------- the CLI
def test_cli_synth_loads_and_reports(migrated_db, home):
    result = CliRunner().invoke(
        main, ["synth", "--scale", "small", "--seed", "2"], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    assert "loaded" in result.output and "tenant 2/2" in result.output
    manifest = json.loads((home / "synth" / "manifest.json").read_text())
    assert manifest["rows"]["tickets"] == scalar("select count(*) from source.tickets")


def test_cli_synth_to_files_then_load_gives_the_world_synth_loads(
    small_world, migrated_db, home, tmp_path, monkeypatch
):
    """The demo's path: the world written as contract files and loaded with `boxoffice load`
    is, row for row, the world `boxoffice synth` loads directly."""
    folder = tmp_path / "platform"
    args = ["--seed", str(WORLD_SEED), "--end", WORLD_END.isoformat(), "--event-days", "0"]
    result = CliRunner().invoke(main, ["synth", *args, "--to", str(folder)])
    assert result.exit_code == 0, result.output
    assert f"load them with `boxoffice load --from {folder}`" in result.output
    assert sorted(p.name for p in folder.iterdir()) == sorted(f"{t}.parquet" for t in SOURCE)
    assert scalar("select count(*) from source.tickets") == 0  # written, not loaded
    manifest = json.loads((home / "synth" / "manifest.json").read_text())
    assert manifest["rows"] == small_world["manifest"]["rows"]

    result = CliRunner().invoke(main, ["load", "--from", str(folder)])
    assert result.exit_code == 0, result.output
    loaded = checksums()
    monkeypatch.setenv("BOXOFFICE_DATABASE_URL", small_world["url"])
    assert loaded == checksums()


def test_cli_synth_before_migrations_fails_clearly_and_writes_nothing(empty_db, home):
    result = CliRunner().invoke(main, ["synth", "--seed", "2"])
    assert result.exit_code == 1
    assert "run `boxoffice db upgrade` first" in result.output
    assert not (home / "synth" / "manifest.json").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--scale", "huge"], "'huge' is not one of"),
        (["--seed", "-1"], "-1 is not in the range"),
        (["--end", "31/10/2026"], "does not match the format"),
    ],
    ids=["scale", "seed", "end"],
)
def test_cli_synth_rejects_bad_parameters(home, args, message):
    result = CliRunner().invoke(main, ["synth", *args])
    assert result.exit_code == 2
    assert message in result.output


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"scale": "tiny"}, "unknown scale"),
        ({"seed": -5}, "seed must be"),
        ({"history_days": 10}, "at least 60"),
    ],
)
def test_world_spec_validates(kwargs, message):
    args = {"scale": "small", "seed": 1, "end": WORLD_END} | kwargs
    with pytest.raises(ValueError, match=message):
        WorldSpec(**args)
