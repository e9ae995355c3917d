"""Benchmark: the whole pipeline, this checkout against an earlier commit, same world, same run.

One synthetic world is built once (``boxoffice synth``) into a template database; each version
then gets its own copy of it (``create database … template``) and of the landing folder, and
runs, as a user would right after the synth:

* ``boxoffice run --as-of 2026-10-31 --force``, ``--repeat`` times (median), each on a fresh
  copy, so that every one runs right after the synth (a rebuild of a date already built also
  pays for the dead rows of the facts it replaces, until autovacuum has been);
* the no-op rerun of the finished date (``boxoffice run --as-of 2026-10-31``), ``--repeat``
  times;

timing each process's wall time and sampling, every 0.2 s, the resident memory of the runner
itself, of its largest descendant (a notebook kernel or a forecast worker) and of PostgreSQL
(the proportional set size of all its processes, so shared buffers count once). Both
versions run from ``git worktree``s (``--baseline`` and ``HEAD``) with this virtualenv, the
worktree's package first on ``PYTHONPATH``.

    .venv/bin/python -m bench.pipeline --scale medium [--baseline cbe784b] [--repeat 3]
    .venv/bin/python -m bench.pipeline --scale large --repeat 1
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from bench._server import fresh_database, server
from boxoffice.warehouse import engine

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).parent / "results"
AS_OF = "2026-10-31"
BASELINE = "cbe784b"  # main before the task layer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", default="medium", choices=["small", "medium", "large"])
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--baseline", default=BASELINE, help="the commit to compare against")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", choices=["baseline", "this"], help="run one version only")
    args = parser.parse_args()

    results = {}
    with tempfile.TemporaryDirectory(prefix="bx-bench-pipeline-") as tmp, server() as url:
        tmp = Path(tmp)
        # both versions from worktrees: what is measured is a commit, not files being edited
        commits = {"baseline": args.baseline, "this": "HEAD"}
        if args.only:
            commits = {args.only: commits[args.only]}
        projects = {name: _worktree(commit, tmp / name) for name, commit in commits.items()}
        try:
            # the world is built by the oldest version; each upgrades its own copy
            world = fresh_database(url, "world")
            home = tmp / "world-home"
            builder = _env(world, home, next(iter(projects.values())))
            started = time.perf_counter()
            _cli(["db", "upgrade"], builder)
            _cli(["synth", "--scale", args.scale, "--seed", str(args.seed)], builder)
            print(f"synth --scale {args.scale}: {time.perf_counter() - started:.0f} s", flush=True)
            _disconnect(world)
            for name, project in projects.items():
                results[name] = _measure(name, project, url, world, home, tmp, args.repeat)
                results[name]["commit"] = _git("rev-parse", "--short", commits[name])
                print(json.dumps({name: results[name]}, indent=2), flush=True)
        finally:
            for project in projects.values():
                subprocess.run(["git", "worktree", "remove", "--force", str(project)], cwd=ROOT)

    out = {
        "benchmark": "pipeline",
        "scale": args.scale,
        "seed": args.seed,
        "baseline": args.baseline,
        "date": dt.date.today().isoformat(),
        "cpus": os.cpu_count(),
        "results": results,
    }
    if {"baseline", "this"} <= results.keys():
        b, t = results["baseline"], results["this"]
        out["ratios"] = {
            "forced run, this / baseline": round(t["forced_s"] / b["forced_s"], 3),
            "no-op rerun, this / baseline": round(t["noop_s"] / b["noop_s"], 3),
        }
    RESULTS.mkdir(exist_ok=True)
    target = RESULTS / f"pipeline_{args.scale}.json"
    target.write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out.get("ratios", {}), indent=2))
    print(f"wrote {target}")


def _measure(name, project: Path, url: str, world: str, home: Path, tmp: Path, repeat: int):
    forced = []
    for _ in range(repeat):  # each forced run right after the synth: on a fresh copy of it
        env, own_home = _fresh_copy(name, project, url, home, tmp)
        forced.append(_timed(["run", "--as-of", AS_OF, "--force"], env))
    noop = [_timed(["run", "--as-of", AS_OF], env) for _ in range(repeat)]
    reports = own_home / "reports" / AS_OF
    size = sum(p.stat().st_size for p in reports.rglob("*") if p.is_file())
    tenants = len(json.loads((reports / "manifest.json").read_text())["tenants"])
    return {
        "project": str(project),
        "forced_s": statistics.median(r["seconds"] for r in forced),
        "forced_runs_s": [r["seconds"] for r in forced],
        "noop_s": statistics.median(r["seconds"] for r in noop),
        "noop_runs_s": [r["seconds"] for r in noop],
        "peak_rss_mib": {
            key: max(r["peak_mib"][key] for r in forced)
            for key in ("runner", "largest_descendant", "postgres_pss", "sum")
        },
        "reports_mib_per_tenant": round(size / tenants / 2**20, 2),
        "tenants": tenants,
        "built_line": forced[0]["built"],
    }


def _fresh_copy(name, project: Path, url: str, home: Path, tmp: Path):
    """A copy of the synthesised world (database and home) for ``name``, upgraded by its
    version: the environment to run it and the home."""
    database = f"run_{name}"
    with psycopg.connect(engine.libpq_url(make_url(url)), autocommit=True) as conn:
        conn.execute(f'drop database if exists "{database}" with (force)')
        # copied as files, not through the WAL, and checkpointed: no run pays for the copy
        conn.execute(f'create database "{database}" template world strategy file_copy')
        conn.execute("checkpoint")
    target = make_url(url).set(database=database).render_as_string(hide_password=False)
    own_home = tmp / f"{name}-home"
    shutil.rmtree(own_home, ignore_errors=True)
    shutil.copytree(home, own_home)
    env = _env(target, own_home, project)
    _cli(["db", "upgrade"], env)  # the version's own migrations over the world's
    return env, own_home


def _env(url: str, home: Path, project: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "BOXOFFICE_DATABASE_URL": url,
        "BOXOFFICE_HOME": str(home),
        "BOXOFFICE_LANDING_DIR": str(home / "landing"),
        "BOXOFFICE_REPORTS_DIR": str(home / "reports"),
        "BOXOFFICE_PROJECT_DIR": str(project),
    }
    if project != ROOT:  # the worktree's package before the editable install's
        env["PYTHONPATH"] = str(project / "src")
    return env


def _cli(args: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "boxoffice.cli", *args], env=env, capture_output=True, text=True
    )
    if done.returncode:
        raise SystemExit(f"boxoffice {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return done.stdout + done.stderr


def _timed(args: list[str], env: dict[str, str]) -> dict:
    sampler = _Sampler()
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "boxoffice.cli", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    sampler.start(proc.pid)
    output = proc.communicate()[0]
    seconds = time.perf_counter() - started
    sampler.stop()
    if proc.returncode:
        raise SystemExit(f"boxoffice {' '.join(args)} failed:\n{output[-3000:]}")
    built = next((line for line in output.splitlines() if "built" in line), "")
    print(f"  {' '.join(args)}: {seconds:.1f} s  {built.strip()}", flush=True)
    return {"seconds": round(seconds, 2), "peak_mib": sampler.peak, "built": built.strip()}


class _Sampler:
    """Peak resident memory of a process, of its largest descendant and of PostgreSQL."""

    def __init__(self) -> None:
        self.peak = {"runner": 0, "largest_descendant": 0, "postgres_pss": 0, "sum": 0}
        self._done = threading.Event()

    def start(self, pid: int) -> None:
        self._thread = threading.Thread(target=self._run, args=(pid,), daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._done.set()
        self._thread.join()

    def _run(self, pid: int) -> None:
        while not self._done.wait(0.2):
            procs = _processes()
            tree = _descendants(pid, procs)
            runner = _rss_mib(pid)
            largest = max((_rss_mib(p) for p in tree), default=0)
            pg = sum(_pss_mib(p) for p, (_, name) in procs.items() if name == "postgres")
            for key, value in (("runner", runner), ("largest_descendant", largest),
                               ("postgres_pss", pg), ("sum", runner + largest + pg)):  # fmt: skip
                self.peak[key] = max(self.peak[key], value)


def _processes() -> dict[int, tuple[int, str]]:
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            name = stat[stat.index("(") + 1 : stat.rindex(")")]
            found[int(entry.name)] = (int(stat[stat.rindex(")") + 2 :].split()[1]), name)
    return found


def _descendants(pid: int, procs: dict[int, tuple[int, str]]) -> list[int]:
    children: dict[int, list[int]] = {}
    for child, (parent, _) in procs.items():
        children.setdefault(parent, []).append(child)
    out, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def _rss_mib(pid: int) -> int:
    return _kib(f"/proc/{pid}/status", "VmRSS:") // 1024


def _pss_mib(pid: int) -> int:
    return _kib(f"/proc/{pid}/smaps_rollup", "Pss:") // 1024


def _kib(path: str, key: str) -> int:
    """The kB figure of the line starting with ``key`` in ``path`` (0 once the process is
    gone)."""
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(key):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _disconnect(url: str) -> None:
    """End every session of the template database (``create database … template`` needs it
    idle)."""
    name = make_url(url).database
    with psycopg.connect(engine.libpq_url(make_url(url).set(database="postgres"))) as conn:
        conn.execute(
            "select pg_terminate_backend(pid) from pg_stat_activity where datname = %s", [name]
        )


def _git(*args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout.strip()


def _worktree(commit: str, path: Path) -> Path:
    subprocess.run(
        ["git", "worktree", "add", "--detach", str(path), commit],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    return path


if __name__ == "__main__":
    main()
