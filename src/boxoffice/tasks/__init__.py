"""The pipeline's tasks: one module each, declaring what it reads and writes, its parameters
(the only place their defaults live) and what it computes per tenant (:mod:`.base`). A pipeline
notebook is its parameters, one :func:`run` and the charts."""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Mapping
from functools import cache

from boxoffice.tasks.base import (
    ALERT_RULES,
    LANDING,
    REPORT_SETTINGS,
    Outcome,
    Scope,
    Task,
    TaskParameterError,
    UndeclaredRead,
    execute,
    qualified,
)

# the task modules, in the order a serial run may take them; they load on first use (they
# import the models), so `boxoffice run` on an up-to-date date never does
MODULES = (
    "ingest",
    "sales_aggregates",
    "rfm",
    "customer_value",
    "attribution",
    "demand_forecast",
    "pricing",
    "alerts",
    "report",
)


@cache
def registry() -> dict[str, Task]:
    """Every task's declaration by its pipeline name."""
    modules = (importlib.import_module(f"{__name__}.{m}") for m in MODULES)
    return {m.TASK.name: m.TASK for m in modules}


def __getattr__(name: str):
    if name == "TASKS":
        return registry()
    if name in MODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def writers() -> dict[str, str]:
    """Which task writes each table (its partitions, or what it loads)."""
    return {table: task.name for task in registry().values() for table in task.changes}


def upstream_of(task: Task) -> set[str]:
    """The tasks that write what ``task`` reads: its upstream in ``pipeline.yaml``."""
    owner = writers()
    return {owner[t] for t in task.reads if t in owner and owner[t] != task.name}


def inputs_of(task: Task) -> set[str]:
    """The fingerprints ``task`` is given (``inputs`` in ``pipeline.yaml``, filled in by
    ``boxoffice run``): ``source`` when it reads the platform's tables, ``landing`` when it
    reads the landing folder, ``rules`` when it reads the alert rules, ``reports`` when it
    reads the report settings. A new fingerprint makes
    Ploomber run the task again, so new data reaches every task that reads it. What people
    decide (approved prices) is read as it is when the task runs."""
    owner = writers()
    external = [t for t in task.reads if t not in owner]
    files = {LANDING: "landing", ALERT_RULES: "rules", REPORT_SETTINGS: "reports"}
    return {"source"} & {t.split(".")[0] for t in external} | {
        files[t] for t in external if t in files
    }


def partitioned() -> list:
    """Every per-run partition table the pipeline writes, in task order."""
    return [table for task in registry().values() for table in task.writes]


def run(
    name: str,
    *,
    as_of: str | dt.date,
    tenants: str | None,
    upstream: Mapping[str, object] | None = None,
    inputs: Mapping[str, str] | None = None,
    params: Mapping[str, object] | None = None,
) -> Outcome:
    """Run the task ``name`` from its notebook. ``upstream`` (from Ploomber) and ``inputs``
    must be what the task's reads need (:func:`upstream_of`, :func:`inputs_of`): a
    ``pipeline.yaml`` out of step with the declarations fails here, before anything is
    written. ``params`` are ``pipeline.yaml``'s overrides of the task's defaults."""
    task = registry()[name]
    for what, given, needed in (
        ("upstream", set(upstream or {}), upstream_of(task)),
        ("inputs", set(inputs or {}), inputs_of(task)),
    ):
        if given != needed:
            raise RuntimeError(
                f"task {name}: pipeline.yaml gives {what} {sorted(given)}, its reads need"
                f" {sorted(needed)}"
            )
    return execute(task, as_of=as_of, tenants=tenants, params=params)


__all__ = [
    "ALERT_RULES",
    "LANDING",
    "REPORT_SETTINGS",
    "TASKS",
    "Outcome",
    "Scope",
    "Task",
    "TaskParameterError",
    "UndeclaredRead",
    "execute",
    "inputs_of",
    "partitioned",
    "qualified",
    "registry",
    "run",
    "upstream_of",
    "writers",
]
