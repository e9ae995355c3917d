"""Benchmark: how often a Voila page never finishes rendering, plain Voila against Voila with
``boxoffice.dashboards.server``'s lost-wake-up repair, in the same run.

Each server serves five copies of a two-cell notebook (preheated kernels, pool of one per
notebook, as ``boxoffice dashboards`` serves): the first cell imports and waits for the viewer's
request (``voila.utils.wait_for_request``), the second shows a plotly figure in an ipywidgets
``Output``. Pages are loaded one after another, each in a new headless-Chromium context, and a
page counts as hung when no chart appears within ``--wait`` seconds; a hung page is then given
another ``--wait`` seconds to tell a slow render (it finishes) from a hang (it never does).
The first load of each server is reported apart: its kernels are still starting.

    .venv/bin/python -m bench.voila_hang [--loads 40] [--wait 30]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from playwright.sync_api import sync_playwright

from tests.dashboards.conftest import ARGS, CHROMIUM, free_port, status

CELLS = [
    "from voila.utils import wait_for_request\nimport ipywidgets as w\n"
    "import plotly.graph_objects as go\nwait_for_request()",
    "out = w.Output()\nwith out:\n    display(go.Figure(go.Bar(y=[1, 2, 3])))\nw.VBox([out])",
]
NOTEBOOKS = "abcde"


def _notebooks(folder: Path) -> None:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
    nb.metadata.kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    for name in NOTEBOOKS:
        nbformat.write(nb, folder / f"{name}.ipynb")


def _serve(module: str, folder: Path, port: int, log: Path) -> subprocess.Popen:
    command = [sys.executable, "-m", module, str(folder), "--no-browser", f"--port={port}"]
    command += ["--Voila.ip=127.0.0.1", "--token=bench", "--preheat_kernel=True", "--pool_size=1"]
    proc = subprocess.Popen(command, stdout=log.open("w"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if status(f"http://127.0.0.1:{port}/?token=bench") == 200:
                return proc
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise SystemExit(f"{module} did not come up: {log.read_text()[-2000:]}")


def run(module: str, loads: int, wait_s: float, browser, folder: Path) -> dict:
    port = free_port()
    proc = _serve(module, folder, port, folder / f"{module}.log")
    seconds, hung, slow, first = [], 0, 0, None
    try:
        for i in range(loads):
            context = browser.new_context()
            page = context.new_page()
            started = time.perf_counter()
            url = f"http://127.0.0.1:{port}/voila/render/{NOTEBOOKS[i % 5]}.ipynb?token=bench"
            page.goto(url, wait_until="commit")
            try:
                page.wait_for_selector(".js-plotly-plot", timeout=wait_s * 1000)
                rendered = True
            except Exception:
                rendered = False
            if not rendered:
                try:
                    page.wait_for_selector(".js-plotly-plot", timeout=wait_s * 1000)
                    slow += i > 0
                except Exception:
                    hung += i > 0
            elapsed = time.perf_counter() - started
            if i == 0:
                first = round(elapsed, 1)
            elif rendered:
                seconds.append(elapsed)
            context.close()
            print(f"{module}: load {i + 1}/{loads}: {'ok' if rendered else 'HUNG'}", flush=True)
    finally:
        proc.terminate()
        proc.wait(20)
    return {
        "server": module,
        "loads_after_the_first": loads - 1,
        "hung": hung,
        "slower_than_wait_but_finished": slow,
        "median_render_s": round(statistics.median(seconds), 1) if seconds else None,
        "first_load_s": first,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loads", type=int, default=40)
    parser.add_argument("--wait", type=float, default=30.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        folder = Path(tmp)
        _notebooks(folder)
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        results = [
            run(module, args.loads, args.wait, browser, folder)
            for module in ("voila", "boxoffice.dashboards.server")
        ]
    out = Path(__file__).parent / "results" / "voila_hang.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
