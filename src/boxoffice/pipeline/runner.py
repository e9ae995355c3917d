"""``boxoffice run --as-of DATE``: build the Ploomber DAG for one date and leave its artifacts.

A run checks its parameters before anything is written (a date that is not a date, a date after
the newest data, an unknown tenant: a clear error, nothing changed), takes the pipeline's run
lock (never two runs at once; a row lock only the pipeline role can take), records itself in
``analytics.pipeline_runs`` (a run found there still running, whose process died, becomes
``abandoned``; a date whose last run did not finish is rebuilt whole), builds the DAG (Ploomber
skips tasks whose notebook, parameters and upstream are unchanged, so re-running a date is a
no-op unless forced), then writes ``reports/<as_of>/``: ``index.html`` and ``manifest.json``,
one folder per tenant with only that tenant's pages (the report task writes them), and
``_operations/`` with the executed task notebooks as ``.ipynb`` and ``.html`` (they show every
tenant).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import subprocess
import threading
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import yaml

from boxoffice import __version__, config, logs, warehouse
from boxoffice.alerts import subscriptions
from boxoffice.alerts.rules import RulesError, read_rules
from boxoffice.tasks import context
from boxoffice.tasks.base import ALERT_RULES, REPORT_SETTINGS
from boxoffice.warehouse import runs

log = logging.getLogger(__name__)


class PipelineError(RuntimeError):
    """A run could not start or did not finish; the message says what and where."""


class RunInProgress(PipelineError):
    """Another run holds the pipeline's lock."""


@dataclass(frozen=True)
class RunOutcome:
    as_of: dt.date
    tenants: tuple[str, ...]
    directory: Path
    ran: tuple[str, ...]
    skipped: tuple[str, ...]
    seconds: float

    @property
    def index(self) -> Path:
        return self.directory / "index.html"


def project_dir() -> Path:
    """Where ``pipeline.yaml`` lives (:func:`boxoffice.config.project_root`), or a clear error."""
    root = config.project_root()
    if not (root / "pipeline.yaml").is_file():
        raise PipelineError(f"no pipeline.yaml in {root}: run from the boxoffice project")
    return root


def check(as_of: str | dt.date, tenant: str | None) -> context.RunContext:
    """Validate a run's parameters against the warehouse, before anything is written."""
    from boxoffice.warehouse.reads import sale_dates

    try:
        day = context.parse_as_of(as_of)
        first, newest = sale_dates()
        if newest is None:
            raise PipelineError("source holds no sales yet: run `boxoffice synth` first")
        if day < first:
            raise PipelineError(f"as_of {day} is before the first sales data ({first})")
        if day > newest:
            raise PipelineError(f"as_of {day} is after the newest sales data ({newest})")
        everyone = set(context.parse_tenants(None))
        tenants = context.parse_tenants(tenant) if tenant else tuple(sorted(everyone))
    except context.RunParameterError as exc:
        raise PipelineError(str(exc)) from None
    if unknown := sorted(set(tenants) - everyone):
        raise PipelineError(f"unknown tenant(s): {', '.join(unknown)}")
    try:  # a rules or settings file that is not right stops the run before anything is written
        subscriptions.read_settings(
            project_dir() / REPORT_SETTINGS,
            tenants=dict(warehouse.list_tenants().rows()),
            rules=read_rules(project_dir() / ALERT_RULES),
        )
    except (RulesError, subscriptions.SettingsError) as exc:
        raise PipelineError(str(exc)) from None
    return context.RunContext(as_of=day, tenants=tenants)


def run(
    as_of: str | dt.date,
    *,
    tenant: str | None = None,
    force: bool = False,
    trigger: str = "cli",
    progress: bool = True,
) -> RunOutcome:
    params = check(as_of, tenant)
    directory = config.settings().reports_dir / params.as_of.isoformat()
    started = time.perf_counter()
    with exclusive_lock() as lock_pid:
        # a date whose last run died or failed part-way is rebuilt whole: Ploomber's own record
        # of what is up to date may hold a task the dead run had not finished
        rebuild = force or not runs.finished_ok(params.as_of)
        run_id = runs.record_start(params.as_of, params.tenants, trigger, lock_pid)
        with logs.bind(run_id=run_id):
            log.info("run %s of %s started (%s)", run_id, params.as_of, trigger)
            try:
                env = _env(params, directory)
                if not rebuild and (done := _up_to_date(directory, env)):
                    # nothing changed since the date was built: no DAG to render
                    runs.record_finish(run_id, "skipped", report_path=directory)
                    log.info("run %s skipped: %s is up to date", run_id, params.as_of)
                    seconds = round(time.perf_counter() - started, 2)
                    return RunOutcome(params.as_of, params.tenants, directory, (), done, seconds)
                if force:  # a forced run recomputes everything, the sales facts included
                    warehouse.forget_sales_refresh(params.tenants)
                report = _build(env, directory, force=rebuild, progress=progress)
            except Exception as exc:
                message = _failure(exc)
                runs.record_finish(run_id, "failed", error=message)
                log.error("run %s failed: %s", run_id, message)
                _tell_run_failed(params, message)
                raise PipelineError(message) from exc
            ran = tuple(n for n, r in zip(report["name"], report["Ran?"], strict=True) if r)
            skipped = tuple(n for n in report["name"] if n not in ran)
            if ran or not (directory / "index.html").exists():
                _write_artifacts(params, directory, report, _fingerprint(env))
            status = "succeeded" if ran else "skipped"
            runs.record_finish(run_id, status, report_path=directory)
            log.info("run %s %s: ran %s", run_id, status, ", ".join(ran) or "nothing")
            _tell_run_failed(params, None)
    return RunOutcome(
        params.as_of,
        params.tenants,
        directory,
        ran,
        skipped,
        round(time.perf_counter() - started, 2),
    )


