"""A page printed to PDF by the headless Chromium the tests install: its text, its pages
numbered, its chart drawn (not blank), the paper size; and a missing browser is one clear
error that leaves no file."""

import subprocess

import numpy as np
import plotly.graph_objects as go
import pytest

from boxoffice.reports.pages import Page, Text
from boxoffice.reports.pdf import RenderError, write_pdf


def page() -> Page:
    bars = go.Figure(
        go.Bar(x=["web", "mobile", "partner"], y=[300, 120, 80], marker_color="#1f77b4")
    )
    bars.update_layout(title="Net revenue by channel", height=320)
    return Page(
        "Harbor Arts: executive report",
        "The 30 days 2026-10-02 to 2026-10-31",
        [Text("Channels", 2), bars, Text("Events", 2), Text("Gala sold 412 tickets.")],
    )


def pages_of(pdf) -> list[str]:
    text = subprocess.run(["pdftotext", "-layout", pdf, "-"], capture_output=True, text=True)
    return text.stdout.split("\f")[:-1]


def test_a_page_prints_with_its_text_page_numbers_and_a_drawn_chart(tmp_path):
    root = tmp_path / "reports"
    path = write_pdf(root / "2026-10-31" / "harbor" / "report.pdf", page(), reports_root=root)
    assert sorted(p.name for p in path.parent.iterdir()) == ["report.pdf"]  # no scratch left
    [first] = pages_of(path)
    assert "Harbor Arts: executive report" in first
    assert "The 30 days 2026-10-02 to 2026-10-31" in first
    assert "Gala sold 412 tickets." in first and "Net revenue by channel" in first
    assert "page 1 of 1" in first
    info = subprocess.run(["pdfinfo", path], capture_output=True, text=True).stdout
    assert "Page size:      595.92 x 842.88 pts (A4)" in info or "(A4)" in info
    # the chart is drawn: its bars' blue covers ≥ 5 % of the area a chart takes on the page
    pixels = raster(path)
    blue = (np.abs(pixels - np.array([31, 119, 180])).sum(axis=2) < 60).mean()
    assert blue > 0.05 * 0.25  # the chart is about a quarter of the page


def test_letter_paper_and_a_missing_browser(tmp_path, monkeypatch):
    root = tmp_path / "reports"
    path = write_pdf(root / "letter.pdf", page(), reports_root=root, paper="Letter")
    info = subprocess.run(["pdfinfo", path], capture_output=True, text=True).stdout
    assert "612 x 792 pts (letter)" in info
    monkeypatch.setenv("BOXOFFICE_CHROMIUM", "/nonexistent/chromium")
    with pytest.raises(RenderError, match="needs Chromium to print: '/nonexistent/chromium' is"):
        write_pdf(root / "none.pdf", page(), reports_root=root)
    assert not (root / "none.pdf").exists()
    with pytest.raises(ValueError, match="paper: one of A4, Letter, got 'A5'"):
        write_pdf(root / "a5.pdf", page(), reports_root=root, paper="A5")


def raster(pdf, page: int = 1, dpi: int = 40) -> np.ndarray:
    """One page at ``dpi``, RGB (``pdftoppm``'s binary PPM: a three-line header, then the
    pixels)."""
    ppm = subprocess.run(
        ["pdftoppm", "-r", str(dpi), "-f", str(page), "-l", str(page), pdf],
        capture_output=True,
        check=True,
    ).stdout
    magic, size, depth, data = ppm.split(b"\n", 3)
    assert (magic, depth) == (b"P6", b"255")
    width, height = map(int, size.split())
    return np.frombuffer(data, np.uint8).reshape(height, width, 3).astype(int)
