"""A Ploomber executor that builds independent tasks at once (``pipeline.yaml``'s
``executor``).

Ploomber's own ``Parallel`` polls its task list in a loop that keeps a core busy for the
whole build (on two cores: half the machine) and clears the terminal. This one does what it
does — each task built by ``Task._build`` in a process of a pool, a task's downstream released
by setting its status in this process — but sleeps until a task finishes. Processes are
spawned, not forked (the runner holds threads and the run lock's connection), and exit when
the runner is killed: so does the notebook kernel each has started.
"""

from __future__ import annotations

import os
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from multiprocessing import get_context

from ploomber.constants import TaskStatus
from ploomber.exceptions import DAGBuildError
from ploomber.executors.abc import Executor
from ploomber.executors.parallel import TaskBuildWrapper
from ploomber.messagecollector import BuildExceptionsCollector, Message
from tqdm.auto import tqdm

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
        bar = tqdm(total=len(todo), desc="tasks") if show_progress else None
        reports, failures, running, started = [], [], {}, set()
        with ProcessPoolExecutor(
            self.processes,
            mp_context=get_context("spawn"),
            initializer=exit_with_parent,  # and its kernel with it: a killed run stops
            initargs=(os.getpid(),),
        ) as pool:
            while True:
                for task in dag.values():
                    if task.exec_status in READY and task.name not in started:
                        started.add(task.name)
                        future = pool.submit(TaskBuildWrapper(task), catch_exceptions=True)
                        running[future] = task
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
                    if bar is not None:
                        bar.set_postfix_str(f"{task.name} {'failed' if failed else 'done'}")
                        bar.update()
        if bar is not None:
            bar.close()
        if failures:
            raise DAGBuildError(str(BuildExceptionsCollector(failures)))
        return reports
