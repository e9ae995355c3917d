"""A Ploomber executor that builds independent tasks at once (``pipeline.yaml``'s
``executor``).

Ploomber's own ``Parallel`` polls its task list in a loop that keeps a core busy for the
whole build (on two cores: half the machine) and clears the terminal. This one does what it
does — each task built by ``Task._build`` in a process of a pool, a task's downstream released
by setting its status in this process — but sleeps until a task finishes, starts a task only
when a process is free (the one with most tasks downstream first), and says when each starts
and ends.

The pool's processes are forked, so they start with Ploomber and papermill already loaded
(spawning them cost seconds each). That is safe here: a worker only builds its notebook in a
kernel of its own (a new program, which inherits no connection), the runner's other thread
waits on an event when the pool forks (Python forks every pool process at once, before the
pool's own thread starts), and a worker ends with ``os._exit``, so the run lock's connection
it inherited is never closed from it. Workers exit when the runner is killed, and so do their
kernels.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from multiprocessing import get_context

from ploomber.constants import TaskStatus
from ploomber.exceptions import DAGBuildError
from ploomber.executors.abc import Executor
from ploomber.executors.parallel import TaskBuildWrapper
from ploomber.messagecollector import BuildExceptionsCollector, Message

from boxoffice import logs
from boxoffice.lifetime import exit_with_parent

READY = (TaskStatus.WaitingExecution, TaskStatus.WaitingDownload)


class Parallel(Executor):
    """Build up to ``processes`` tasks at once (default: one per core), each as soon as its
    upstream is done; a failed task aborts its downstream and the others go on, and the build
    then raises one :class:`~ploomber.exceptions.DAGBuildError` naming every failure."""

    def __init__(self, processes: int | None = None) -> None:
        self.processes = processes or os.cpu_count() or 1

    def __call__(self, dag, show_progress: bool) -> list:
        super().__call__(dag)
        todo = [t for t in dag.values() if t.exec_status != TaskStatus.Skipped]
        below = {t.name: len(_downstream(dag, t.name)) for t in todo}
        reports, failures, running, started = [], [], {}, {}
        with ProcessPoolExecutor(
            self.processes,
            mp_context=get_context("fork"),
            initializer=exit_with_parent,  # and its kernel with it: a killed run stops
            initargs=(os.getpid(),),
        ) as pool:
            while True:
                ready = [t for t in todo if t.exec_status in READY and t.name not in started]
                for task in sorted(ready, key=lambda t: -below[t.name]):
                    if len(running) == self.processes:
                        break
                    started[task.name] = time.perf_counter()
                    future = pool.submit(TaskBuildWrapper(task), catch_exceptions=True)
                    running[future] = task
                    if show_progress:
                        _say(f"{task.name} started")
                if not running:
                    break
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    task, result = running.pop(future), future.result()
                    failed = isinstance(result, Message)
                    if failed:
                        failures.append(result)
                        task.exec_status = TaskStatus.Errored  # aborts its downstream
                    else:
                        report, metadata = result
                        task.product.metadata.update_locally(metadata)
                        task.exec_status = TaskStatus.Executed  # releases its downstream
                        reports.append(report)
                    if show_progress:
                        seconds = time.perf_counter() - started[task.name]
                        done = len(reports) + len(failures)
                        outcome = "FAILED" if failed else "done"
                        _say(f"{task.name} {outcome} in {seconds:.1f} s ({done}/{len(todo)})")
        if failures:
            raise DAGBuildError(str(BuildExceptionsCollector(failures)))
        return reports


def _downstream(dag, name: str) -> set[str]:
    """Every task that depends on ``name``, directly or not."""
    found, todo = set(), [name]
    while todo:
        current = todo.pop()
        for task in dag.values():
            if current in task.upstream and task.name not in found:
                found.add(task.name)
                todo.append(task.name)
    return found


def _say(line: str) -> None:
    logs.progress.info("[%s] %s", time.strftime("%H:%M:%S"), line)
