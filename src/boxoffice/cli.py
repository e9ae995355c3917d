"""``boxoffice`` — the command line.

Errors are one readable line on stderr and a non-zero exit: 1 for an unhealthy or failed
operation, 2 for bad usage (click's convention).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import functools
import json
import logging
import os
import sys
from pathlib import Path

import click

from boxoffice import config
from boxoffice.formats import money


def _fail(message: str, code: int = 1):
    click.secho(f"error: {message}", fg="red", err=True)
    sys.exit(code)


def _revision(ctx: click.Context, param: click.Parameter, value: str) -> str:
    if not value.strip():
        raise click.BadParameter("empty revision", ctx, param)
    return value


def handle_errors(func):
    """Turn the errors a user can act on into one line and exit 1, never a traceback."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        import psycopg
        import sqlalchemy as sa
        from alembic.util import CommandError

        from boxoffice.pipeline.runner import PipelineError
        from boxoffice.synth import NotMigratedError
        from boxoffice.warehouse.engine import WarehouseError

        try:
            return func(*args, **kwargs)
        except config.ConfigError as exc:
            _fail(str(exc), 2)
        except (WarehouseError, NotMigratedError, PipelineError) as exc:
            _fail(str(exc))
        except CommandError as exc:  # alembic: an unknown revision
            _fail(f"migrations: {exc}", 2)
        except sa.exc.DBAPIError as exc:
            _fail(f"database error: {str(exc.orig).strip().splitlines()[0]}")
        except psycopg.Error as exc:  # raised by COPY, which runs on the driver connection
            _fail(f"database error: {str(exc).strip().splitlines()[0]}")

    return wrapper


class _OneLineUsageErrors(click.Group):
    """Usage errors (a bad option value, a missing argument) as one line, like every other
    error, instead of click's usage block."""

    def make_context(self, *args, **kwargs) -> click.Context:
        try:  # the group's own options
            return super().make_context(*args, **kwargs)
        except click.UsageError as exc:
            _usage_error(exc)

    def invoke(self, ctx: click.Context):
        try:  # a command's options and arguments
            return super().invoke(ctx)
        except click.UsageError as exc:
            _usage_error(exc)


def _usage_error(exc: click.UsageError):
    where = f" (see `{exc.ctx.command_path} --help`)" if exc.ctx else ""
    _fail(exc.format_message() + where, exc.exit_code)


@click.group(cls=_OneLineUsageErrors)
@click.version_option(package_name="boxoffice")
@click.option("-v", "--verbose", is_flag=True, help="Log what happens.")
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    default=None,
    help="Log records as text or one JSON object per line [default: BOXOFFICE_LOG_FORMAT, "
    "else text].",
)
def main(verbose: bool, log_format: str | None) -> None:
    """boxoffice: analytics workbench for live-event ticketing."""
    from boxoffice import logs

    try:
        log_format = log_format or config.log_format()
    except config.ConfigError as exc:
        _fail(str(exc), 2)
    logs.configure(log_format, logging.INFO if verbose else logging.WARNING)


