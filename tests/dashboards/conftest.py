"""Shared by the browser tests: a `boxoffice dashboards` server on a free port, and Chromium."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TOKEN = "test-token-123"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def status(url: str) -> int:
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args):
            return None

    try:
        return urllib.request.build_opener(NoRedirect).open(url, timeout=5).status
    except urllib.error.HTTPError as exc:
        return exc.code


@contextmanager
def serve(database_url: str, tmp_path_factory, *args: str):
    """Run `boxoffice dashboards ARGS` against ``database_url``; yield its base URL."""
    port = free_port()
    env = {
        **os.environ,
        "BOXOFFICE_DATABASE_URL": database_url,
        "BOXOFFICE_HOME": str(tmp_path_factory.mktemp("home")),
    }
    env.pop("BOXOFFICE_TENANT", None)
    command = [sys.executable, "-m", "boxoffice.cli", "dashboards", "--port", str(port)]
    command += [*args, "--token", TOKEN]
    log = (tmp_path_factory.mktemp("voila") / "voila.log").open("w")
    proc = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if status(f"{base}/?token={TOKEN}") == 200:  # no kernel used
                break
        except OSError:
            time.sleep(0.3)
    else:
        proc.kill()
        pytest.fail(f"voila did not come up: {Path(log.name).read_text()[-2000:]}")
    try:
        yield base
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.fixture(scope="session")
def browser():
    assert Path(CHROMIUM).exists(), "Debian chromium is missing: apt-get install chromium"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()
