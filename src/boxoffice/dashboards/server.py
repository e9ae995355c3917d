"""Run Voila with one repair to its kernel messaging: no lost wake-up of a waiting socket.

Why pages hung at "Executing 1 of 2". Voila executes a dashboard's cells from its server
process through a jupyter_client kernel client, whose ZeroMQ sockets pyzmq wraps for
asyncio. A ZeroMQ socket's file descriptor is *edge*-triggered: it signals once when the
socket's state changes, and any ZeroMQ call on the socket (a send, a poll, reading
``EVENTS``) consumes that edge. pyzmq re-checks ``EVENTS`` after its own calls, but on the
server's shell socket an edge is sometimes consumed with no re-check after it: the kernel's
``execute_reply`` then sits in the socket's queue, the event loop's reader never fires
again, and the page waits forever for a cell the kernel finished long ago. Measured with a
two-cell notebook loaded in fresh headless-Chromium contexts one after another: about one
load in fifteen hung so; in every hung server the waiting shell socket reported ``POLLIN``
(a message ready), and reading ``EVENTS`` once through pyzmq made the page finish at once.
The same hang happens with jupyter_client 8, so the edge is lost below it.

The repair makes the wait level-checked: while any pyzmq asyncio socket has a receiver
waiting, its ``EVENTS`` are read again every ``RECHECK_S`` seconds, which hands a queued
message to its waiter within that time. A socket with nobody waiting costs nothing.
"""

from __future__ import annotations

import os
import sys
import weakref

from zmq import _future

RECHECK_S = 0.2
TOKEN_ENV = "BOXOFFICE_DASHBOARD_TOKEN"  # the access token; "" serves without one

_waiting: weakref.WeakSet[_future._AsyncSocket] = weakref.WeakSet()
_scheduled: weakref.WeakSet = weakref.WeakSet()  # the loops that have a re-check pending
_add_recv_event = _future._AsyncSocket._add_recv_event


def _recheck(loop) -> None:
    """Hand every waiting socket's queued messages to its waiters; come back while any wait."""
    _scheduled.discard(loop)
    for socket in list(_waiting):
        if socket.closed or not socket._recv_futures:
            _waiting.discard(socket)
        elif socket._current_loop is loop:
            socket._schedule_remaining_events()  # reads EVENTS; schedules the handler if ready
    if any(s._current_loop is loop for s in _waiting):
        _watch(loop)


def _watch(loop) -> None:
    if loop is not None and not loop.is_closed() and loop not in _scheduled:
        _scheduled.add(loop)
        loop.call_later(RECHECK_S, _recheck, loop)


def _add_recv_event_checked(self, kind, **kwargs):
    future = _add_recv_event(self, kind, **kwargs)
    if not future.done():
        _waiting.add(self)
        _watch(self._current_loop)  # set by the registration above
    return future


def repair() -> None:
    """Install the level check (idempotent)."""
    _future._AsyncSocket._add_recv_event = _add_recv_event_checked


def main() -> None:
    """``python -m boxoffice.dashboards.server VOILA-ARGS…``: Voila's own command line, and
    the token from ``$BOXOFFICE_DASHBOARD_TOKEN``, taken out of the environment (so no kernel
    inherits it) and handed to Voila inside this process (so no command line shows it)."""
    repair()
    token = os.environ.pop(TOKEN_ENV, None)
    if token is not None:
        sys.argv.append(f"--token={token}")
    from voila.app import main as voila

    sys.exit(voila())


if __name__ == "__main__":
    main()
