"""A run's artifacts in ``reports/<as_of>/``: each executed notebook as HTML (inputs hidden,
charts interactive, drawn by one plotly.js at the reports root), an ``index.html`` linking the
tenants' folders and the notebooks, and ``manifest.json``; and :func:`scrub`, which erases a
customer from them."""

from __future__ import annotations

import html
import io
import json
import os
import re
import zipfile
from pathlib import Path

import nbformat
import plotly.io as pio
from nbconvert import HTMLExporter
from plotly.offline import get_plotlyjs, get_plotlyjs_version

PLOTLY_MIME = "application/vnd.plotly.v1+json"
PACK_FILES = (("report.pdf", "PDF"), ("report.xlsx", "workbook"), ("report.html", "page"))
PLOTLY_JS = f"plotly-{get_plotlyjs_version()}.min.js"


def export_html(notebook: Path, *, reports_root: Path) -> Path:
    """Write ``notebook`` as a sibling ``.html`` without code cells or prompts. The notebook
    keeps plotly's JSON only; in the page each figure is a ``div`` drawn by the reports root's
    plotly.js (:func:`write_plotly_js`), not a copy embedded in every file."""
    exporter = HTMLExporter(
        exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True
    )
    nb = nbformat.read(notebook, as_version=4)
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            if PLOTLY_MIME in output.get("data", {}):
                output["data"] = {"text/html": figure_html(output["data"][PLOTLY_MIME])}
    body, _ = exporter.from_notebook_node(nb)
    body = body.replace("<head>", f"<head>\n{plotly_script(notebook.parent, reports_root)}", 1)
    target = notebook.with_suffix(".html")
    write_atomically(target, body)
    return target


def figure_html(figure) -> str:
    """A figure (a plotly ``Figure`` or its JSON, as a notebook stores it) as a ``div`` drawn by
    the page's plotly.js."""
    return pio.to_html(
        figure, include_plotlyjs=False, full_html=False, validate=False,
        config={"responsive": True},
    )  # fmt: skip


def plotly_script(page_dir: Path, reports_root: Path) -> str:
    """The ``<script>`` tag loading the reports root's plotly.js from a page in ``page_dir``."""
    src = Path(os.path.relpath(write_plotly_js(reports_root), page_dir)).as_posix()
    return f'<script src="{html.escape(src)}"></script>'


def write_plotly_js(reports_root: Path) -> Path:
    """``plotly-<version>.min.js`` in ``reports_root``, written once: every page below the root
    loads it (4.8 MB) instead of embedding its own copy."""
    target = reports_root / PLOTLY_JS
    if not target.exists():
        reports_root.mkdir(parents=True, exist_ok=True)
        write_atomically(target, get_plotlyjs())
    return target


def write_manifest(directory: Path, manifest: dict) -> Path:
    target = directory / "manifest.json"
    write_atomically(target, json.dumps(manifest, indent=2, default=str) + "\n")
    return target


def write_index(directory: Path, manifest: dict) -> Path:
    """A small page linking each tenant's folder and its pack's files, and the run's task
    notebooks (with each task's status and duration)."""
    rows = "\n".join(
        f"<tr><td><a href='_operations/{html.escape(t['name'])}.html'>"
        f"{html.escape(t['name'])}</a></td>"
        f"<td>{html.escape(t['status'])}</td><td>{t['seconds']:.1f} s</td></tr>"
        for t in manifest["tasks"]
    )
    folders = "\n".join(
        f"<li><a href='{html.escape(f)}/index.html'>{html.escape(f)}/</a>"
        + "".join(
            f" · <a href='{html.escape(f)}/{name}'>{what}</a>"
            for name, what in PACK_FILES
            if (directory / f / name).is_file()
        )
        + "</li>"
        for f in sorted(manifest["folders"].values())
    )
    counts = "\n".join(
        f"<tr><td>{html.escape(table)}</td><td>{rows_:,}</td></tr>"
        for table, rows_ in manifest["rows"].items()
    )
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>boxoffice run {manifest["as_of"]}</title>
<style>
 body {{ font: 15px/1.5 system-ui, sans-serif; margin: 2rem auto; max-width: 46rem; color: #222; }}
 table {{ border-collapse: collapse; margin: 1rem 0; }}
 td, th {{ padding: .3rem 1rem .3rem 0; text-align: left; border-bottom: 1px solid #ddd; }}
 .meta {{ color: #666; }}
</style></head><body>
<h1>boxoffice run for {manifest["as_of"]}</h1>
<p class="meta">{len(manifest["tenants"])} tenant(s) · code {html.escape(manifest["code_version"])}
 · finished {html.escape(str(manifest["finished_at"]))}</p>
<h2>Tenants</h2>
<p class="meta">Each folder holds only its tenant's pages: it can be handed to the tenant.</p>
<ul>
{folders}
</ul>
<h2>Tasks</h2>
<p class="meta">The executed notebooks, every tenant in each (for operations).</p>
<table><tr><th>task</th><th>status</th><th>duration</th></tr>
{rows}
</table>
<h2>Rows written for this date</h2>
<table><tr><th>table</th><th>rows</th></tr>
{counts}
</table>
<p class="meta">Details: <a href="manifest.json">manifest.json</a></p>
</body></html>
"""
    target = directory / "index.html"
    write_atomically(target, page)
    return target


def write_atomically(target: Path, text: str) -> None:
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, target)


ERASED = "[erased]"


def scrub(root: Path, needles: list[str]) -> dict[str, list[str]]:
    """Remove every occurrence of each of ``needles`` (customer ids and keys, lower case) from
    the files under ``root``: text files get ``[erased]`` in its place (rewritten atomically);
    any other file that holds one — a workbook or PDF, whose text cannot be edited in place — is
    deleted. Returns, per needle, the files changed (relative to ``root``)."""
    found: dict[str, list[str]] = {n: [] for n in needles}
    if not root.is_dir():
        return found
    encoded = {n: n.encode() for n in needles}
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        data = path.read_bytes()
        text = _searchable(path, data)
        hits = [n for n in needles if encoded[n] in text]
        if not hits:
            continue
        for n in hits:
            found[n].append(str(path.relative_to(root)))
        try:
            content = data.decode("utf-8") if path.suffix in TEXT_SUFFIXES else None
        except UnicodeDecodeError:
            content = None
        if content is None:
            path.unlink()
            continue
        for n in hits:
            content = re.sub(re.escape(n), ERASED, content, flags=re.IGNORECASE)
        write_atomically(path, content)
    return found


TEXT_SUFFIXES = {".html", ".ipynb", ".json", ".csv", ".txt", ".md", ".ndjson", ".metadata"}


def _searchable(path: Path, data: bytes) -> bytes:
    """The bytes to search, lower case: a zip container's (``.xlsx``) members are unpacked."""
    if data[:4] == b"PK\x03\x04":
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                data = b"".join(archive.read(name) for name in archive.namelist())
        except zipfile.BadZipFile:
            pass
    return data.lower()
