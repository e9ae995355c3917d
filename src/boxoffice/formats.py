"""How numbers read, everywhere a person sees one: dashboards, the CLI, report charts and the
recommendations' reasons. Money is stored in integer cents and shown in currency units."""

from __future__ import annotations

MONEY = ",.2f"  # the d3 / Python format of an amount in currency units (plotly hovers too)


def money(cents: float | None) -> str:
    """``123456`` cents → ``1,234.56``; ``–`` for none."""
    return "–" if cents is None else f"{cents / 100:{MONEY}}"


def number(value: float | None) -> str:
    """Thousands separators; a fraction with two decimals; ``–`` for none."""
    if value is None:
        return "–"
    return f"{value:,.2f}" if isinstance(value, float) else f"{value:,}"


def percent(share: float | None, digits: int = 1) -> str:
    """``0.1234`` → ``12.3 %``; ``–`` for none."""
    return "–" if share is None else f"{share * 100:.{digits}f} %"
