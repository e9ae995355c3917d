"""The parallel executor: independent tasks at once, downstream released as upstream finishes,
a failure aborting only its downstream — on a small Ploomber DAG of Python tasks."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from ploomber import DAG
from ploomber.constants import TaskStatus
from ploomber.exceptions import DAGBuildError
from ploomber.products import File
from ploomber.tasks import PythonCallable

from boxoffice.pipeline.executor import Parallel

RENDEZVOUS_S = 60  # how long a task waits for the other to start before it fails


def meet(product, other: str) -> None:
    """Say this task started, then wait for ``other`` to say so: two tasks only both finish if
    they run at the same time."""
    folder = Path(str(product)).parent
    (folder / f"{Path(str(product)).stem}.started").touch()
    deadline = time.monotonic() + RENDEZVOUS_S
    while not (folder / f"{other}.started").exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{other} never started while this task ran")
        time.sleep(0.05)
    Path(str(product)).write_text("met")


def join(product, upstream) -> None:
    Path(str(product)).write_text("+".join(sorted(upstream)))


def touch(product) -> None:
    Path(str(product)).write_text("done")


def fail(product) -> None:
    raise RuntimeError("this task fails")


def dag_in(folder: Path) -> DAG:
    dag = DAG(executor=Parallel(processes=2))
    a = PythonCallable(meet, File(folder / "a.txt"), dag, name="a", params={"other": "b"})
    b = PythonCallable(meet, File(folder / "b.txt"), dag, name="b", params={"other": "a"})
    c = PythonCallable(join, File(folder / "c.txt"), dag, name="c")
    a >> c
    b >> c
    return dag


def test_independent_tasks_run_at_once_and_their_downstream_after_both(tmp_path):
    report = dag_in(tmp_path).build(show_progress=False)
    assert sorted(report["name"]) == ["a", "b", "c"] and all(report["Ran?"])
    assert (tmp_path / "c.txt").read_text() == "a+b"


def test_a_failure_aborts_its_downstream_and_the_rest_still_runs(tmp_path):
    dag = DAG(executor=Parallel(processes=2))
    broken = PythonCallable(fail, File(tmp_path / "broken.txt"), dag, name="broken")
    after = PythonCallable(join, File(tmp_path / "after.txt"), dag, name="after")
    PythonCallable(touch, File(tmp_path / "other.txt"), dag, name="other")
    broken >> after
    with pytest.raises(DAGBuildError, match="this task fails"):
        dag.build(show_progress=False)
    assert dag["broken"].exec_status == TaskStatus.Errored
    assert dag["after"].exec_status == TaskStatus.Aborted
    assert dag["other"].exec_status == TaskStatus.Executed
    assert (tmp_path / "other.txt").read_text() == "done"
    assert not (tmp_path / "after.txt").exists()