def _tell_run_failed(params: context.RunContext, error: str | None) -> None:
    """Fire (``error``) or resolve the tenants' ``run_failed`` alerts. The run's own outcome is
    already recorded: a problem here is logged, never raised over it."""
    from boxoffice.tasks.alerts import record_run

    try:
        record_run(params, error)
    except Exception:
        log.exception("the run_failed alerts could not be judged")


@contextmanager
def exclusive_lock() -> Iterator[int]:
    """The pipeline's run lock (yields its connection's server pid); a second run fails at
    once with a clear error."""
    try:
        with runs.run_lock() as pid:
            yield pid
    except runs.LockHeld as exc:
        raise RunInProgress(str(exc)) from None


def _env(params: context.RunContext, directory: Path) -> dict[str, str]:
    """What ``pipeline.yaml``'s placeholders become for this run."""
    return {
        "as_of": params.as_of.isoformat(),
        "tenants": ",".join(params.tenants),
        "reports_dir": str(directory.parent),
        "landing_state": landing_state(),
        "source_changes": runs.source_change_mark(),
        "rules_state": file_state(ALERT_RULES),
        "reports_state": file_state(REPORT_SETTINGS),
    }


def _fingerprint(env: dict[str, str]) -> str:
    """What Ploomber decides a rerun by, in one hash: the DAG's spec, every notebook's source
    and the values filled into the spec (the run's parameters and input fingerprints)."""
    spec = (project_dir() / "pipeline.yaml").read_text()
    sources = [(project_dir() / t["source"]).read_text() for t in yaml.safe_load(spec)["tasks"]]
    return hashlib.sha256(json.dumps([spec, sources, env], sort_keys=True).encode()).hexdigest()


def _up_to_date(directory: Path, env: dict[str, str]) -> tuple[str, ...]:
    """The tasks of the date's last build when nothing Ploomber would rerun for has changed
    since and every executed notebook is still there; empty otherwise (build the DAG)."""
    try:
        manifest = json.loads((directory / "manifest.json").read_text())
    except (OSError, ValueError):
        return ()
    names = tuple(t["name"] for t in manifest.get("tasks", ()))
    notebooks = [directory / config.OPERATIONS / f"{name}.ipynb" for name in names]
    if manifest.get("fingerprint") != _fingerprint(env) or not all(p.is_file() for p in notebooks):
        return ()
    return names


def _build(env: dict[str, str], directory: Path, *, force: bool, progress: bool) -> dict:
    os.environ["PLOOMBER_STATS_ENABLED"] = "false"  # the one place: never phone home
    from ploomber.constants import TaskStatus
    from ploomber.exceptions import DAGBuildError
    from ploomber.spec import DAGSpec

    # Ploomber sets the root logger to INFO when a build starts and leaves it there: its own
    # records and papermill's stay at warnings, and the root gets its level back afterwards
    for chatty in ("papermill", "ploomber"):
        logging.getLogger(chatty).setLevel(logging.WARNING)
    root_level = logging.getLogger().level
    # Ploomber warns when a notebook does not index `upstream` by task name: ours hand it
    # whole to tasks.run, which checks it against the task's reads
    warnings.filterwarnings(
        "ignore", message=r"(?s).*DAG render with warnings", category=UserWarning
    )

    from boxoffice.tasks.base import PROGRESS_ENV

    dag = DAGSpec(str(project_dir() / "pipeline.yaml"), env=env).to_dag()
    log_file = directory / config.OPERATIONS / "progress.ndjson"  # the run's log of tenants
    log_file.parent.mkdir(parents=True, exist_ok=True)
    log_file.write_text("")
    # one budget of cores: tasks at once × each task's processes (the venue forecasts' pool)
    share = max(1, config.settings().workers // getattr(dag.executor, "processes", 1))
    environ = {PROGRESS_ENV: str(log_file), "BOXOFFICE_WORKERS": str(share)}  # for the kernels
    try:
        with _environ(environ), _Progress(log_file, show=progress, names=_tenant_names()):
            return dag.build(force=force, show_progress=progress).to_dict()
    except DAGBuildError as exc:
        failed = [t for t in dag.values() if t.exec_status == TaskStatus.Errored]
        if not failed:
            raise
        raise TaskFailed(failed[0].name, Path(str(failed[0].product["nb"]))) from exc
    finally:
        logging.getLogger().setLevel(root_level)


def _tenant_names() -> dict[str, str]:
    tenants = warehouse.list_tenants()
    return dict(zip(tenants["tenant_id"], tenants["name"], strict=True))


@contextmanager
def _environ(values: dict[str, str]) -> Iterator[None]:
    """``values`` in ``os.environ`` for the block, the previous values back after it."""
    before = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in before.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


class _Progress:
    """Shows each tenant a task finishes (the lines :func:`boxoffice.tasks.base.progress`
    appends to the run's log) on stderr while the DAG builds."""

    def __init__(self, path: Path, *, show: bool, names: dict[str, str]) -> None:
        self.path, self.show, self.names = path, show, names
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._follow, name="progress", daemon=True)

    def __enter__(self) -> _Progress:
        if self.show:
            self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        if self.show:
            self._stop.set()
            self._thread.join()

    def _follow(self) -> None:
        pending = ""
        with self.path.open(encoding="utf-8") as log_file:
            while True:
                stopping = self._stop.wait(0.25)  # after the stop, one last read
                *complete, pending = (pending + log_file.read()).split("\n")
                for line in complete:
                    event = json.loads(line)
                    logs.progress.info(
                        "           %s: %s done (%s/%s, %.1f s)",
                        event["task"],
                        self.names.get(event["tenant"], event["tenant"]),
                        event["done"],
                        event["of"],
                        event["seconds"],
                    )
                if stopping:
                    return


