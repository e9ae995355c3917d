"""CSV and XLSX exports round-trip their values; the download link carries the bytes."""

import base64
import io
import re
import zipfile

import polars as pl

from boxoffice.reports.export import XLSX_MIME, csv_bytes, download_link, xlsx_bytes

FRAME = pl.DataFrame(
    {"customer_key": ["a", "b"], "clv_12m": [1234.5, 0.0], "segment": ["Can't Lose Them", "New"]}
)


def test_csv_round_trip():
    assert pl.read_csv(io.BytesIO(csv_bytes(FRAME))).equals(FRAME)


def test_xlsx_round_trip():
    data = xlsx_bytes(FRAME, sheet="customers")
    assert data[:2] == b"PK"  # a zip container
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        sheet = z.read("xl/worksheets/sheet1.xml").decode()
        strings = z.read("xl/sharedStrings.xml").decode()
    assert "1234.5" in sheet
    assert "Can&apos;t Lose Them" in strings or "Can't Lose Them" in strings
    assert "customers" in zipfile.ZipFile(io.BytesIO(data)).read("xl/workbook.xml").decode()


def test_download_link_carries_the_bytes():
    link = download_link(b"x,y\n1,2\n", "list.csv", mime="text/csv", label="CSV")
    payload = re.search(r"base64,([^']+)'", link).group(1)
    assert base64.b64decode(payload) == b"x,y\n1,2\n"
    assert "download='list.csv'" in link and XLSX_MIME.startswith("application/")
