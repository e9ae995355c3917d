"""The dashboards server's repair of a lost ZeroMQ wake-up (boxoffice.dashboards.server).

The lost edge is made on purpose: a message reaches a socket that a coroutine waits on, and
a ZeroMQ call outside pyzmq's bookkeeping (``EVENTS`` read through a raw shadow of the same
socket) consumes the file descriptor's edge before the event loop sees it. That is the state
the hung Voila servers were found in: the reply queued, ``POLLIN`` set, the reader silent.
"""

import asyncio
import threading
import time

import pytest
import zmq
import zmq.asyncio
from zmq import _future

from boxoffice.dashboards import server


def _run(coroutine):
    """``asyncio.run`` in a thread of its own: the browser tests' playwright keeps an event
    loop running in this one for the whole session."""
    result = {}

    def target():
        try:
            result["value"] = asyncio.run(coroutine)
        except BaseException as exc:
            result["error"] = exc

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if "error" in result:
        raise result["error"]
    return result["value"]


async def _receive_after_a_lost_edge(wait_s: float) -> list[bytes] | None:
    context = zmq.asyncio.Context()
    waiting = context.socket(zmq.PAIR)
    peer = context.socket(zmq.PAIR)
    try:
        waiting.bind("inproc://lost-edge")
        peer.connect("inproc://lost-edge")
        received = asyncio.ensure_future(waiting.recv_multipart())
        await asyncio.sleep(0.05)  # the receiver is registered and waits on the descriptor
        await peer.send_multipart([b"execute_reply"])
        time.sleep(0.05)  # the message is queued; the loop has not run since
        raw = zmq.Socket.shadow(waiting.underlying)
        assert raw.get(zmq.EVENTS) & zmq.POLLIN  # consumes the edge: nothing will signal again
        try:
            return await asyncio.wait_for(received, wait_s)
        except TimeoutError:
            return None
    finally:
        waiting.close(linger=0)
        peer.close(linger=0)
        context.term()


def test_without_the_repair_a_consumed_edge_loses_the_wake_up(monkeypatch):
    monkeypatch.setattr(_future._AsyncSocket, "_add_recv_event", server._add_recv_event)
    assert _run(_receive_after_a_lost_edge(wait_s=2.0)) is None


def test_with_the_repair_the_queued_message_reaches_its_waiter(monkeypatch):
    monkeypatch.setattr(_future._AsyncSocket, "_add_recv_event", server._add_recv_event)
    server.repair()
    assert _run(_receive_after_a_lost_edge(wait_s=2.0)) == [b"execute_reply"]


@pytest.mark.parametrize("messages", [1, 3])
def test_the_repair_delivers_every_message_once_in_order(monkeypatch, messages):
    monkeypatch.setattr(_future._AsyncSocket, "_add_recv_event", server._add_recv_event)
    server.repair()

    async def exchange() -> list[bytes]:
        context = zmq.asyncio.Context()
        a, b = context.socket(zmq.PAIR), context.socket(zmq.PAIR)
        try:
            a.bind("inproc://order")
            b.connect("inproc://order")
            for n in range(messages):
                await b.send(str(n).encode())
            return [await asyncio.wait_for(a.recv(), 2.0) for _ in range(messages)]
        finally:
            a.close(linger=0)
            b.close(linger=0)
            context.term()

    assert _run(exchange()) == [str(n).encode() for n in range(messages)]