class TaskFailed(PipelineError):
    """A task of the DAG raised; ``notebook`` is its partly executed notebook."""

    def __init__(self, task: str, notebook: Path) -> None:
        self.task, self.notebook = task, notebook
        super().__init__(f"task {task} failed: {raised_in(notebook)} (see {notebook})")


def raised_in(notebook: Path) -> str:
    """The exception a partly executed notebook stopped on (``Name: value``, from its error
    output), or a note that it has none."""
    try:
        cells = json.loads(notebook.read_text())["cells"]
    except (OSError, ValueError, KeyError):
        return "it left no notebook"
    errors = [o for c in cells for o in c.get("outputs", ()) if o.get("output_type") == "error"]
    if not errors:
        return "no cell raised (the kernel died or timed out)"
    first = next(iter(errors[-1]["evalue"].strip().splitlines()), "")
    return f"{errors[-1]['ename']}: {first}"


def file_state(name: str) -> str:
    """A fingerprint of a configuration file of the project (the alert rules, the report
    settings): when it changes, the tasks that read it run again."""
    path = project_dir() / name
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16] if path.is_file() else ""


def landing_state() -> str:
    """A fingerprint of the landing folder's files (names, sizes, times): when a file arrives,
    the ``ingest`` task's parameters change and Ploomber runs it (and what depends on it)."""
    from boxoffice.ingest import landing

    folder = landing.landing_dir()
    if not folder.is_dir():
        return ""
    listing = [(p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in landing.candidates(folder)]
    return hashlib.sha256(repr(listing).encode()).hexdigest()[:16]


def _write_artifacts(
    params: context.RunContext, directory: Path, report: dict, fingerprint: str
) -> None:
    from boxoffice import tasks
    from boxoffice.reports import artifacts, pages

    done = []
    for name, ran, seconds in zip(
        report["name"], report["Ran?"], report["Elapsed (s)"], strict=True
    ):
        notebook = directory / config.OPERATIONS / f"{name}.ipynb"
        artifacts.export_html(notebook, reports_root=directory.parent)
        done.append({"name": name, "status": "ran" if ran else "up to date", "seconds": seconds})
    folders = pages.tenant_folders(warehouse.list_tenants())
    manifest = {
        "as_of": params.as_of.isoformat(),
        "tenants": list(params.tenants),
        "parameters": {"as_of": params.as_of.isoformat(), "tenants": list(params.tenants)},
        "code_version": code_version(),
        "finished_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "tasks": done,
        "folders": {t: folders[t] for t in params.tenants},
        "rows": runs.partition_rows(tasks.partitioned(), params.as_of, params.tenants),
        "fingerprint": fingerprint,
    }
    artifacts.write_manifest(directory, manifest)
    artifacts.write_index(directory, manifest)


def code_version() -> str:
    """The package version and, in a git checkout, the commit (``.dirty`` with local edits)."""
    try:
        sha = _git("rev-parse", "--short", "HEAD")
        dirty = _git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.CalledProcessError, PipelineError):
        return __version__
    return f"{__version__}+{sha}" + (".dirty" if dirty else "")


def _git(*args: str) -> str:
    done = subprocess.run(
        ["git", *args], cwd=project_dir(), capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def _failure(exc: Exception) -> str:
    """One line: which task failed and why, or why the pipeline could not build."""
    if isinstance(exc, TaskFailed):
        return str(exc)
    text = str(exc).strip()
    return f"the pipeline failed: {text.splitlines()[-1] if text else repr(exc)}"
