"""What a pipeline task is, and the one executor that runs every task's tenant loop.

A task module declares a :class:`Task`: the tables it reads and the partitions it writes, its
parameters (one frozen dataclass: the only place their defaults live; ``pipeline.yaml`` may
override any of them, nothing else), and a function that computes one tenant's frames from a
:class:`Scope`. :func:`execute` owns everything around that function: the run's parameters,
the tenant loop, the reads (each checked against the declaration), and the partition writes —
one transaction for every tenant, committed only if every tenant succeeds — and the row counts.

The declarations are the pipeline's single description of its data flow: the upstream edges of
``pipeline.yaml`` are checked against them (a task that reads a table is downstream of the task
that writes it), and the partitions a run leaves are the union of the tasks' ``writes``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import inspect
import json
import os
import time
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import polars as pl
import sqlalchemy as sa

from boxoffice import warehouse
from boxoffice.tasks import context


class TaskParameterError(ValueError):
    """A task parameter is unknown or invalid; the message names the task and the parameter."""


class UndeclaredRead(RuntimeError):
    """A task read a table its declaration does not list."""


LANDING = "landing/"  # the landing folder, read by the ingest task like a table
ALERT_RULES = "alerts.yaml"  # the alert rules file, read by the alerts task like a table
REPORT_SETTINGS = "reports.yaml"  # tenants' report settings and subscriptions, read the same way
PROGRESS_ENV = "BOXOFFICE_PROGRESS"  # a file to append one JSON line to per tenant computed


def qualified(table: sa.Table | str) -> str:
    """``schema.name`` of a table, or the name itself."""
    return table if isinstance(table, str) else f"{table.schema}.{table.name}"


@dataclass(frozen=True)
class Scope:
    """One tenant's view of a run, handed to a task's ``per_tenant`` function: the run date,
    the tenant, and :meth:`read`, which refuses a table the task did not declare."""

    task: Task
    as_of: dt.date
    tenant: str

    def read(self, reader: Callable[..., pl.DataFrame], **kwargs) -> pl.DataFrame:
        """``reader(as_of=…, tenant=…, **kwargs)`` — a warehouse reader marked with the tables
        it reads (:func:`boxoffice.warehouse.reads.reads`), each of which the task declares."""
        tables = getattr(reader, "tables", None)
        if tables is None:
            raise UndeclaredRead(f"task {self.task.name}: {reader.__name__} declares no tables")
        if undeclared := sorted(set(tables) - set(self.task.reads)):
            raise UndeclaredRead(
                f"task {self.task.name} reads {', '.join(undeclared)} ({reader.__name__})"
                " without declaring it"
            )
        accepted = inspect.signature(reader).parameters
        given = {"as_of": self.as_of, "tenant": self.tenant}
        return reader(**{k: v for k, v in given.items() if k in accepted}, **kwargs)


@dataclass(frozen=True)
class Task:
    """A pipeline task's declaration (see the module docstring).

    ``per_tenant(scope, params)`` returns frames by name: a name that is one of ``writes``
    (``analytics.<table>``) is written as that tenant's partition, every other is handed back
    for the notebook's charts. ``queries(params)`` gives SQL partitions instead
    (:class:`boxoffice.warehouse.PartitionQuery`), run inside PostgreSQL for every tenant.
    ``prepare(run, params)`` runs before the tenants (work that is not a partition: a load, an
    incremental refresh), ``finish(outcome)`` after their partitions are committed; what they
    return is the outcome's ``prepared`` and ``finished``.
    """

    name: str
    params: type
    reads: tuple[str, ...]  # schema.table (or LANDING) of everything it reads
    writes: tuple[sa.Table, ...] = ()
    loads: tuple[str, ...] = ()  # tables it changes that are not per-run partitions
    per_tenant: Callable[[Scope, typing.Any], Mapping[str, pl.DataFrame]] | None = None
    queries: Callable[[typing.Any], list[warehouse.PartitionQuery]] | None = None
    prepare: Callable[[context.RunContext, typing.Any], object] | None = None
    finish: Callable[[Outcome], object] | None = None

    @property
    def written(self) -> tuple[str, ...]:
        return tuple(qualified(t) for t in self.writes)

    @property
    def changes(self) -> tuple[str, ...]:
        """Every table the task writes: its partitions and what it loads."""
        return (*self.written, *self.loads)

    def configure(self, overrides: Mapping[str, object] | None = None):
        """The task's parameters: the dataclass defaults with ``overrides`` applied (numbers
        converted to the declared type); an unknown name or a bad value is a
        :class:`TaskParameterError`."""
        overrides = dict(overrides or {})
        hints = typing.get_type_hints(self.params)
        known = {f.name for f in dataclasses.fields(self.params)}
        if unknown := sorted(set(overrides) - known):
            raise TaskParameterError(
                f"task {self.name}: unknown parameter(s) {', '.join(unknown)};"
                f" it has {', '.join(sorted(known))}"
            )
        values = {
            name: _coerce(self.name, name, value, hints[name]) for name, value in overrides.items()
        }
        try:
            return self.params(**values)
        except ValueError as exc:
            raise TaskParameterError(f"task {self.name}: {exc}") from None


def progress(task: str, tenant: str, done: int, of: int, seconds: float) -> None:
    """Tell whoever runs the pipeline that ``tenant`` is computed: one JSON line appended to
    the file ``$BOXOFFICE_PROGRESS`` names (``boxoffice run`` shows them as they come; a
    notebook run by hand has none)."""
    if path := os.environ.get(PROGRESS_ENV):
        line = {
            "task": task,
            "tenant": tenant,
            "done": done,
            "of": of,
            "seconds": round(seconds, 2),
        }
        with open(path, "a", encoding="utf-8") as out:  # one short append: atomic
            out.write(json.dumps(line) + "\n")


def _coerce(task: str, name: str, value: object, kind: type) -> object:
    """``value`` as the declared ``kind``: YAML gives ``1`` for a float; a bool is not a number
    and a fraction not an int."""
    fits = isinstance(value, kind) and not (isinstance(value, bool) and kind is not bool)
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if not fits:
        raise TaskParameterError(
            f"task {task}: parameter {name} must be {kind.__name__}, got {value!r}"
        )
    return value


@dataclass(frozen=True)
class Outcome:
    """What :func:`execute` did: the run, the parameters used, every tenant's frames and the
    rows written per table."""

    task: Task
    run: context.RunContext
    params: typing.Any
    frames: dict[str, dict[str, pl.DataFrame]]
    rows: dict[str, int]
    prepared: object = None
    finished: object = None


def execute(
    task: Task,
    *,
    as_of: str | dt.date,
    tenants: str | None,
    params: Mapping[str, object] | None = None,
) -> Outcome:
    """Run ``task`` for ``as_of`` and ``tenants`` (as :func:`boxoffice.tasks.context.parse`
    reads them) with ``params`` overriding its defaults: its SQL partitions in one transaction;
    then every tenant computed in turn, its partitions written on one connection while the next
    tenant computes, all committed together at the end or none if anything fails."""
    settings = task.configure(params)
    run = context.parse(as_of=as_of, tenants=tenants)
    prepared = task.prepare(run, settings) if task.prepare else None
    queries = task.queries(settings) if task.queries else []
    rows = dict.fromkeys(task.written, 0)
    if queries:
        rows |= warehouse.replace_partitions(queries, as_of=run.as_of, tenants=run.tenants)
    framed = [t for t in task.writes if t not in {q.table for q in queries}]
    frames: dict[str, dict[str, pl.DataFrame]] = {}
    if task.per_tenant is not None:
        with warehouse.partition_writer(as_of=run.as_of) as writer:
            for i, tenant in enumerate(run.tenants, 1):
                started = time.perf_counter()
                computed = dict(task.per_tenant(Scope(task, run.as_of, tenant), settings))
                if missing := [qualified(t) for t in framed if qualified(t) not in computed]:
                    raise RuntimeError(f"task {task.name} computed no {', '.join(missing)}")
                for table in framed:
                    writer.write(table, tenant, computed[qualified(table)])
                frames[tenant] = computed
                progress(task.name, tenant, i, len(run.tenants), time.perf_counter() - started)
        rows |= writer.written
    outcome = Outcome(task, run, settings, frames, rows, prepared)
    if task.finish is not None:
        outcome = dataclasses.replace(outcome, finished=task.finish(outcome))
    return outcome