# ------------------------------------------------------------------------------------ db
@main.group()
def db() -> None:
    """The warehouse database: migrations, URL, embedded server."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True, callback=_revision)
@handle_errors
def db_upgrade(revision: str) -> None:
    """Create or migrate the schemas, roles and row-level security."""
    from boxoffice.warehouse import engine, migrate

    engine.create_embedded_if_missing()

    with engine.connect("owner") as conn:
        engine.without_statement_timeout(conn)
        before = migrate.current(conn)
        migrate.upgrade(conn, revision)
        after = migrate.current(conn)
    click.echo(f"database at {after}" + ("" if before == after else f" (was {before or 'empty'})"))


@db.command("downgrade")
@click.argument("revision", callback=_revision)
@handle_errors
def db_downgrade(revision: str) -> None:
    """Migrate down to REVISION ('base' removes every boxoffice schema and its data)."""
    from boxoffice.warehouse import engine, migrate

    with engine.connect("owner") as conn:
        engine.without_statement_timeout(conn)
        migrate.downgrade(conn, revision)
        click.echo(f"database at {migrate.current(conn) or 'base'}")


@db.command("url")
@click.option("--role", type=click.Choice(["owner", "pipeline", "reader"]), default="owner")
@handle_errors
def db_url(role: str) -> None:
    """Print the connection URL (for psql, BI tools); starts the embedded server if needed."""
    from boxoffice.warehouse import engine

    click.echo(engine.libpq_url(engine.database_url(role)))


@db.command("dump")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@handle_errors
def db_dump(file: Path) -> None:
    """Dump the database to FILE (pg_dump custom format; a new file)."""
    from boxoffice.warehouse import dump

    dump.dump(file)
    click.echo(f"dumped to {file} ({file.stat().st_size:,} bytes)")


@db.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace the objects of a non-empty database.")
@handle_errors
def db_restore(file: Path, force: bool) -> None:
    """Restore a dump into an empty database (one transaction); creates the boxoffice roles
    if the server lacks them, and the embedded database if there is none yet."""
    from boxoffice.warehouse import dump, engine

    engine.create_embedded_if_missing()
    dump.restore(file, force=force)
    click.echo(f"restored {file}")


@db.command("stop")
@handle_errors
def db_stop() -> None:
    """Stop the embedded server (it starts again on demand)."""
    from boxoffice.warehouse import embedded

    s = config.settings()
    if not s.embedded:
        _fail("BOXOFFICE_DATABASE_URL is set: the database is not embedded", 2)
    click.echo("stopped" if embedded.stop(s.pgdata) else "not running")


# ------------------------------------------------------------------------------- tenants
@main.command()
@click.option("--first", is_flag=True, help="Print only the first tenant's id (for scripts).")
@handle_errors
def tenants(first: bool) -> None:
    """List the tenants (id and name)."""
    from boxoffice import warehouse

    rows = warehouse.list_tenants()
    if rows.is_empty():
        _fail("no tenants yet: run `boxoffice synth` (or load source data) first")
    if first:
        click.echo(rows["tenant_id"][0])
        return
    for tenant_id, name in rows.iter_rows():
        click.echo(f"{tenant_id}  {name}")


# -------------------------------------------------------------------------------- doctor
@main.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output for probes.")
@handle_errors
def doctor(as_json: bool) -> None:
    """Check the warehouse: reachable, migrated, secured, and how much data how fresh.

    The report goes to standard output, each problem found to standard error."""
    from boxoffice.doctor import diagnose

    report = diagnose()
    if as_json:
        click.echo(json.dumps(report.as_dict(), indent=2, default=str))
    else:
        _print_report(report)
    sys.exit(0 if report.healthy else 1)


def _print_report(report) -> None:
    ok = click.style("ok  ", fg="green")
    bad = click.style("FAIL", fg="red")
    if report.latency_ms is not None:
        click.echo(f"{ok} database   {report.url}")
        click.echo(f"{ok} latency    {report.latency_ms:.2f} ms (median of 5 round trips)")
        click.echo(f"{ok} server     PostgreSQL {report.server_version}")
    if report.revision == report.head:
        click.echo(f"{ok} migrations at head ({report.head})")
    for name, info in report.schemas.items():
        age = f"newest {_age(info['age_hours'])} old" if info["newest"] else "no data"
        click.echo(f"{ok} {name:<10} {info['total_rows']:>12,} rows, {age}")
    if report.storage:
        st = report.storage
        oldest = ", ".join(
            f"{what} {str(st[key])[:10]}"
            for what, key in (
                ("raw events", "oldest_raw_event"),
                ("runs", "oldest_run_partition"),
                ("reports", "oldest_report_folder"),
            )
            if st[key]
        )
        click.echo(
            f"{ok} storage    {st['database_bytes'] / 2**20:,.0f} MiB"
            + (f"; oldest kept: {oldest}" if oldest else "")
        )
    if (load := report.load) and load["outcome"] == "loaded":
        rows = ", ".join(f"{v:,} {k}" for k, v in load["rows"].items() if v) or "no rows"
        click.echo(
            f"{ok} load       {load['finished_at']:%Y-%m-%d %H:%M %Z} from {load['source']}:"
            f" {rows} ({load['seconds']} s)"
        )
    for note in report.notes:
        click.echo(f"note {note}")
    for problem in report.problems:
        click.echo(f"{bad} {problem}", err=True)
    click.echo("healthy" if report.healthy else "unhealthy")


def _age(hours: float) -> str:
    return f"{hours:.1f} h" if abs(hours) < 48 else f"{hours / 24:.0f} days"


# --------------------------------------------------------------------------------- synth
@main.command()
@click.option(
    "--scale",
    type=click.Choice(["small", "medium", "large"]),
    default="small",
    show_default=True,
    help="small ≈ 100k tickets, medium ≈ 1M, large ≈ 10M.",
)
@click.option("--seed", type=click.IntRange(0, 2**63 - 1), default=42, show_default=True)
@click.option(
    "--end",
    "end",
    type=click.DateTime(["%Y-%m-%d"]),
    default="2026-10-31",
    show_default=True,
    help="Last day of sales history (events continue after it).",
)
@click.option(
    "--manifest",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where to write the ground-truth manifest [default: <home>/synth/manifest.json].",
)
@click.option(
    "--event-days",
    type=click.IntRange(0, 3660),
    default=14,
    show_default=True,
    help="Days of behaviour events (CloudEvents NDJSON, one file per UTC day, 0.1 % malformed "
    "and 0.5 % re-sent lines) written to the landing folder, up to --end; 0 for none.",
)
@click.option(
    "--to",
    "folder",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Write the world as contract files (<table>.parquet) into this folder, for "
    "`boxoffice load --from`, instead of loading it.",
)
@click.option(
    "--anomalies",
    is_flag=True,
    help="Put known anomalies in the last 90 days (per tenant, two each of a web outage day, a "
    "refund wave, a sales spike and a scanner outage), listed in the manifest.",
)
@handle_errors
def synth(
    scale: str,
    seed: int,
    end: dt.datetime,
    manifest: Path | None,
    event_days: int,
    folder: Path | None,
    anomalies: bool,
) -> None:
    """Generate a synthetic ticketing world and load it into the source schema (replacing it),
    or write it as the files a platform would give `boxoffice load` (--to)."""
    from boxoffice.synth import WorldSpec, build_world, write_world_files
    from boxoffice.warehouse import engine

    with engine.connect("owner"):  # an unreachable database fails before anything is announced
        pass
    spec = WorldSpec(scale=scale, seed=seed, end=end.date(), anomalies=anomalies)
    path = manifest or config.settings().home / "synth" / "manifest.json"
    click.echo(f"generating the {scale} world (seed {seed}, {spec.start} … {spec.end})", err=True)
    say = lambda msg: click.echo(f"  {msg}", err=True)  # noqa: E731
    if folder is None:
        result, done, then = build_world(spec, path, progress=say), "loaded", ""
    else:
        result = write_world_files(spec, folder, path, progress=say)
        done, then = "wrote", f"; load them with `boxoffice load --from {folder}`"
    rows = result["rows"]
    click.echo(
        f"{done} {rows['tickets']:,} tickets, {rows['orders']:,} orders, "
        f"{rows['customers']:,} customers, {rows['events']:,} events in {len(result['tenants'])} "
        f"tenants ({result['seconds']} s); ground truth in {path}{then}"
    )
    if anomalies:
        count = sum(len(t["anomalies"]) for t in result["tenants"])
        click.echo(f"put {count} known anomalies in the last 90 days (listed in {path})")
    if event_days:
        from boxoffice.synth.stream import write_event_stream

        last = spec.end
        landing = config.settings().landing_dir
        landing.mkdir(parents=True, exist_ok=True)
        files = write_event_stream(
            landing,
            start=last - dt.timedelta(days=event_days - 1),
            end=last,
            seed=seed,
            malformed=0.001,
            duplicates=0.005,
        )
        click.echo(f"wrote {len(files)} days of behaviour events to {landing}")


# -------------------------------------------------------------------------------- ingest
@main.command()
@click.option(
    "--from",
    "folder",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="A folder of <table>.parquet or <table>.csv files, and <table>.deleted.parquet or .csv"
    " tombstones (docs/source-contract.md).",
)
@click.option(
    "--mapping",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Read the platform's PostgreSQL as this mapping file says (YAML; its connection URL"
    " comes from the environment variable it names; docs/source-contract.md).",
)
@click.option("--check", is_flag=True, help="Check the rows and report; write nothing.")
@click.option(
    "--full",
    is_flag=True,
    help="The files (or the platform's tables) hold every row of their tenants: delete the"
    " rows they lack; a mapping's tables are read whole, whatever their cursors.",
)
@click.option(
    "--quarantine",
    is_flag=True,
    help="Load the good rows; keep the bad ones, with their problems, in source.load_rejects.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the counts (or problems) as JSON.")
@click.option(
    "--show", type=click.IntRange(1), default=20, show_default=True, help="Problems listed."
)
@handle_errors
def load(
    folder: Path | None,
    mapping: Path | None,
    check: bool,
    full: bool,
    quarantine: bool,
    as_json: bool,
    show: int,
) -> None:
    """Load a platform's source tables (tenants, venues, events, customers, orders, tickets,
    campaign touches) from files, one per table (--from), or from the platform's own
    PostgreSQL (--mapping; incremental: only the rows changed since the last load, by each
    table's cursor).

    Every row is checked against the source contract first (types, keys, references,
    allowed values, time zones, the tables' rules); one problem refuses the whole load and
    nothing is written (with --quarantine the bad rows are kept aside and the rest loaded).
    Otherwise every table is upserted by its key in one transaction: new rows inserted,
    changed rows updated, the rest left alone, so the next `boxoffice run` recomputes only the
    days that changed. Rows listed in <table>.deleted files are deleted, and with --full every
    row of the files' tenants that its file lacks. Each load is recorded in source.loads
    (`boxoffice doctor` shows the newest).
    """
    from boxoffice.warehouse import loading, platform, sources

    if (folder is None) == (mapping is None):
        _fail("give either --from DIR (files) or --mapping FILE (the platform's database)", 2)
    options = {"full": full, "check_only": check, "quarantine": quarantine}
    try:
        if folder is not None:
            frames, deletions = sources.read_folder(folder)
            done = loading.load(
                frames,
                source=str(folder.resolve()),
                deletions=deletions,
                progress=_bar,
                **options,
            )
        else:
            spec = platform.read_mapping(mapping)
            with platform.read(spec, loading.last_marks(spec.name), full=full) as snapshot:
                done = loading.load(
                    snapshot.tables,
                    source=spec.name,
                    deletions=snapshot.deletions,
                    marks=snapshot.marks,
                    progress=_bar,
                    **options,
                )
    except loading.LoadRefused as refused:
        _report_problems(refused.problems, show, as_json)
        _fail(str(refused))
    except loading.LoadBusy as busy:
        _fail(str(busy))
    except ValueError as exc:
        _fail(str(exc), 2)
    if as_json:
        click.echo(json.dumps({"load_id": str(done.load_id), "tables": done.tables}))
        return
    if done.problems.height:
        _report_problems(done.problems, show, as_json)
    for table, n in done.tables.items():
        click.echo(f"{table}: " + ", ".join(f"{v:,} {k}" for k, v in n.items() if v))
    rejected = sum(n["rejected"] for n in done.tables.values())
    if check:
        click.echo(
            f"checked: {done.problems.height:,} problem(s) in {rejected:,} row(s), nothing written"
            if done.problems.height
            else "checked: no problems, nothing written"
        )
    else:
        kept = f"; {rejected:,} row(s) rejected, kept in source.load_rejects" if rejected else ""
        click.echo(f"loaded (load {done.load_id}){kept}")


def _report_problems(problems, show: int, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(problems.to_dicts()))
        return
    for p in problems.head(show).iter_rows(named=True):
        where = p["table"] if p["row"] is None else f"{p['table']} row {p['row']} ({p['key']})"
        click.echo(f"{where}, {p['column']}: {p['rule']}: {p['detail']}", err=True)
    if problems.height > show:
        click.echo(f"… and {problems.height - show:,} more; by rule:", err=True)
        by_rule = problems.group_by("table", "column", "rule").len().sort("table", "column")
        for p in by_rule.iter_rows(named=True):
            click.echo(f"  {p['table']}.{p['column']}: {p['rule']}: {p['len']:,}", err=True)


@main.command()
@click.argument("inputs", nargs=-1, type=click.Path(dir_okay=False, allow_dash=True))
@click.option(
    "--landing",
    is_flag=True,
    help="Ingest the new files of the landing folder (BOXOFFICE_LANDING_DIR) instead.",
)
@click.option("--json", "as_json", is_flag=True, help="Print each batch's counts as JSON.")
@click.option(
    "--workers",
    type=click.IntRange(0),
    default=0,
    show_default=True,
    help="Parse in this many processes (0: in this one); pays only with a spare core.",
)
@handle_errors
def ingest(inputs: tuple[str, ...], landing: bool, as_json: bool, workers: int) -> None:
    """Ingest CloudEvents NDJSON files (.gz too; - for stdin), one batch per file.

    With --landing, a file that cannot be read as a whole (a corrupt gzip file) is moved
    to rejected/ in the landing folder, with NAME.reason next to it, and the others go on.

    Every non-blank line is received and ends up stored, a duplicate, or a dead letter
    with its reason: received = stored + duplicates + rejected. Blank lines (only ASCII
    whitespace) are skipped and not counted; line numbers count them.
    A failed batch leaves nothing behind; ingesting the same file again completes it.
    """
    from boxoffice.ingest import InputError, ingest_path
    from boxoffice.ingest import landing as landing_folder

    if landing == bool(inputs):
        _fail("give FILE arguments or --landing (not both)", 2)
    results = []

    def ingest_one(path):
        with _progress_bar(path) as bar:
            result = ingest_path(path, progress=bar, workers=workers)
        results.append(result.as_dict())
        if not as_json:
            _print_batch(result)
        return result

    if landing:
        try:
            landed = landing_folder.ingest_new(ingest=ingest_one)
        except FileNotFoundError as exc:
            _fail(str(exc))
        for aside in landed.set_aside:
            click.secho(f"set aside {aside.path}: {aside.reason}", fg="yellow", err=True)
        if not landed.batches and not landed.set_aside and not as_json:
            click.echo("no new files in the landing folder", err=True)
    for path in inputs:
        try:
            ingest_one(path)
        except (FileNotFoundError, InputError) as exc:
            _fail(str(exc))
    if as_json:
        click.echo(json.dumps(results, indent=2))


def _progress_bar(path: str | Path):
    """A byte progress bar for a file, on an interactive terminal."""
    size = None if str(path) == "-" else Path(path).stat().st_size
    return _bar(Path(str(path)).name, size, "B")


@contextlib.contextmanager
def _bar(name: str, total: int | None, unit: str):
    """A progress bar (``name``, ``total`` in ``unit``) on an interactive terminal; nothing
    otherwise."""
    if not sys.stderr.isatty():
        yield lambda done: None
        return
    from tqdm import tqdm

    with tqdm(total=total, unit=unit, unit_scale=True, desc=name, leave=False) as bar:
        yield lambda done: bar.update(done - bar.n)


def _print_batch(r) -> None:
    rate = r.received / r.seconds if r.seconds else 0
    click.echo(
        f"{r.input_name}: {r.received:,} received = {r.stored:,} stored + {r.duplicates:,}"
        f" duplicates + {r.rejected:,} rejected ({r.late:,} late) in {r.seconds:.1f} s,"
        f" {rate:,.0f} events/s"
    )
    for reason, lines in list(r.rejections.items())[:5]:
        click.echo(f"  rejected {lines:,} × {reason}")


@main.command()
@click.option(
    "--older-than",
    "days",
    type=click.IntRange(1, 36_500),
    default=None,
    help="Keep raw events of the last DAYS days, 1 to 36500 (whole months older than that are"
    " dropped) [default: the policy's raw_events_days].",
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Retention policy [default: retention.yaml of the project; built-in defaults if absent].",
)
@click.option("--dry-run", is_flag=True, help="Say what would be dropped; change nothing.")
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def retention(days: int | None, config_path: Path | None, dry_run: bool, as_json: bool) -> None:
    """Apply the retention policy: raw event months and dead letters past their window, old
    runs' analytics partitions and report folders (daily, then month-ends)."""
    from boxoffice.pipeline import retention as policy_
    from boxoffice.pipeline.runner import project_dir

    try:
        policy = policy_.Policy.load(config_path or project_dir() / "retention.yaml")
        if days is not None:
            policy = dataclasses.replace(policy, raw_events_days=days)
        result = policy_.apply(policy, dry_run=dry_run)
    except ValueError as exc:
        _fail(str(exc), 2)
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    _say_retention(result)


def _say_retention(result: dict, say=click.echo) -> None:
    verb = "would drop" if result["dry_run"] else "dropped"
    raw = result["raw"]
    for part in raw["dropped"]:
        say(f"{verb} raw.{part['partition']} ({part['rows']:,} events)")
    if raw["dead_letters_deleted"]:
        say(f"{verb} {raw['dead_letters_deleted']:,} dead letters received before the cutoff")
    if result["run_dates"]:
        rows = sum(result["partition_rows"].values())
        say(f"{verb} the partitions of {len(result['run_dates'])} run date(s) ({rows:,} rows)")
    for folder in result["report_folders"]:
        say(f"{verb} {folder}")
    if (
        not (raw["dropped"] or raw["dead_letters_deleted"] or result["run_dates"])
        and not result["report_folders"]
    ):
        say(f"nothing to drop (raw events cutoff {raw['cutoff'][:10]})")


# -------------------------------------------------------------------------------- forget
@main.command()
@click.option("--tenant", required=True, help="The customers' tenant (UUID).")
@click.option("--customer", "customers", multiple=True, help="A customer id (UUID); repeatable.")
@click.option(
    "--file",
    "id_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A text file of customer ids, one per line.",
)
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def forget(tenant: str, customers: tuple[str, ...], id_file: Path | None, as_json: bool) -> None:
    """Erase customers everywhere (GDPR): source rows, analytics rows and raw events keyed by
    them, dead letters and report files that name them; logged without PII."""
    from boxoffice import privacy
    from boxoffice.reports.artifacts import scrub
    from boxoffice.warehouse import erasure
    from boxoffice.warehouse.dump import recorded_dumps

    try:
        ids = list(customers)
        if id_file is not None:
            try:
                ids += [line for line in id_file.read_text().splitlines() if line.strip()]
            except UnicodeDecodeError:
                raise ValueError(f"{id_file}: not a text file of customer ids") from None
        ids = erasure.parse_customers(ids)
        tenant_id = erasure.known_tenant(tenant)
    except ValueError as exc:
        _fail(str(exc), 2)
    keys = {c: privacy.customer_key(c) for c in ids}
    found = scrub(config.settings().reports_dir, [*keys, *keys.values()])
    files = {c: sorted({*found[c], *found[k]}) for c, k in keys.items()}
    dumps = recorded_dumps()  # made before now: they still hold the customers
    deleted = erasure.forget_customers(tenant_id, ids, files=files, dumps=dumps)
    if as_json:
        click.echo(json.dumps({"deleted": deleted, "files": files}, indent=2))
        return
    for customer, counts in deleted.items():
        rows = ", ".join(f"{n:,} {table}" for table, n in counts.items() if n) or "no rows"
        changed = f"; {len(files[customer])} report file(s) scrubbed" if files[customer] else ""
        click.echo(f"forgot {customer}: {rows}{changed}")
    for path in dumps:
        click.echo(f"note: {path} was made before this erasure and still holds them")


# ----------------------------------------------------------------------------------- run
@main.command()
@click.option("--as-of", "as_of", required=True, help="Run date (YYYY-MM-DD), local to each venue.")
@click.option("--tenant", default=None, help="Only this tenant (UUID) [default: every tenant].")
@click.option("--force", is_flag=True, help="Rebuild every task even if it is up to date.")
@handle_errors
def run(as_of: str, tenant: str | None, force: bool) -> None:
    """Build the pipeline for one date and write reports/<DATE>/."""
    from boxoffice.pipeline import runner

    if tenant is not None and not tenant.strip():
        _fail("--tenant is empty: give tenant UUIDs, or leave it out for every tenant", 2)
    outcome = runner.run(as_of, tenant=tenant, force=force)
    if outcome.ran:
        click.echo(f"built {', '.join(outcome.ran)} for {outcome.as_of} in {outcome.seconds:.1f} s")
    else:
        click.echo(f"{outcome.as_of} is up to date ({outcome.seconds:.1f} s); --force rebuilds")
    click.echo(f"report: {outcome.index}")


# -------------------------------------------------------------------------------- report
@main.command()
@click.option("--tenant", required=True, help="The tenant (UUID).")
@click.option("--as-of", "as_of", required=True, help="The run date (YYYY-MM-DD) it ends on.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["pdf", "xlsx", "html"]),
    default=None,
    help="One file [default: all three; with --out, from its suffix].",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the one file here [default: the tenant's folder of reports/<DATE>/].",
)
@click.option("--days", type=click.IntRange(1, 366), default=None, help="The period [default: 30].")
@handle_errors
def report(tenant: str, as_of: str, fmt: str | None, out: Path | None, days: int | None) -> None:
    """Render one tenant's report pack (PDF, workbook, page) of a completed run, on demand."""
    import shutil
    import tempfile

    from boxoffice.pipeline import packs
    from boxoffice.warehouse.engine import parse_tenant

    try:
        tenant = str(parse_tenant(tenant))
    except ValueError as exc:
        _fail(f"--tenant: {exc}", 2)
    day = _as_of(as_of)
    if out is not None:
        fmt = fmt or out.suffix.lstrip(".").lower()
        if fmt not in ("pdf", "xlsx", "html"):
            _fail(f"--out {out}: say which format (--format pdf|xlsx|html)", 2)
        with tempfile.TemporaryDirectory(dir=out.parent, prefix=".report-") as scratch:
            written = packs.render(tenant, day, formats=(fmt,), folder=Path(scratch), days=days)[
                fmt
            ]
            shutil.move(written["path"], out)
        written["path"] = out
        files = {fmt: written}
    else:
        files = packs.render(tenant, day, formats=(fmt,) if fmt else ("html", "pdf", "xlsx"),
                             days=days)  # fmt: skip
    for written in files.values():
        click.echo(
            f"{written['path']}: {written['bytes'] / 1000:,.0f} kB in {written['seconds']:.1f} s"
        )


# --------------------------------------------------------------------------- subscriptions
@main.group("subscriptions")
def subscriptions_() -> None:
    """Report pack subscriptions (reports.yaml): list them, deliver what is due."""


@subscriptions_.command("list")
@handle_errors
def subscriptions_list() -> None:
    """Each subscription: its tenant, recipients, cadence, and the pack due now."""
    from boxoffice import warehouse
    from boxoffice.alerts.subscriptions import SettingsError
    from boxoffice.pipeline import packs

    try:
        settings, _ = packs.load_settings()
    except SettingsError as exc:
        _fail(str(exc), 2)
    names = dict(warehouse.list_tenants().rows())
    ids = {name: tenant for tenant, name in names.items()}
    now = dt.datetime.now(dt.UTC)
    if not settings.subscriptions:
        click.echo("no subscriptions: add them to reports.yaml (docs/reports.md)")
    for s in settings.subscriptions:
        tenant = s.tenant if s.tenant in names else ids[s.tenant]
        day, as_of = s.due(now, settings.for_tenant(tenant, names[tenant]).timezone)
        click.echo(
            f"{s.name}: {names[tenant]}, {s.cadence} ({s.timezone or 'tenant time'}),"
            f" {', '.join(s.formats)} of {s.days} day(s) to {', '.join(s.to)};"
            f" due: the pack of {as_of} (delivery day {day})"
        )


@subscriptions_.command("deliver")
@handle_errors
def subscriptions_deliver() -> None:
    """Deliver each subscription that is due now (once per period), and retry what failed."""
    from boxoffice.alerts.subscriptions import SettingsError
    from boxoffice.pipeline import packs

    try:
        done, delivered = packs.deliver(say=click.echo)
    except SettingsError as exc:
        _fail(str(exc), 2)
    failed = sum(d["failed"] for d in delivered.values())
    unrendered = [row for row in done if row["done"].startswith("failed")]
    if failed or unrendered:
        _fail(
            f"{len(unrendered)} pack(s) not rendered, {failed} delivery attempt(s) failed:"
            " they are tried again by the next delivery",
            1,
        )


# ------------------------------------------------------------------------------ schedule
@main.command()
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Schedule file [default: schedule.yaml of the project].",
)
@click.option("--once", is_flag=True, help="Run what is due now and exit (for cron, systemd).")
@handle_errors
def schedule(config_path: Path | None, once: bool) -> None:
    """Run the pipeline for each due date of a cron schedule, one run at a time."""
    import yaml

    from boxoffice.alerts.rules import RulesError
    from boxoffice.alerts.subscriptions import SettingsError
    from boxoffice.pipeline import packs
    from boxoffice.pipeline import retention as policy_
    from boxoffice.pipeline import schedule as sched
    from boxoffice.pipeline.runner import project_dir

    path = config_path or project_dir() / "schedule.yaml"
    try:
        plan = sched.Schedule.load(path)
        policy = policy_.Policy.load(project_dir() / "retention.yaml")
        packs.load_settings()  # reports.yaml: checked before the first run, as the others
    except (sched.ScheduleError, policy_.PolicyError, SettingsError, RulesError) as exc:
        _fail(str(exc), 2)
    except (UnicodeDecodeError, yaml.YAMLError) as exc:
        _fail(f"{path}: not a YAML schedule ({str(exc).splitlines()[0]})", 2)

    def say(message: str) -> None:
        click.echo(f"{dt.datetime.now().isoformat(timespec='seconds')} {message}", err=True)

    def retain() -> None:  # after each run
        _say_retention(policy_.apply(policy), say=lambda line: say(f"retention: {line}"))
        packs.deliver(say=lambda line: say(f"subscriptions: {line}"))

    if once:
        sched.tick(plan, dt.datetime.now(dt.UTC), say, after_run=retain)
    else:
        say(f"schedule {plan.cron!r} ({plan.timezone}); Ctrl-C stops")
        sched.serve(plan, say, after_run=retain)


# ------------------------------------------------------------------------------- pricing
def _pricing_tenant(tenant: str | None) -> str:
    from boxoffice.warehouse.engine import parse_tenant

    tenant = tenant or config.settings().tenant
    if not tenant:
        _fail("which tenant? pass --tenant ID or set BOXOFFICE_TENANT", 2)
    try:
        return str(parse_tenant(tenant))
    except ValueError as exc:
        _fail(str(exc), 2)


TENANT_OPTION = click.option("--tenant", default=None, help="[default: BOXOFFICE_TENANT]")


@main.group()
def pricing() -> None:
    """Price recommendations: list them, approve or reject one, export approved prices."""


def _known_to_the_reader(tenant: str) -> None:
    """Fail when the reader sees nothing at all of ``tenant``: no run of it ever finished (an
    unknown tenant looks the same to a reader, who cannot read ``source``)."""
    from boxoffice import warehouse

    if warehouse.latest_as_of(tenant=tenant) is None:
        _fail(f"tenant {tenant} has no completed run: an unknown tenant, or run `boxoffice run`")


@pricing.command("list")
@TENANT_OPTION
@click.option(
    "--status",
    type=click.Choice(["pending", "approved", "rejected", "expired", "all"]),
    default="pending",
    show_default=True,
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@handle_errors
def pricing_list(tenant: str | None, status: str, as_json: bool) -> None:
    """The tenant's recommendations, newest run first."""
    from boxoffice.warehouse import pricing as wp

    tenant = _pricing_tenant(tenant)
    frame = wp.read_recommendations(tenant=tenant, status=None if status == "all" else status)
    if frame.is_empty():
        _known_to_the_reader(tenant)
    if as_json:
        for row in frame.iter_rows(named=True):
            click.echo(json.dumps(row, default=str))
        return
    if frame.is_empty():
        click.echo(f"no {'' if status == 'all' else status + ' '}recommendations")
        return
    for r in frame.iter_rows(named=True):
        click.echo(
            f"{r['recommendation_id']}  {r['status']:<8} {r['as_of']}  "
            f"{(r['event'] or r['event_id'])[:32]:<32} {r['current_price_cents'] / 100:>9,.2f}"
            f" → {r['recommended_price_cents'] / 100:>9,.2f}  score {r['demand_score']:5.1f}"
            f"  until {r['valid_until']}" + (f"  by {r['decided_by']}" if r["decided_by"] else "")
        )
        click.echo(f"    {r['reason']}")


def _decide(decision: str, recommendation: str, by: str, note: str | None, tenant: str | None):
    from boxoffice.warehouse import pricing as wp
    from boxoffice.warehouse.pricing import ApprovalError

    try:
        row = wp.decide(recommendation, decision, by=by, note=note, tenant=_pricing_tenant(tenant))
    except ApprovalError as exc:
        _fail(f"{recommendation}: {exc}")
    click.echo(
        f"{row['recommendation_id']} {row['status']} by {row['decided_by']}: "
        f"{money(row['current_price_cents'])} → {money(row['recommended_price_cents'])}"
    )


@pricing.command("approve")
@click.argument("recommendation")
@click.option("--by", required=True, help="Who approves (recorded in the price history).")
@click.option("--note", default=None)
@TENANT_OPTION
@handle_errors
def pricing_approve(recommendation: str, by: str, note: str | None, tenant: str | None) -> None:
    """Approve a pending recommendation: its price goes into the price history."""
    _decide("approve", recommendation, by, note, tenant)


@pricing.command("reject")
@click.argument("recommendation")
@click.option("--by", required=True, help="Who rejects.")
@click.option("--note", default=None)
@TENANT_OPTION
@handle_errors
def pricing_reject(recommendation: str, by: str, note: str | None, tenant: str | None) -> None:
    """Reject a pending recommendation."""
    _decide("reject", recommendation, by, note, tenant)


@pricing.command("export")
@TENANT_OPTION
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="CSV file to write [default: standard output].",
)
@handle_errors
def pricing_export(tenant: str | None, out: Path | None) -> None:
    """Each event's newest approved price as CSV, for the platform to apply."""
    from boxoffice.warehouse import pricing as wp

    if out is not None and not out.parent.is_dir():
        _fail(f"--out: no directory {out.parent}", 2)
    tenant = _pricing_tenant(tenant)
    frame = wp.read_approved_prices(tenant=tenant)
    if frame.is_empty():
        _known_to_the_reader(tenant)
    if out is None:
        click.echo(frame.write_csv(), nl=False)
        return
    partial = out.with_name(f".{out.name}.part")
    frame.write_csv(partial)
    partial.replace(out)  # atomic: a reader never sees half a file
    click.echo(f"{frame.height} approved prices → {out}", err=True)


# -------------------------------------------------------------------------------- alerts
@main.group()
def alerts() -> None:
    """Alert rules (alerts.yaml): list, show, acknowledge, silence, test and evaluate them."""


def _rule_set():
    """The project's alerts.yaml, or its one-line error and exit 2."""
    from boxoffice.alerts.rules import RulesError, read_rules
    from boxoffice.pipeline.runner import project_dir
    from boxoffice.tasks.base import ALERT_RULES

    try:
        return read_rules(project_dir() / ALERT_RULES)
    except RulesError as exc:
        _fail(str(exc), 2)


def _rules_of(tenant: str):
    """The tenant's rules, channels and delivery settings from the project's alerts.yaml."""
    from boxoffice.warehouse.reads import list_tenants

    rule_set = _rule_set()
    names = dict(list_tenants().rows())
    if tenant not in names:
        _fail(f"unknown tenant {tenant}", 2)
    own, channels = rule_set.for_tenant(tenant, names[tenant])
    return names[tenant], own, channels, rule_set.delivery


def _rule(own, name: str):
    found = next((r for r in own if r.name == name), None)
    if found is None:
        _fail(f"no rule {name} for this tenant (rules: {', '.join(r.name for r in own)})", 2)
    return found


def _rule_line(rule) -> str:
    what = rule.description or " ".join(
        str(v) for v in (rule.metric, rule.of, rule.condition) if v is not None
    )
    return (
        f"{rule.name:<22} {rule.kind:<11} {rule.scope:<8} {rule.cadence:<8} for {rule.pending}"
        f"  → {', '.join(rule.notify) or 'nobody'}  {what}"
    )


@alerts.command("list")
@TENANT_OPTION
@handle_errors
def alerts_list(tenant: str | None) -> None:
    """The tenant's rules, and the scopes of each that are firing or pending."""
    from boxoffice.warehouse import alerts as stored

    tenant = _pricing_tenant(tenant)
    name, own, _, _ = _rules_of(tenant)
    states = stored.read_alert_states(tenant=tenant)
    click.echo(f"{name}: {len(own)} rules")
    for rule in own:
        mine = states.filter(states["rule"] == rule.name)
        counts = dict(mine.group_by("state").len().rows())
        now = ", ".join(f"{counts[s]} {s}" for s in ("firing", "pending") if counts.get(s))
        click.echo(_rule_line(rule) + (f"  [{now}]" if now else ""))


@alerts.command("show")
@click.argument("rule")
@TENANT_OPTION
@click.option("--days", type=click.IntRange(1, 3660), default=30, show_default=True)
@handle_errors
def alerts_show(rule: str, tenant: str | None, days: int) -> None:
    """One rule: its scopes' states, its changes and its notifications of the last DAYS."""
    import polars as pl

    from boxoffice.warehouse import alerts as stored

    tenant = _pricing_tenant(tenant)
    _, own, _, _ = _rules_of(tenant)
    found = _rule(own, rule)
    click.echo(_rule_line(found))
    states = stored.read_alert_states(tenant=tenant).filter(pl.col("rule") == rule)
    click.echo(f"\nscopes ({states.height}):")
    for s in states.iter_rows(named=True):
        ack = f"  acknowledged by {s['acknowledged_by']}" if s["acknowledged_by"] else ""
        value = "none" if s["value"] is None else f"{s['value']:g}"
        click.echo(
            f"  {s['scope_key']}  {s['state']:<8} since {s['since']}  value {value}"
            f"  (evaluated {s['evaluated']}){ack}"
        )
    since = _as_of(None) - dt.timedelta(days=days)  # days back from the newest sale
    events = stored.read_alert_events(tenant=tenant, since=since, role="pipeline").filter(
        pl.col("rule") == rule
    )
    click.echo(f"\nchanges since {since} ({events.height}):")
    for e in events.iter_rows(named=True):
        click.echo(f"  {e['as_of']}  {e['from_state']} → {e['to_state']}  {e['explanation']}")
    sent = stored.read_notifications(tenant=tenant).filter(pl.col("rule") == rule)
    click.echo(f"\nnotifications ({sent.height}):")
    for n in sent.head(20).iter_rows(named=True):
        error = f"  last error: {n['last_error']}" if n["last_error"] else ""
        click.echo(
            f"  {n['created_at']:%Y-%m-%d %H:%M}  {n['event']:<8} {n['channel']}:{n['recipient']}"
            f"  {n['status']} after {n['attempts']} attempt(s){error}"
        )


@alerts.command("ack")
@click.argument("rule")
@click.argument("scope")
@click.option("--by", required=True, help="Who acknowledges (recorded).")
@TENANT_OPTION
@handle_errors
def alerts_ack(rule: str, scope: str, by: str, tenant: str | None) -> None:
    """Acknowledge a firing alert: it is not re-notified while it keeps firing."""
    from boxoffice.warehouse import alerts as stored

    tenant = _pricing_tenant(tenant)
    try:
        row = stored.acknowledge(tenant=tenant, rule=rule, scope_key=scope, by=by)
    except stored.Refused as exc:
        _fail(str(exc))
    click.echo(f"{rule} {scope}: acknowledged by {row['acknowledged_by']}")


def _until(value: str) -> dt.datetime:
    try:
        until = dt.datetime.fromisoformat(value)
    except ValueError:
        _fail(f"--until: a time like '2026-12-24 18:00' (UTC) or with an offset, got {value!r}", 2)
    until = until if until.tzinfo else until.replace(tzinfo=dt.UTC)
    if until <= dt.datetime.now(dt.UTC):
        _fail(f"--until: {value} is not in the future", 2)
    return until


@alerts.command("silence")
@click.argument("rule")
@click.option("--scope", default=None, help="Only this scope [default: every scope].")
@click.option("--until", "until", required=True, help="'YYYY-MM-DD HH:MM', UTC unless given.")
@click.option("--reason", required=True)
@click.option("--by", required=True)
@TENANT_OPTION
@handle_errors
def alerts_silence(
    rule: str, scope: str | None, until: str, reason: str, by: str, tenant: str | None
) -> None:
    """Silence a rule (or one scope of it): it is evaluated, but notifies nobody until then."""
    from boxoffice.warehouse import alerts as stored

    tenant = _pricing_tenant(tenant)
    _, own, _, _ = _rules_of(tenant)
    _rule(own, rule)
    ends = _until(until)
    stored.add_silence(tenant=tenant, rule=rule, scope_key=scope, until=ends, reason=reason, by=by)
    ends = ends.astimezone(dt.UTC)
    click.echo(f"{rule} {scope or '(every scope)'}: silenced until {ends:%Y-%m-%d %H:%M} UTC")


@alerts.command("test")
@click.argument("rule")
@TENANT_OPTION
@click.option(
    "--history",
    type=click.IntRange(1, 730),
    default=None,
    help="Send nothing: show when the rule would have fired over the last N days.",
)
@click.option("--as-of", "as_of", default=None, help="The last day [default: the newest sale].")
@handle_errors
def alerts_test(rule: str, tenant: str | None, history: int | None, as_of: str | None) -> None:
    """Send a test message through the rule's channels, or with --history N replay it."""
    from boxoffice.alerts import outbox
    from boxoffice.tasks import alerts as task

    tenant = _pricing_tenant(tenant)
    name, own, channels, delivery = _rules_of(tenant)
    found = _rule(own, rule)
    day = _as_of(as_of)
    if history is None:
        try:
            sent = outbox.send_sample((tenant, name), found, channels, delivery, as_of=day)
        except ValueError as exc:
            _fail(str(exc), 2)
        for n in sent.iter_rows(named=True):
            error = f": {n['last_error']}" if n["last_error"] else ""
            click.echo(f"{n['channel']}:{n['recipient']}  {n['status']}{error}")
        if (sent["status"] != "sent").any():
            _fail("not every test message was delivered (they stay queued and are retried)")
        return
    from boxoffice import warehouse

    warehouse.refresh_sales([tenant])
    click.echo(f"replaying {rule} on each of the {history} days to {day} …", err=True)
    try:
        events = task.rule_history(found, tenant=tenant, as_of=day, days=history)
    except ValueError as exc:
        _fail(str(exc), 2)
    fired = events.filter(events["to_state"] == "firing")
    click.echo(
        f"{rule} over the {history} days to {day}: would have fired {fired.height} time(s)"
        f" in {fired['scope_key'].n_unique()} scope(s)"
    )
    for e in events.iter_rows(named=True):
        click.echo(
            f"  {e['as_of']}  {e['scope_key']}  {e['from_state']} → {e['to_state']}"
            f"  {e['explanation']}"
        )


def _as_of(value: str | None) -> dt.date:
    from boxoffice.warehouse.reads import sale_dates

    if value is None:
        newest = sale_dates()[1]
        if newest is None:
            _fail("no sales yet: load data first", 2)
        return newest
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        _fail(f"--as-of: a date like 2026-10-31, got {value!r}", 2)


@alerts.command("evaluate")
@click.option("--as-of", "as_of", default=None, help="The date [default: the newest sale].")
@click.option("--tenant", default=None, help="Only this tenant (UUID) [default: every tenant].")
@handle_errors
def alerts_evaluate(as_of: str | None, tenant: str | None) -> None:
    """Judge the rules now, between runs: states, events, notifications (and retries)."""
    from boxoffice import warehouse
    from boxoffice.pipeline.runner import check
    from boxoffice.tasks import alerts as task

    _rule_set()
    run = check(_as_of(as_of), tenant)
    warehouse.refresh_sales(run.tenants)  # the sales facts up to the minute, as a run does
    summary = task.summary_rows(task.evaluate_rules(run, task.TASK.configure()))
    names = dict(warehouse.list_tenants().rows())
    for row in summary:
        click.echo(
            f"{names[row['tenant']]}: {row['firing']} firing, {row['pending']} pending, "
            f"{row['changes']} change(s), {row['queued']} queued, {row['sent']} sent, "
            f"{row['failed']} failed"
        )


# ---------------------------------------------------------------------------- dashboards
@main.command()
@click.option("--port", type=click.IntRange(1, 65535), default=8866, show_default=True)
@click.option("--tenant", default=None, help="Tenant to show [default: BOXOFFICE_TENANT].")
@click.option(
    "--token",
    default=None,
    envvar="BOXOFFICE_DASHBOARD_TOKEN",
    help="Access token [default: $BOXOFFICE_DASHBOARD_TOKEN, else a new random one].",
)
@click.option("--no-token", is_flag=True, help="Serve without a token (trusted machines only).")
@click.option(
    "--operations",
    is_flag=True,
    help="Serve the operations page (all tenants' ingestion) instead of a tenant's dashboards.",
)
@click.option(
    "--pool-size",
    type=click.IntRange(0, 16),
    default=1,
    show_default=True,
    help="Preheated kernels kept ready.",
)
def dashboards(
    port: int,
    tenant: str | None,
    token: str | None,
    no_token: bool,
    operations: bool,
    pool_size: int,
):
    """Serve dashboards/ with Voila on localhost (token required unless --no-token).

    A server shows one tenant (reader role, row-level security), or with --operations the
    platform's ingestion across tenants, for operators.
    """
    import secrets

    from boxoffice.dashboards import server
    from boxoffice.pipeline.runner import project_dir
    from boxoffice.warehouse.engine import parse_tenant

    tenant = tenant or config.settings().tenant
    if operations:
        if tenant and "--tenant" in sys.argv:
            _fail("--operations shows every tenant: drop --tenant", 2)
        os.environ.pop("BOXOFFICE_TENANT", None)
    elif not tenant:
        _fail("which tenant? pass --tenant ID or set BOXOFFICE_TENANT", 2)
    else:
        try:
            os.environ["BOXOFFICE_TENANT"] = str(parse_tenant(tenant))
        except ValueError as exc:
            _fail(str(exc), 2)
    # resolve the database once, here: kernels then connect straight to it instead of each
    # going through the embedded server's start-up checks and inter-process lock
    from boxoffice.warehouse import engine

    try:
        os.environ["BOXOFFICE_DATABASE_URL"] = engine.libpq_url(engine.owner_url())
    except engine.WarehouseError as exc:
        _fail(str(exc))
    secret = "" if no_token else (token or secrets.token_urlsafe(24))
    page = "operations" if operations else "overview"
    url = f"http://127.0.0.1:{port}/voila/render/{page}.ipynb"
    click.echo(f"dashboards: {url}" + (f"?token={secret}" if secret else ""), err=True)
    if not operations:
        click.echo("            also events.ipynb, customers.ipynb, pricing.ipynb", err=True)
    command = [
        sys.executable,
        "-m",
        "boxoffice.dashboards.server",  # Voila, with its lost-wake-up repair
        str(project_dir() / "dashboards"),
        "--no-browser",
        f"--port={port}",
        "--Voila.ip=127.0.0.1",
        "--preheat_kernel=True",
        f"--pool_size={pool_size}",
        "--MappingKernelManager.cull_interval=60",
        "--MappingKernelManager.cull_idle_timeout=900",
        "--show_tracebacks=False",
        # lab extensions of the workbench that have no business in a dashboard page
        "--VoilaConfiguration.extension_denylist=jupyterlab-jupytext",
        "--VoilaConfiguration.extension_denylist=ploomber-extension",
    ]
    # the token goes by the environment, never on a command line (`ps` shows those); the
    # server takes it out of its environment before any kernel starts
    os.environ[server.TOKEN_ENV] = secret
    os.execv(sys.executable, command)


if __name__ == "__main__":
    main()
