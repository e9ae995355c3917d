"""The retention policy (``retention.yaml``), applied by ``boxoffice retention`` and by
``boxoffice schedule`` after each run, as the pipeline role:

- **raw events**: whole months older than ``raw_events_days`` are dropped, and dead letters
  received before then deleted (:mod:`boxoffice.ingest.retention`);
- **per-run analytics partitions** (one row per customer per run, forecasts, scores …) and
  **report folders** (``reports/<date>/``): every run date within ``daily_days`` of the newest
  run is kept; older, only the last run date of each month, for ``month_end_months`` months
  (``null``: for ever); the rest is deleted.

The defaults below are the only place they live; ``retention.yaml`` may override each.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
import yaml

from boxoffice import config, tasks, warehouse
from boxoffice.ingest.retention import apply_retention
from boxoffice.warehouse import engine


class PolicyError(ValueError):
    """The retention configuration is invalid; the message names the file and key."""


@dataclass(frozen=True)
class Policy:
    raw_events_days: int = 400  # raw behaviour events and dead letters
    daily_days: int = 35  # every run's partitions and report folder, back from the newest run
    month_end_months: int | None = 24  # then each month's last run, this many months

    @classmethod
    def load(cls, path: Path) -> Policy:
        """The policy of ``path`` (defaults where it is silent; all defaults if it is absent)."""
        if not path.exists():
            return cls()
        try:
            data = yaml.safe_load(path.read_text()) or {}
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            raise PolicyError(f"{path}: not YAML ({str(exc).splitlines()[0]})") from None
        if not isinstance(data, dict):
            raise PolicyError(f"{path}: expected a mapping of retention settings")
        fields = {f.name: f for f in dataclasses.fields(cls)}
        if unknown := sorted(set(data) - set(fields)):
            raise PolicyError(f"{path}: unknown key(s) {unknown}; expected {sorted(fields)}")
        for key, value in data.items():
            optional = key == "month_end_months"
            if (value is None and not optional) or (
                value is not None and (type(value) is not int or value < 1)
            ):
                allowed = "a whole number ≥ 1" + (" or null" if optional else "")
                raise PolicyError(f"{path}: {key}: expected {allowed}, got {value!r}")
        return cls(**data)


def kept_dates(dates: Iterable[dt.date], policy: Policy) -> set[dt.date]:
    """Which run dates the policy keeps: those within ``daily_days`` of the newest, and
    before that each month's last date for ``month_end_months`` months back from the newest's
    month (every month if None)."""
    dates = set(dates)
    if not dates:
        return set()
    newest = max(dates)
    keep = {d for d in dates if (newest - d).days < policy.daily_days}
    last_of_month: dict[tuple[int, int], dt.date] = {}
    for d in dates:
        month = (d.year, d.month)
        last_of_month[month] = max(d, last_of_month.get(month, d))
    for (year, month), d in last_of_month.items():
        age = (newest.year - year) * 12 + newest.month - month
        if policy.month_end_months is None or age < policy.month_end_months:
            keep.add(d)
    return keep


def apply(policy: Policy, *, dry_run: bool = False, now: dt.datetime | None = None) -> dict:
    """Apply ``policy`` (see the module docstring); ``dry_run`` changes nothing. Returns what
    went (or would go): raw event months, dead letters, partition rows per table, folders."""
    raw = apply_retention(policy.raw_events_days, now=now, dry_run=dry_run).as_dict()
    partitions: dict[str, int] = {}
    dropped_dates: set[dt.date] = set()
    tenants = warehouse.list_tenants()["tenant_id"].to_list()
    with engine.connect("pipeline") as conn:
        for tenant in tenants:
            engine.set_tenant(conn, tenant)
            dates = set()
            for table in tasks.partitioned():
                dates |= set(conn.execute(sa.select(table.c.as_of).distinct()).scalars())
            gone = sorted(dates - kept_dates(dates, policy))
            dropped_dates |= set(gone)
            for table in tasks.partitioned() if gone else ():
                name = f"{table.schema}.{table.name}"
                old = table.c.as_of.in_(gone)
                if dry_run:
                    rows = conn.execute(sa.select(sa.func.count()).where(old)).scalar_one()
                else:
                    rows = conn.execute(sa.delete(table).where(old)).rowcount
                partitions[name] = partitions.get(name, 0) + rows
        engine.set_tenant(conn, None)
    root = config.settings().reports_dir
    folders = _report_folders(root)
    gone_folders = sorted(set(folders) - kept_dates(folders, policy))
    if not dry_run:
        for day in gone_folders:
            shutil.rmtree(folders[day])
    result = {
        "raw": raw,
        "run_dates": [d.isoformat() for d in sorted(dropped_dates)],
        "partition_rows": {k: v for k, v in partitions.items() if v},
        "report_folders": [str(folders[d]) for d in gone_folders],
        "dry_run": dry_run,
    }
    if not dry_run and (
        gone_folders or result["partition_rows"] or raw["dropped"] or raw["dead_letters_deleted"]
    ):
        record(root, result, now=now)
    return result


RECORD = "retention.ndjson"  # in the reports root: what each application removed


def record(root: Path, result: dict, *, now: dt.datetime | None = None) -> Path:
    """Append what one application of the policy removed to ``<root>/retention.ndjson`` (one
    JSON object per line, with the time it was applied): the record outlives what it names."""
    path = root / RECORD
    root.mkdir(parents=True, exist_ok=True)
    line = {"applied_at": (now or dt.datetime.now(dt.UTC)).isoformat(), **result}
    with path.open("a", encoding="utf-8") as f:
        f.write(json.dumps(line, default=str) + "\n")
    return path


def _report_folders(root: Path) -> dict[dt.date, Path]:
    """The run folders ``reports/<YYYY-MM-DD>/`` under ``root``, by date."""
    folders = {}
    for path in root.iterdir() if root.is_dir() else ():
        try:
            day = dt.date.fromisoformat(path.name)
        except ValueError:
            continue
        if path.is_dir() and path.name == day.isoformat():
            folders[day] = path
    return folders
