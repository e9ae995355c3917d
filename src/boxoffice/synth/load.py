"""Load a synthetic world into the ``source`` schema, or write it as contract files for
``boxoffice load``, and write its manifest.

Loaded, the whole world replaces what ``source`` held in **one transaction**: a failure
part-way (bad parameters, database gone, process killed) leaves the previous world untouched.
Tenants are generated and written one at a time, so memory is bounded by one tenant, not by
the scale.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import polars as pl
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import UUID

from boxoffice import __version__, privacy
from boxoffice.synth import anomalies
from boxoffice.synth.params import WorldSpec
from boxoffice.synth.world import REGIONS, TenantWorld, generate_tenant
from boxoffice.warehouse import bulk, engine, erasure, migrate, schema, sources

SOURCE_TABLES = [t for t in schema.metadata.sorted_tables if t in schema.PLATFORM_TABLES]
_NAMES = [t.name for t in SOURCE_TABLES]
Progress = Callable[[str], None]


class NotMigratedError(RuntimeError):
    pass


def build_world(
    spec: WorldSpec,
    manifest_path: Path,
    progress: Progress | None = None,
    *,
    defer_constraints: bool = True,
) -> dict:
    """Generate ``spec``'s world, replace ``source`` with it, and write the manifest (JSON) and
    the per-customer latent truth (Parquet, beside the manifest). Returns the manifest.

    ``defer_constraints=False`` loads with foreign keys and indexes in place (the slower way,
    kept as the benchmark's peer: ``bench/synth_load.py``).
    """
    started = time.perf_counter()
    with engine.connect("owner") as conn:
        engine.without_statement_timeout(conn)
        _require_migrated(conn)
        names = ", ".join(f"{t.schema}.{t.name}" for t in SOURCE_TABLES)
        # a new world: no change is queued, and the next sales refresh rebuilds everything
        conn.execute(sa.text(f"truncate {names}, source.ticket_changes, analytics.sales_refresh"))
        conn.execute(sa.text("alter table source.tickets disable trigger user"))
        restore = bulk.drop_foreign_keys_and_secondary_indexes(conn) if defer_constraints else []
        restore += [
            "alter table source.tickets enable trigger user",
            # the triggers were off: move the change mark, so the next run sees a new world
            "select nextval(pg_get_serial_sequence('source.ticket_changes', 'change_id'))",
        ]

        def copy(world: TenantWorld) -> None:
            engine.set_tenant(conn, world.tenant_id)  # RLS is forced: the owner writes per tenant
            for table in SOURCE_TABLES:
                bulk.copy_frame(conn, table, world.tables[table.name], freeze=True)

        tally = _generate(spec, _forgotten(conn), copy, progress)
        engine.set_tenant(conn, None)
        (progress or (lambda _msg: None))("indexing and checking foreign keys …")
        for statement in restore:
            conn.execute(sa.text(statement))
    with engine.engine("owner").connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(sa.text(f"analyze {names}"))
    return _write_manifest(spec, manifest_path, tally, started)


def write_world_files(
    spec: WorldSpec, folder: Path, manifest_path: Path, progress: Progress | None = None
) -> dict:
    """Generate ``spec``'s world as the files a platform would hand to ``boxoffice load
    --from``: one ``<table>.parquet`` per contract table in ``folder`` (UUIDs in their dashed
    text form, times in UTC) in row groups of ``sources.BATCH_ROWS`` rows, what ``boxoffice
    load`` reads at a time; and the manifest and latent truth as :func:`build_world` writes
    them. Customers forgotten with ``boxoffice forget`` are left out, as they are from a world
    loaded directly. Each file appears whole or not at all (it is written beside its name and
    renamed). Returns the manifest."""
    import pyarrow.parquet as pq

    started = time.perf_counter()
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    with engine.connect("owner") as conn:
        _require_migrated(conn)
        forgotten = _forgotten(conn)
    writers: dict[str, pq.ParquetWriter] = {}
    partial = {t.name: folder / f".{t.name}.parquet.partial" for t in SOURCE_TABLES}

    def write(world: TenantWorld) -> None:
        for table in SOURCE_TABLES:
            data = _as_contract_file(table, world.tables[table.name]).to_arrow()
            if table.name not in writers:
                writers[table.name] = pq.ParquetWriter(partial[table.name], data.schema)
            writer = writers[table.name]
            writer.write_table(data.cast(writer.schema), row_group_size=sources.BATCH_ROWS)

    try:
        tally = _generate(spec, forgotten, write, progress)
        for writer in writers.values():
            writer.close()
        for name, path in partial.items():
            os.replace(path, folder / f"{name}.parquet")
    finally:
        for writer in writers.values():
            writer.close()
        for path in partial.values():
            path.unlink(missing_ok=True)
    return _write_manifest(spec, manifest_path, tally, started)


def _require_migrated(conn: sa.Connection) -> None:
    revision, head = migrate.current(conn), migrate.head()
    if revision != head:
        raise NotMigratedError(
            f"database is at migration {revision or 'none'}, code expects {head}: "
            "run `boxoffice db upgrade` first"
        )


def _as_contract_file(table: sa.Table, frame: pl.DataFrame) -> pl.DataFrame:
    """A generated table as its contract file holds it: UUIDs dashed, no column of nulls only
    left without a type (every tenant's row group shares one schema)."""
    return frame.with_columns(
        bulk.dashed_uuid(pl.col(c.name))
        if isinstance(c.type, UUID)
        else pl.col(c.name).cast(pl.String)
        for c in table.columns
        if c.name in frame.columns and (isinstance(c.type, UUID) or frame.schema[c.name] == pl.Null)
    )


@dataclass
class _Tally:
    tenants: list[dict] = field(default_factory=list)
    truths: list[pl.DataFrame] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=lambda: dict.fromkeys(_NAMES, 0))


def _generate(
    spec: WorldSpec,
    forgotten: dict[str, set[str]],
    write: Callable[[TenantWorld], None],
    progress: Progress | None,
) -> _Tally:
    """Generate the tenants one at a time (memory is bounded by one tenant, not by the scale),
    without their forgotten customers, hand each to ``write`` and count what was written."""
    say = progress or (lambda _msg: None)
    tally = _Tally()
    for index in range(spec.sizes.tenants):
        t0 = time.perf_counter()
        world = generate_tenant(spec, index)
        world = _without(world, forgotten.get(_dashed(world.tenant_id), set()))
        injected = []
        if spec.anomalies:
            world.tables, injected = anomalies.inject(
                world.tables,
                end=spec.end,
                home=REGIONS[index % len(REGIONS)][0],
                seed=spec.seed + index,
            )
            tickets = world.tables["tickets"]
            world.stats |= {
                "orders": world.tables["orders"].height,
                "tickets": tickets.height,
                "refunded_tickets": int((tickets["status"] == "refunded").sum()),
            }
        t1 = time.perf_counter()
        write(world)
        t2 = time.perf_counter()
        for name in _NAMES:
            tally.rows[name] += world.tables[name].height
        tally.truths.append(world.truth)
        tally.tenants.append(
            {
                "tenant_id": _dashed(world.tenant_id),
                "name": world.tables["tenants"]["name"][0],
                **world.stats,
            }
            | ({"anomalies": [_dashed_ids(a) for a in injected]} if spec.anomalies else {})
        )
        say(
            f"tenant {index + 1}/{spec.sizes.tenants} {tally.tenants[-1]['name']}: "
            f"{world.stats['tickets']:,} tickets, {world.stats['orders']:,} orders, "
            f"{world.stats['customers']:,} customers "
            f"(generated in {t1 - t0:.1f} s, written in {t2 - t1:.1f} s)"
        )
        del world
    return tally


def _write_manifest(spec: WorldSpec, manifest_path: Path, tally: _Tally, started: float) -> dict:
    manifest_path = Path(manifest_path)
    truth_path = manifest_path.with_name(manifest_path.stem + ".customers.parquet")
    manifest_path.parent.mkdir(parents=True, exist_ok=True)
    manifest = {
        "generator": f"boxoffice {__version__}",
        "scale": spec.scale,
        "seed": spec.seed,
        "start_date": spec.start.isoformat(),
        "end_date": spec.end.isoformat(),
        "history_days": spec.history_days,
        "anomalies": spec.anomalies,
        "data_ends": "midnight after end_date, local time of each tenant's home time zone",
        "truth": {
            **asdict(spec.truth),
            "notes": {
                "bgnbd": "time unit: days; alpha is a rate in days (alpha/7 for weeks). "
                "Every generated purchase is an order unless all events were sold out "
                "(orders_lost_to_capacity).",
                "gamma_gamma": "intended spend per order in currency units; an order's actual "
                "value is tickets × ticket price with tickets = z / price stochastically "
                "rounded into 1..8, so realised spend is z plus rounding noise.",
                "elasticity": "total elasticity of tickets sold to list price per category: "
                "event choice ∝ (price/base)^(ε+1) and tickets per order ∝ 1/price. The "
                "elasticity the world produces is weaker (an order buys 1..8 tickets whatever "
                "its spend): each tenant's realized_elasticity, per category.",
            },
            "customers_file": truth_path.name,
        },
        "tenants": tally.tenants,
        "rows": tally.rows,
        "seconds": round(time.perf_counter() - started, 1),
    }
    pl.concat(tally.truths).with_columns(
        bulk.dashed_uuid(pl.col("tenant_id")), bulk.dashed_uuid(pl.col("customer_id"))
    ).write_parquet(truth_path)
    tmp = manifest_path.with_suffix(".tmp")
    tmp.write_text(json.dumps(manifest, indent=2) + "\n")
    os.replace(tmp, manifest_path)
    return manifest


def _forgotten(conn: sa.Connection) -> dict[str, set[str]]:
    """Each tenant's erased customers (``source.erasures``: key hashes), read as the owner."""
    rows = conn.execute(sa.text("select tenant_id::text, key_sha256 from source.erasures"))
    forgotten: dict[str, set[str]] = {}
    for tenant, key_hash in rows:
        forgotten.setdefault(tenant, set()).add(key_hash)
    return forgotten


def _without(world: TenantWorld, erased: set[str]) -> TenantWorld:
    """``world`` without the customers forgotten with ``boxoffice forget`` (and their orders,
    tickets, touches and latent truth): a new world does not bring them back."""
    if not erased:
        return world
    gone = [
        c
        for c in world.tables["customers"]["customer_id"].to_list()
        if erasure.key_hash(privacy.customer_key(_dashed(c))) in erased
    ]
    if not gone:
        return world
    t = world.tables
    orders = t["orders"].filter(pl.col("customer_id").is_in(gone))["order_id"]
    tables = {
        **t,
        "customers": t["customers"].filter(~pl.col("customer_id").is_in(gone)),
        "orders": t["orders"].filter(~pl.col("order_id").is_in(orders.implode())),
        "tickets": t["tickets"].filter(~pl.col("order_id").is_in(orders.implode())),
        "campaign_touches": t["campaign_touches"].filter(~pl.col("customer_id").is_in(gone)),
    }
    truth = world.truth.filter(~pl.col("customer_id").is_in(gone))
    stats = {**world.stats, **{k: tables[k].height for k in ("customers", "orders", "tickets")}}
    return replace(world, tables=tables, truth=truth, stats=stats)


def _dashed_ids(anomaly: dict) -> dict:
    return anomaly | ({"event_id": _dashed(anomaly["event_id"])} if "event_id" in anomaly else {})


def _dashed(hex32: str) -> str:
    return f"{hex32[:8]}-{hex32[8:12]}-{hex32[12:16]}-{hex32[16:20]}-{hex32[20:]}"
