"""A tenant's report as a PDF (``report.pdf``), for people who read on paper or in a mail
client: a print page of A4 or Letter size, its charts static and sized for the page, page
numbers in the footer, printed by headless Chromium.

The charts are plotly's, drawn by the reports root's plotly.js in the print page; Chromium
prints once the page's scripts are done (``--virtual-time-budget``), so no chart is printed
before it is drawn. Chromium is the one renderer this needs (Debian's ``chromium``, or the
browser ``BOXOFFICE_CHROMIUM`` names): without it the PDF is one clear error, never a file
with blank charts. The PDF is written atomically.
"""

from __future__ import annotations

import html
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import plotly.graph_objects as go

from boxoffice.reports.artifacts import plotly_script
from boxoffice.reports.pages import Page, Row, Text

PAPERS = {"A4": (210, 297), "Letter": (215.9, 279.4)}  # millimetres
MARGIN_MM = 15
PIXELS_PER_MM = 96 / 25.4  # CSS pixels
TIMEOUT_SECONDS = 120
CHART_HEIGHT = 260  # CSS pixels: at most this high in print, so a page holds three charts
ROW_GAP = 12  # CSS pixels between figures side by side


class RenderError(RuntimeError):
    """The PDF could not be printed: what is missing or what the browser said, in one line."""


def chromium() -> str:
    """The browser that prints: ``BOXOFFICE_CHROMIUM``, else ``chromium`` on the PATH."""
    named = os.environ.get("BOXOFFICE_CHROMIUM")
    found = shutil.which(named or "chromium")
    if not found:
        raise RenderError(
            f"report.pdf needs Chromium to print: {named!r} is not an executable"
            if named
            else "report.pdf needs Chromium to print: install it (apt-get install chromium)"
            " or name one in BOXOFFICE_CHROMIUM"
        )
    return found


def print_html(page: Page, *, page_dir: Path, reports_root: Path, paper: str = "A4") -> str:
    """``page`` as an HTML document laid out for print on ``paper``: a title block, each
    heading starting a page section, figures as wide as the text, static (no hover, no
    toolbar), and "page N of M" in the footer."""
    width = int((_paper(paper)[0] - 2 * MARGIN_MM) * PIXELS_PER_MM)
    parts = []
    for block in page.blocks:
        if isinstance(block, go.Figure):
            parts.append(_figure(block, width))
        elif isinstance(block, Row):
            share = (width - ROW_GAP * (len(block.figures) - 1)) // len(block.figures)
            cells = "".join(_figure(f, share) for f in block.figures)
            parts.append(f"<div class='row'>{cells}</div>")
        elif isinstance(block, Text):
            tag = f"h{block.level}" if block.level else "p"
            parts.append(f"<{tag}>{html.escape(block.text)}</{tag}>")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>{html.escape(page.title)}</title>
{plotly_script(page_dir, reports_root)}
<style>
 @page {{
   size: {paper}; margin: {MARGIN_MM}mm {MARGIN_MM}mm 18mm;
   @bottom-left {{ content: "{_css(page.title)}"; font: 8pt sans-serif; color: #666; }}
   @bottom-right {{ content: "page " counter(page) " of " counter(pages);
                   font: 8pt sans-serif; color: #666; }}
 }}
 body {{ font: 10pt/1.4 sans-serif; color: #222; margin: 0; }}
 h1 {{ font-size: 18pt; margin: 0 0 2mm; }}
 h2 {{ font-size: 13pt; margin: 6mm 0 2mm; border-bottom: 0.3mm solid #ccc;
       break-after: avoid; }}
 .meta {{ color: #555; margin: 0 0 4mm; }}
 .figure {{ break-inside: avoid; margin: 0 0 3mm; }}
 .row {{ display: flex; gap: {ROW_GAP}px; break-inside: avoid; }}
</style></head><body>
<h1>{html.escape(page.title)}</h1>
<p class="meta">{html.escape(page.subtitle)}</p>
{"".join(parts)}
</body></html>
"""


def write_pdf(
    path: Path, page: Page, *, reports_root: Path, paper: str = "A4", browser: str | None = None
) -> Path:
    """Print ``page`` to ``path`` (see the module docstring); the print page is a temporary
    file next to it, so its charts find the reports root's plotly.js."""
    _paper(paper)
    browser = browser or chromium()
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".print-") as scratch:
        source = Path(scratch) / "page.html"
        source.write_text(
            print_html(page, page_dir=Path(scratch), reports_root=reports_root, paper=paper)
        )
        printed = Path(scratch) / "page.pdf"
        command = [
            browser, "--headless", "--no-sandbox", "--disable-gpu",
            "--disable-background-networking", "--no-first-run", "--no-pdf-header-footer",
            f"--user-data-dir={Path(scratch) / 'profile'}",
            "--virtual-time-budget=20000", f"--print-to-pdf={printed}", source.as_uri(),
        ]  # fmt: skip
        try:
            done = subprocess.run(
                command, capture_output=True, text=True, timeout=TIMEOUT_SECONDS, check=False
            )
        except subprocess.TimeoutExpired as e:
            raise RenderError(f"{path.name}: Chromium did not finish in {TIMEOUT_SECONDS} s") from e
        if done.returncode != 0 or not printed.exists() or printed.stat().st_size == 0:
            said = (done.stderr.strip().splitlines() or ["no output"])[-1]
            raise RenderError(f"{path.name}: Chromium failed (exit {done.returncode}): {said}")
        os.replace(printed, path)
    return path


def _figure(figure: go.Figure, width: int) -> str:
    """A figure static, ``width`` pixels wide; a chart at most :data:`CHART_HEIGHT` high (a
    table keeps its height: each of its rows is shown)."""
    figure = go.Figure(figure).update_layout(width=width)
    if not any(isinstance(t, go.Table) for t in figure.data):
        figure.update_layout(height=min(figure.layout.height or CHART_HEIGHT, CHART_HEIGHT))
    static = {"staticPlot": True, "displayModeBar": False}
    return (
        "<div class='figure'>"
        + figure.to_html(include_plotlyjs=False, full_html=False, config=static)
        + "</div>"
    )


def _paper(paper: str) -> tuple[float, float]:
    if paper not in PAPERS:
        raise ValueError(f"paper: one of {', '.join(PAPERS)}, got {paper!r}")
    return PAPERS[paper]


def _css(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')
