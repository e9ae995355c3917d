"""Logging of the command line: plain messages, or with ``--log-format json`` (or
``BOXOFFICE_LOG_FORMAT=json``) one JSON object per line on stderr — ``time``, ``level``,
``logger``, ``message``, ``run_id`` and ``tenant`` (``null`` outside a run or a tenant).

Whoever knows the run or the tenant at hand binds it for the records logged meanwhile::

    with logs.bind(run_id=run_id):
        ...

A tenant-scoped connection (``warehouse.connect(role, tenant=...)``) binds its tenant. The
values live in context variables: threads started meanwhile do not inherit them.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

# what a long command is doing, shown at the CLI's default level (warnings) too: its records
# reach the stderr handler whatever the root logger's level
progress = logging.getLogger("boxoffice.progress")
progress.setLevel(logging.INFO)

_run_id: ContextVar[str | None] = ContextVar("boxoffice_run_id", default=None)
_tenant: ContextVar[str | None] = ContextVar("boxoffice_tenant", default=None)
_UNCHANGED = object()


@contextmanager
def bind(*, run_id: object = _UNCHANGED, tenant: object = _UNCHANGED) -> Iterator[None]:
    """Tag the records logged inside with ``run_id`` and/or ``tenant`` (``None`` clears one; a
    value not given keeps the enclosing one); the previous values come back on exit."""
    tokens = [
        (var, var.set(None if value is None else str(value)))
        for var, value in ((_run_id, run_id), (_tenant, tenant))
        if value is not _UNCHANGED
    ]
    try:
        yield
    finally:
        for var, token in reversed(tokens):
            var.reset(token)


class JsonFormatter(logging.Formatter):
    """One JSON object per record, with the bound run id and tenant."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "run_id": _run_id.get(),
            "tenant": _tenant.get(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class _Stderr(logging.StreamHandler):
    """Writes to the ``sys.stderr`` of the moment (a test runner swaps it per command)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass


def configure(log_format: str, level: int) -> None:
    """Log at ``level`` to stderr as ``text`` or ``json``, replacing an earlier call's handler."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, _Stderr)]:
        root.removeHandler(handler)
    handler = _Stderr()
    text = logging.Formatter("%(message)s")
    handler.setFormatter(JsonFormatter() if log_format == "json" else text)
    root.addHandler(handler)
    root.setLevel(level)
