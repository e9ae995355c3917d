"""Tables as files: CSV and XLSX bytes from polars frames, and a download link for a page."""

from __future__ import annotations

import base64
import html
import io

import polars as pl

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def csv_bytes(frame: pl.DataFrame) -> bytes:
    return frame.write_csv().encode()


def xlsx_bytes(frame: pl.DataFrame, *, sheet: str = "data") -> bytes:
    """An Excel workbook with ``frame`` as a formatted table (autofit, frozen header)."""
    buffer = io.BytesIO()
    frame.write_excel(
        buffer,
        worksheet=sheet[:31],
        autofit=True,
        freeze_panes=(1, 0),
        table_style="Table Style Light 9",
    )
    return buffer.getvalue()


def download_link(data: bytes, filename: str, *, mime: str, label: str) -> str:
    """An ``<a download>`` carrying ``data`` as a data URI: works in a static page and in
    Voila alike, with no server round trip."""
    encoded = base64.b64encode(data).decode()
    return (
        f"<a class='bx-download' download='{html.escape(filename)}' "
        f"href='data:{mime};base64,{encoded}'>{html.escape(label)}</a>"
    )
