"""Input checks shared by the domain functions (frames in, frames out): a clear message naming
the missing columns instead of a polars error deep inside a computation."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import polars as pl


def require(frame: pl.DataFrame, columns: Iterable[str], what: str = "frame") -> None:
    """Raise ``ValueError`` naming the columns of ``columns`` that ``frame`` lacks."""
    if missing := [c for c in columns if c not in frame.columns]:
        raise ValueError(f"{what} lacks column(s) {missing}; has {frame.columns}")


def check_range(start: dt.date, end: dt.date) -> None:
    """Raise ``ValueError`` when ``start`` is after ``end``."""
    if start > end:
        raise ValueError(f"inverted date range: start {start} is after end {end}")
