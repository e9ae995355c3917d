"""Small widgets shared by the dashboards."""

from __future__ import annotations

import html

import ipywidgets as w


def message(text: str, *, error: bool = False) -> w.HTML:
    """One line of text for the viewer (red when something is wrong)."""
    color = "#b00020" if error else "#444"
    return w.HTML(f"<p class='bx-message' style='color:{color}'>{html.escape(text)}</p>")
