"""Delivering one notification: e-mail over SMTP, or a webhook's JSON POST. Every failure is a
:class:`DeliveryError` whose message holds no secret (no password, no webhook URL).

**E-mail** goes to the server of the URL in ``BOXOFFICE_SMTP_URL``::

    smtp://USER:PASSWORD@mail.example:587?from=alerts@venue.example

- ``smtp://`` (port 587 unless given) upgrades the connection with STARTTLS, which the server
  must offer, and then logs in when the URL has a user; ``smtps://`` (port 465) is TLS from the
  start. ``starttls=off`` allows a local relay that has no TLS, and only without a login (a
  password is never sent in the clear).
- ``from`` is the sender (default ``boxoffice@`` the server's host); ``cafile`` a file of CA
  certificates to trust besides the system's (a private mail server).

**Webhooks** get ``POST`` with the notification's JSON document (``docs/alerts.md``), or
``{"text": …}`` for a Slack-compatible channel (``format: slack``), at the URL in the
environment variable the channel names. Any answer but 2xx is a failure.

A **report pack** (:mod:`boxoffice.alerts.subscriptions`) carries its files: an e-mail
attaches those its payload lists under ``attach`` (read from the reports directory), and both
an e-mail and a webhook get its ``links`` as URLs under ``BOXOFFICE_REPORTS_URL``, the address
at which the reports directory is served behind the dashboards' login.

Each attempt gives up after ``timeout`` seconds of silence from the server.
"""

from __future__ import annotations

import json
import mimetypes
import os
import smtplib
import socket
import ssl
import urllib.error
import urllib.request
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import parse_qs, quote, unquote, urlsplit

from boxoffice import config
from boxoffice.alerts.rules import Channel

SMTP_ENV = "BOXOFFICE_SMTP_URL"
REPORTS_URL_ENV = "BOXOFFICE_REPORTS_URL"


class DeliveryError(RuntimeError):
    """A notification was not delivered; the message says why, without secrets."""


def deliver(channel: Channel, notification: dict, *, timeout: float) -> None:
    """Deliver ``notification`` (a row of ``analytics.notifications``) through ``channel``."""
    if channel.type == "email":
        send_email(notification, timeout=timeout)
    else:
        post_webhook(channel, notification, timeout=timeout)


def send_email(notification: dict, *, timeout: float) -> None:
    url = os.environ.get(SMTP_ENV, "")
    if not url:
        raise DeliveryError(f"{SMTP_ENV} is not set: no mail server to send through")
    parts = urlsplit(url)
    secrets = [s for s in (parts.password, unquote(parts.password or "")) if s]
    try:
        _send_email(parts, notification, timeout)
    except DeliveryError:
        raise
    except (smtplib.SMTPException, OSError, ssl.SSLError, ValueError) as exc:
        raise DeliveryError(_redacted(f"mail server: {_why(exc, timeout)}", secrets)) from None


def _send_email(parts, notification: dict, timeout: float) -> None:
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise DeliveryError(f"{SMTP_ENV}: smtp://… or smtps://… with a host")
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    if unknown := sorted(set(query) - {"from", "cafile", "starttls"}):
        raise DeliveryError(f"{SMTP_ENV}: unknown parameter {unknown[0]} (from, cafile, starttls)")
    starttls = query.get("starttls", "on")
    if starttls not in ("on", "off"):
        raise DeliveryError(f"{SMTP_ENV}: starttls is on or off, got {starttls!r}")
    login = parts.username is not None
    if parts.scheme == "smtp" and starttls == "off" and login:
        raise DeliveryError(f"{SMTP_ENV}: a login needs TLS (starttls=off sends it in the clear)")
    context = ssl.create_default_context(cafile=query.get("cafile"))
    message = EmailMessage()
    message["Subject"] = notification["subject"]
    message["From"] = query.get("from", f"boxoffice@{parts.hostname}")
    message["To"] = notification["recipient"]
    message["Message-ID"] = f"<notification-{notification['notification_id']}@boxoffice>"
    links = links_of(notification)
    message.set_content(notification["body"] + "".join(f"{u}\n" for u in links.values()))
    for path in attachments_of(notification):
        kind = (mimetypes.guess_type(path.name)[0] or "application/octet-stream").split("/")
        message.add_attachment(
            path.read_bytes(), maintype=kind[0], subtype=kind[1], filename=path.name
        )
    if parts.scheme == "smtps":
        server = smtplib.SMTP_SSL(
            parts.hostname, parts.port or 465, timeout=timeout, context=context
        )
    else:
        server = smtplib.SMTP(parts.hostname, parts.port or 587, timeout=timeout)
    with server:
        if parts.scheme == "smtp" and starttls == "on":
            server.ehlo()
            if not server.has_extn("starttls"):
                raise DeliveryError("mail server: it does not offer STARTTLS (starttls=off?)")
            server.starttls(context=context)
            server.ehlo()
        if login:
            server.login(unquote(parts.username), unquote(parts.password or ""))
        server.send_message(message)


def post_webhook(channel: Channel, notification: dict, *, timeout: float) -> None:
    url = os.environ.get(channel.url_env or "", "")
    if not url:
        raise DeliveryError(f"{channel.url_env} is not set: no URL for channel {channel.name}")
    if urlsplit(url).scheme not in ("http", "https"):
        raise DeliveryError(f"{channel.url_env}: an http:// or https:// URL")
    # the id lets a receiver drop a message it got twice (an answer lost after it arrived)
    payload = {**notification["payload"], "notification_id": notification["notification_id"]}
    if payload.get("kind") == "report-pack":  # a webhook gets every file as a link
        payload["links"] = links_of(notification, "files")
        for internal in ("files", "attach"):
            payload.pop(internal, None)
    if channel.format == "slack":
        lines = "".join(f"\n{u}" for u in payload.get("links", {}).values())
        payload = {"text": f"*{notification['subject']}*\n{notification['body']}{lines}"}
    request = urllib.request.Request(
        url,
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json", "User-Agent": "boxoffice-alerts"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            answer.read()
    except urllib.error.HTTPError as exc:
        raise DeliveryError(f"webhook {channel.name}: HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        why = _why(getattr(exc, "reason", exc), timeout)
        raise DeliveryError(_redacted(f"webhook {channel.name}: {why}", [url])) from None


def links_of(notification: dict, which: str = "links") -> dict[str, str]:
    """A report pack's ``links`` (or all its ``files``: format → path under the reports root)
    as URLs under ``BOXOFFICE_REPORTS_URL``; none for any other notification."""
    links = notification["payload"].get(which) or {}
    if not links:
        return {}
    base = os.environ.get(REPORTS_URL_ENV, "").strip()
    if not base:
        raise DeliveryError(f"{REPORTS_URL_ENV} is not set: no address for the pack's links")
    return {f: f"{base.rstrip('/')}/{quote(path)}" for f, path in links.items()}


def attachments_of(notification: dict) -> list[Path]:
    """The files a report pack's e-mail attaches, in the reports directory."""
    root = config.settings().reports_dir
    paths = [root / p for p in notification["payload"].get("attach") or ()]
    if gone := [p for p in paths if not p.is_file()]:
        raise DeliveryError(f"{gone[0].relative_to(root)}: the pack's file is gone (pruned?)")
    return paths


def _why(exc: object, timeout: float) -> str:
    if isinstance(exc, socket.timeout | TimeoutError):
        return f"no answer within {timeout:g} s"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return f"login refused ({exc.smtp_code})"
    return str(exc) or type(exc).__name__


def _redacted(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, "…")
    return text
