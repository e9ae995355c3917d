"""Real servers for the notification tests, on 127.0.0.1: a mail server (aiosmtpd) that
requires STARTTLS and a login, with a certificate from a throwaway CA (trustme), and an HTTP
server that records what is posted and answers as told (``ok``, ``fail``: HTTP 500, ``slow``:
answers after ``delay`` seconds)."""

from __future__ import annotations

import json
import socket
import ssl
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

USER, PASSWORD = "alerts", "pa55-w0rd!"


@dataclass
class Mailbox:
    messages: list = field(default_factory=list)  # (envelope sender, recipients, message, tls)

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.original_content, policy=policy.default)
        self.messages.append(
            (envelope.mail_from, list(envelope.rcpt_tos), message, session.ssl is not None)
        )
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _authenticator(server, session, envelope, mechanism, data):
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
        USER.encode(),
        PASSWORD.encode(),
    )
    return AuthResult(success=ok, handled=False)  # a refusal answers 535


@contextmanager
def mail_server(tmp_path):
    """Yields ``(url, mailbox)``: ``url`` is the ``BOXOFFICE_SMTP_URL`` to reach it."""
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(server_context)
    cafile = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(cafile))
    mailbox = Mailbox()
    port = _free_port()
    controller = Controller(
        mailbox,
        hostname="127.0.0.1",
        port=port,
        tls_context=server_context,
        require_starttls=True,
        auth_required=True,
        authenticator=_authenticator,
    )
    controller.start()
    try:
        url = f"smtp://{USER}:pa55-w0rd%21@127.0.0.1:{port}?cafile={cafile}&from=alerts@boxoffice.test"
        yield url, mailbox
    finally:
        controller.stop()


class Hooks:
    """What the HTTP server got (``posts``: (path, JSON)), and how it answers (``mode``); a
    slow answer comes after the client gave up, so its post is only ``late``."""

    def __init__(self) -> None:
        self.posts: list[tuple[str, object]] = []
        self.late: list[tuple[str, object]] = []
        self.mode = "ok"
        self.delay = 2.0


@contextmanager
def http_server():
    """Yields ``(base_url, hooks)``."""
    hooks = Hooks()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if hooks.mode == "slow":
                hooks.late.append((self.path, json.loads(body)))
                time.sleep(hooks.delay)
                return
            if hooks.mode == "fail":
                self.send_response(500)
                self.end_headers()
                return
            hooks.posts.append((self.path, json.loads(body)))
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", hooks
    finally:
        server.shutdown()
        server.server_close()


def closed_port() -> int:
    """A port nothing listens on: a server that is down."""
    return _free_port()
