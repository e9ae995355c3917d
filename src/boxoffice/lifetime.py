"""Worker processes that die with the process that started them.

A pool worker waiting for work waits forever when its parent is killed (every worker holds the
task queue open), and a notebook kernel lives as long as its own parent: a killed run would
leave them computing and writing. :func:`exit_with_parent` is the pools' initializer.
"""

from __future__ import annotations

import os
import threading
import time


def exit_with_parent(parent: int, interval: float = 0.5) -> None:
    """Make this process exit once ``parent`` is no longer its parent (it was killed)."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(interval)
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()
