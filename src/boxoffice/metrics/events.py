"""Event performance and revenue by category, from the daily sales facts and the events
dimension (docs/metrics.md, "Events"). Functions DataFrame → DataFrame; money in cents.

``sales`` is daily sales per event: ``local_date``, ``event_id``, ``tickets_sold``,
``refunded_tickets``, ``net_cents`` (other columns are ignored); ``events`` is
``analytics.events``: ``event_id``, ``name``, ``category``, ``venue_id``, ``start_date`` (the
local day the event starts), ``capacity``, ``scanned``.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from boxoffice.frames import check_range, require

SALES_COLUMNS = ("local_date", "event_id", "tickets_sold", "refunded_tickets", "net_cents")
EVENT_COLUMNS = ("event_id", "name", "category", "venue_id", "start_date", "capacity", "scanned")


def _totals(sales: pl.DataFrame, start: dt.date, end: dt.date) -> pl.DataFrame:
    """Per event over local days ``[start, end]``: ``tickets`` (sold − refunded) and
    ``net_cents``."""
    return (
        sales.filter(pl.col("local_date").is_between(start, end))
        .group_by("event_id")
        .agg(
            (pl.col("tickets_sold").sum() - pl.col("refunded_tickets").sum()).alias("tickets"),
            pl.col("net_cents").sum(),
        )
    )


def event_performance(
    sales: pl.DataFrame, events: pl.DataFrame, as_of: dt.date, *, velocity_days: int = 7
) -> pl.DataFrame:
    """One row per event of ``events``, as of the end of local day ``as_of``:

    * ``sold`` = tickets sold − tickets refunded, up to ``as_of`` (tickets held);
    * ``sell_through`` = ``sold / capacity`` — the share of the house sold;
    * ``utilization`` = ``scanned / capacity`` — the share of the house that came, for events
      that started on or before ``as_of`` (null for events still to come);
    * ``velocity`` = net tickets sold in the ``velocity_days`` local days ending ``as_of``,
      ÷ ``velocity_days`` (tickets per day; refunds in the window count against it);
    * ``days_to_event`` = ``start_date − as_of`` (negative once it has taken place);
    * ``net_cents`` = net revenue up to ``as_of``; ``revpas`` = ``net_cents / capacity``,
      revenue per available seat (cents).

    Events without sales have zeros, not nulls. Sorted by start date, then name.
    """
    require(sales, SALES_COLUMNS, "sales")
    require(events, EVENT_COLUMNS, "events")
    if velocity_days < 1:
        raise ValueError(f"velocity_days must be at least 1, got {velocity_days}")
    to_date = _totals(sales, dt.date.min, as_of).rename({"tickets": "sold"})
    window = _totals(sales, as_of - dt.timedelta(days=velocity_days - 1), as_of).select(
        "event_id", (pl.col("tickets") / velocity_days).alias("velocity")
    )
    return (
        events.select(EVENT_COLUMNS)
        .join(to_date, on="event_id", how="left")
        .join(window, on="event_id", how="left")
        .with_columns(
            pl.col("sold").fill_null(0),
            pl.col("net_cents").fill_null(0),
            pl.col("velocity").fill_null(0.0),
        )
        .with_columns(
            (pl.col("sold") / pl.col("capacity")).alias("sell_through"),
            pl.when(pl.col("start_date") <= as_of)
            .then(pl.col("scanned") / pl.col("capacity"))
            .alias("utilization"),
            (pl.col("start_date") - pl.lit(as_of)).dt.total_days().alias("days_to_event"),
            (pl.col("net_cents") / pl.col("capacity")).alias("revpas"),
        )
        .sort("start_date", "name")
    )


def rank_events(
    performance: pl.DataFrame, *, by: str = "net_cents", n: int = 5, bottom: bool = False
) -> pl.DataFrame:
    """The ``n`` best (or, with ``bottom``, worst) events of an :func:`event_performance` or
    :func:`period_performance` frame by ``by``; ties broken by name so the order is stable."""
    if by not in performance.columns or by in ("event_id", "name", "category", "venue_id"):
        raise ValueError(f"cannot rank by {by!r}; rank by a measure of {performance.columns}")
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    return performance.sort([by, "name"], descending=[not bottom, False]).head(n)


def period_performance(
    sales: pl.DataFrame,
    events: pl.DataFrame,
    start: dt.date,
    end: dt.date,
    *,
    venue_id: str | None = None,
) -> pl.DataFrame:
    """Per event (of ``venue_id`` only, when given), what sold in the local days
    ``[start, end]``: ``tickets`` (sold − refunded), ``net_cents``, ``sell_through`` =
    ``tickets / capacity``. Only events with sales or refunds in the period; for top and
    bottom lists of any period (:func:`rank_events`)."""
    require(sales, SALES_COLUMNS, "sales")
    require(events, EVENT_COLUMNS, "events")
    check_range(start, end)
    if venue_id:
        events = events.filter(pl.col("venue_id") == venue_id)
    return (
        _totals(sales, start, end)
        .join(events.select(EVENT_COLUMNS), on="event_id", how="inner")
        .with_columns((pl.col("tickets") / pl.col("capacity")).alias("sell_through"))
        .select("event_id", "name", "category", "venue_id", "tickets", "net_cents", "sell_through")
    )


def category_mix(
    sales: pl.DataFrame,
    events: pl.DataFrame,
    start: dt.date,
    end: dt.date,
    *,
    venue_id: str | None = None,
) -> pl.DataFrame:
    """Net revenue and net tickets per event category over local days ``[start, end]`` (of
    ``venue_id`` only, when given), with each category's ``share`` of net revenue (shares sum
    to 1 when revenue is positive, null when it is not). Sorted by revenue, largest first."""
    mix = (
        period_performance(sales, events, start, end, venue_id=venue_id)
        .group_by("category")
        .agg(pl.col("net_cents").sum(), pl.col("tickets").sum())
        .sort(["net_cents", "category"], descending=[True, False])
    )
    total = mix["net_cents"].sum()
    return mix.with_columns(
        (pl.col("net_cents") / total if total > 0 else pl.lit(None, pl.Float64)).alias("share")
    )


WHEN = ("upcoming", "past", "all")
SORTABLE = (
    "start_date",
    "days_to_event",
    "sold",
    "sell_through",
    "utilization",
    "velocity",
    "net_cents",
    "revpas",
    "name",
)


def select_events(
    performance: pl.DataFrame,
    *,
    when: str = "upcoming",
    venue_id: str | None = None,
    category: str | None = None,
    search: str | None = None,
    sort_by: str = "days_to_event",
    descending: bool = False,
) -> pl.DataFrame:
    """The rows of an :func:`event_performance` frame a viewer asked for, in their order.

    ``when``: ``"upcoming"`` (``days_to_event ≥ 0``: today's events included), ``"past"``
    (``< 0``) or ``"all"``; ``venue_id`` and ``category`` keep one of each; ``search`` keeps the
    names containing it (case-insensitive, literally); ``sort_by`` one of :data:`SORTABLE`,
    nulls last, ties by start date then name.
    """
    if when not in WHEN:
        raise ValueError(f"when must be one of {list(WHEN)}, got {when!r}")
    if sort_by not in SORTABLE:
        raise ValueError(f"cannot sort by {sort_by!r}; sort by one of {list(SORTABLE)}")
    require(performance, (*EVENT_COLUMNS, "days_to_event", *SORTABLE), "performance")
    rows = performance
    if when != "all":
        upcoming = pl.col("days_to_event") >= 0
        rows = rows.filter(upcoming if when == "upcoming" else ~upcoming)
    if venue_id:
        rows = rows.filter(pl.col("venue_id") == venue_id)
    if category:
        rows = rows.filter(pl.col("category") == category)
    if search and search.strip():
        needle = search.strip().lower()
        rows = rows.filter(pl.col("name").str.to_lowercase().str.contains(needle, literal=True))
    keys = [sort_by, *(k for k in ("start_date", "name") if k != sort_by)]
    return rows.sort(keys, descending=[descending, False, False][: len(keys)], nulls_last=True)
