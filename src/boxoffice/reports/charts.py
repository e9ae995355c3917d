"""Plotly figure builders, shared by the report notebooks and the Voila dashboards.

Each takes the polars frame a :mod:`boxoffice.metrics` function returns and gives a figure;
money arrives in cents and is shown in currency units.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
import polars as pl

from boxoffice.formats import MONEY
from boxoffice.pricing import demand_score

TEMPLATE = "plotly_white"
CHANNEL_COLORS = {
    "web": "#1f77b4",
    "mobile": "#2ca02c",
    "box_office": "#ff7f0e",
    "partner": "#9467bd",
}
KPI_LABELS = {
    "revenue": "Net revenue",
    "tickets": "Tickets sold",
    "customers": "Customers",
    "average_order_value": "Average order value",
}
MONEY_METRICS = {"revenue", "average_order_value"}
TILE_COLOR = "#eaeff6"  # a key figure's card


def use_notebook_renderer() -> None:
    """Make an executed notebook keep each figure as plotly's JSON only (``docs/stack.md``):
    its HTML export draws them with the reports root's plotly.js
    (:func:`boxoffice.reports.artifacts.export_html`)."""
    pio.renderers.default = "plotly_mimetype"


def kpi_tiles(kpis: pl.DataFrame) -> go.Figure:
    """One tile per metric: the value, and its change against the previous period."""
    fig = go.Figure()
    n = kpis.height
    for i, row in enumerate(kpis.iter_rows(named=True)):
        scale = 100 if row["metric"] in MONEY_METRICS else 1
        value = None if row["value"] is None else row["value"] / scale
        has_delta = row["previous"] not in (None, 0) and value is not None
        fig.add_trace(
            go.Indicator(
                mode="number+delta" if has_delta else "number",
                value=value,
                number={"valueformat": MONEY if scale == 100 else ",.0f"},
                delta={
                    "reference": row["previous"] / scale if has_delta else None,
                    "relative": True,
                    "valueformat": ".1%",
                },
                title={"text": KPI_LABELS.get(row["metric"], row["metric"])},
                domain={"x": [i / n + 0.02, (i + 1) / n - 0.02], "y": [0, 1]},
            )
        )
        fig.add_shape(  # each tile a card
            type="rect", xref="paper", yref="paper", x0=i / n + 0.01, x1=(i + 1) / n - 0.01,
            y0=-0.05, y1=1.2, fillcolor=TILE_COLOR, line_width=0, layer="below",
        )  # fmt: skip
    fig.update_layout(template=TEMPLATE, height=180, margin={"t": 40, "b": 10, "l": 10, "r": 10})
    return fig


def revenue_trend(rolled: pl.DataFrame, *, granularity: str) -> go.Figure:
    """Net revenue per period as bars, tickets and (for a
    :func:`boxoffice.metrics.sales.growth` frame) the change against the period before in the
    hover."""
    if "net_growth" in rolled.columns:
        change = [
            f"<br>{g:+.1%} on the {granularity} before" if g is not None else ""
            for g in rolled["net_growth"]
        ]
    else:
        change = [""] * rolled.height
    fig = go.Figure(
        go.Bar(
            x=rolled["period"].cast(pl.String).to_list(),  # ISO dates: JSON-safe for widgets
            y=(rolled["net_cents"] / 100).to_list(),
            customdata=list(zip(rolled["tickets_sold"], change, strict=True)),
            hovertemplate=f"%{{x}}<br>net revenue %{{y:{MONEY}}}%{{customdata[1]}}"
            "<br>%{customdata[0]:,} tickets<extra></extra>",
            marker_color="#1f77b4",
        )
    )
    fig.update_layout(
        template=TEMPLATE,
        title=f"Net revenue per {granularity}",
        yaxis_title="net revenue",
        height=380,
        margin={"t": 50, "b": 40, "l": 60, "r": 20},
    )
    return fig


def channel_mix(mix: pl.DataFrame) -> go.Figure:
    """Each channel's share of net revenue, as a donut."""
    fig = go.Figure(
        go.Pie(
            labels=mix["channel"].to_list(),
            values=(mix["net_cents"] / 100).to_list(),
            hole=0.5,
            sort=False,
            marker_colors=[CHANNEL_COLORS.get(c, "#7f7f7f") for c in mix["channel"]],
            hovertemplate=f"%{{label}}<br>%{{value:{MONEY}}} (%{{percent}})<extra></extra>",
        )
    )
    fig.update_layout(
        template=TEMPLATE,
        title="Channel mix (net revenue)",
        height=380,
        margin={"t": 50, "b": 20, "l": 20, "r": 20},
    )
    return fig


def category_mix(mix: pl.DataFrame) -> go.Figure:
    """Net revenue per event category as horizontal bars, with its share."""
    ordered = mix.sort("net_cents")
    fig = go.Figure(
        go.Bar(
            x=(ordered["net_cents"] / 100).to_list(),
            y=ordered["category"].to_list(),
            orientation="h",
            customdata=list(zip(ordered["share"].fill_null(0), ordered["tickets"], strict=True)),
            texttemplate="%{customdata[0]:.0%}",
            hovertemplate=f"%{{y}}<br>net revenue %{{x:{MONEY}}} (%{{customdata[0]:.1%}})"
            "<br>%{customdata[1]:,} tickets<extra></extra>",
            marker_color="#1f77b4",
        )
    )
    fig.update_layout(
        template=TEMPLATE, title="Net revenue by event category", xaxis_title="net revenue",
        height=max(240, 80 + 40 * ordered.height), margin={"t": 50, "b": 40, "l": 90, "r": 20},
    )  # fmt: skip
    return fig


def projection(projected, *, history_days: int = 90, scale: float = 100) -> go.Figure:
    """The last ``history_days`` of a daily series, and its projection (a
    :class:`boxoffice.forecast.Projection`) with 80 % and 95 % bands; ``scale`` divides the
    values (cents → currency units)."""
    history = projected.history.tail(history_days)
    return _forecast_figure(
        history["date"], history["value"] / scale, projected.daily, scale=scale,
        label=f"projection ({projected.model})", y_title="net revenue",
        title="Daily net revenue, all venues: actual and projected",
    )  # fmt: skip


def demand_forecast(
    demand: pl.DataFrame, forecast: pl.DataFrame, *, measure: str, title: str, history_days=90
) -> go.Figure:
    """A venue's daily ``measure`` (``tickets_sold`` or ``gross_cents``) of the last
    ``history_days`` (a :func:`boxoffice.forecast.venue_demand.daily_demand` frame) and its
    forecast (rows of :func:`~boxoffice.forecast.venue_demand.forecast_venues` for that venue
    and measure) with 80 % and 95 % bands."""
    scale = 100 if measure == "gross_cents" else 1
    history = demand.sort("local_date").tail(history_days)
    model = forecast["model"][0] if forecast.height else ""
    return _forecast_figure(
        history["local_date"], history[measure] / scale, forecast.sort("date"), scale=scale,
        label=f"forecast ({model})", title=title,
        y_title="gross revenue" if scale == 100 else "tickets sold",
    )  # fmt: skip


def _forecast_figure(
    dates: pl.Series, values: pl.Series, daily: pl.DataFrame, *, scale, label, title, y_title
) -> go.Figure:
    days = daily["date"].cast(pl.String).to_list()
    fig = go.Figure()
    for level, color in ((95, "rgba(31,119,180,0.15)"), (80, "rgba(31,119,180,0.3)")):
        fig.add_trace(
            go.Scatter(
                x=days + days[::-1],
                y=(daily[f"upper_{level}"] / scale).to_list()
                + (daily[f"lower_{level}"] / scale).to_list()[::-1],
                fill="toself",
                fillcolor=color,
                line={"width": 0},
                name=f"{level} % interval",
                hoverinfo="skip",
            )
        )
    fig.add_trace(
        go.Scatter(
            x=dates.cast(pl.String).to_list(),
            y=values.to_list(),
            name="actual",
            mode="lines",
            line={"color": "#333333"},
        )
    )
    fig.add_trace(
        go.Scatter(
            x=days,
            y=(daily["mean"] / scale).to_list(),
            name=label,
            mode="lines",
            line={"color": "#1f77b4", "dash": "dash"},
        )
    )
    fig.update_layout(
        template=TEMPLATE, title=title, yaxis_title=y_title, height=400,
        margin={"t": 50, "b": 40, "l": 60, "r": 20}, legend={"orientation": "h", "y": -0.15},
    )  # fmt: skip
    return fig


def booking_curve(
    curve: pl.DataFrame, forecast: dict | None, *, name: str, start_date, capacity: int
) -> go.Figure:
    """An event's tickets held day by day (:func:`boxoffice.forecast.booking_curve.event_curve`)
    and, at its start day, the pickup forecast of the final tickets with its 80 % and 95 %
    intervals (a row of ``analytics.event_forecasts``), under the capacity."""
    days = curve["local_date"].cast(pl.String).to_list()
    fig = go.Figure(
        go.Scatter(x=days, y=curve["held"].to_list(), mode="lines+markers", name="held",
                   line={"shape": "hv", "color": "#1f77b4"}, marker={"size": 4})
    )  # fmt: skip
    start = str(start_date)
    if forecast and forecast.get("forecast") is not None:
        for level, width in ((95, 2), (80, 6)):
            fig.add_trace(
                go.Scatter(
                    x=[start, start], y=[forecast[f"lower_{level}"], forecast[f"upper_{level}"]],
                    mode="lines", line={"width": width, "color": "rgba(214,39,40,0.45)"},
                    name=f"{level} % interval",
                )
            )  # fmt: skip
        fig.add_trace(
            go.Scatter(
                x=[days[-1] if days else start, start],
                y=[curve["held"][-1] if curve.height else 0, forecast["forecast"]],
                mode="lines+markers", line={"dash": "dash", "color": "#d62728"},
                name=f"forecast final ({forecast['method']} pickup)",
            )
        )  # fmt: skip
    fig.add_hline(y=capacity, line={"dash": "dot", "color": "#999"}, annotation_text="capacity")
    fig.update_layout(
        template=TEMPLATE, title=f"{name}: booking curve and forecast", yaxis_title="tickets held",
        height=380, legend={"orientation": "h", "y": -0.2},
        margin={"t": 50, "b": 40, "l": 60, "r": 20},
    )  # fmt: skip
    return fig


def backtest_accuracy(backtests: pl.DataFrame, venues: pl.DataFrame) -> go.Figure:
    """Per venue, the forecasts' MASE beside the seasonal naive one (below 1 beats it) and the
    intervals' coverage against 80 % and 95 %, from
    :func:`boxoffice.forecast.backtest.backtest_venues` (tickets)."""
    rows = (
        backtests.filter(pl.col("measure") == "tickets_sold")
        .join(venues.select("venue_id", "name"), on="venue_id", how="left")
        .sort("name")
    )
    names = rows["name"].to_list()
    fig = go.Figure(
        [
            go.Bar(name="MASE, forecast", x=names, y=rows["mase"].to_list(),
                   marker_color="#1f77b4"),
            go.Bar(name="MASE, seasonal naive", x=names, y=rows["naive_mase"].to_list(),
                   marker_color="#aaaaaa"),
            go.Scatter(name="80 % interval coverage", x=names, y=rows["coverage_80"].to_list(),
                       mode="markers", marker={"symbol": "diamond", "size": 10, "color": "#2ca02c"},
                       yaxis="y2"),
            go.Scatter(name="95 % interval coverage", x=names, y=rows["coverage_95"].to_list(),
                       mode="markers", marker={"symbol": "diamond", "size": 10, "color": "#d62728"},
                       yaxis="y2"),
        ]
    )  # fmt: skip
    horizon = rows["horizon"][0] if rows.height else ""
    fig.update_layout(
        template=TEMPLATE, barmode="group", height=400,
        title=f"Forecast accuracy, tickets per day, {horizon} days ahead (rolling origins)",
        yaxis={"title": "MASE (1 = seasonal naive)"},
        yaxis2={"title": "coverage", "overlaying": "y", "side": "right", "range": [0, 1.05],
                "tickvals": [0, 0.5, 0.8, 0.95],
                "tickformat": ".0%"},
        legend={"orientation": "h", "y": -0.25}, margin={"t": 50, "b": 40, "l": 60, "r": 60},
    )  # fmt: skip
    return fig


def event_forecasts(forecasts: pl.DataFrame, events: pl.DataFrame, *, top: int = 15) -> go.Figure:
    """The ``top`` soonest upcoming events: tickets held now, the pickup forecast of the final
    tickets with its 80 % and 95 % intervals, and the capacity (from
    :func:`boxoffice.forecast.booking_curve.pickup_forecast`)."""
    rows = (
        forecasts.drop_nulls("forecast")
        .join(events.select("event_id", "name"), on="event_id", how="left")
        .sort("days_before", "name")
        .head(top)
    )
    labels = [f"{n} ({d} d)" for n, d in zip(rows["name"], rows["days_before"], strict=True)]
    fig = go.Figure(
        [
            go.Bar(name="capacity", y=labels, x=rows["capacity"].to_list(), orientation="h",
                   marker_color="rgba(0,0,0,0.08)"),
            go.Bar(name="held now", y=labels, x=rows["held"].to_list(), orientation="h",
                   marker_color="#1f77b4"),
            go.Scatter(
                name="forecast final (95 % interval)", y=labels, x=rows["forecast"].to_list(),
                mode="markers", marker={"color": "#d62728", "size": 9},
                error_x={"type": "data", "symmetric": False,
                         "array": (rows["upper_95"] - rows["forecast"]).to_list(),
                         "arrayminus": (rows["forecast"] - rows["lower_95"]).to_list()},
            ),
        ]
    )  # fmt: skip
    fig.update_layout(
        template=TEMPLATE, barmode="overlay", title="Upcoming events: held now and forecast final",
        xaxis_title="tickets", yaxis={"autorange": "reversed"},
        height=max(300, 90 + 26 * rows.height), legend={"orientation": "h", "y": -0.15},
        margin={"t": 50, "b": 40, "l": 220, "r": 20},
    )  # fmt: skip
    return fig


def projection_totals(totals: pl.DataFrame, *, scale: float = 100) -> go.Figure:
    """The projected total of the next days per horizon, with its 80 % and 95 % intervals."""
    money = [(totals[c] / scale).to_list() for c in ("mean", "lower_80", "upper_80")]
    money += [(totals[c] / scale).to_list() for c in ("lower_95", "upper_95")]
    fig = go.Figure(
        go.Table(
            header={"values": ["next days", "projected", "80 % from", "to", "95 % from", "to"]},
            cells={"values": [totals["days"].to_list(), *money], "format": ["", *[",.0f"] * 5]},
        )
    )
    fig.update_layout(
        template=TEMPLATE, title="Projected net revenue", height=120 + 30 * totals.height,
        margin={"t": 50, "b": 10, "l": 10, "r": 10},
    )  # fmt: skip
    return fig


TABLE_ROW = 24  # pixels: a table's row of one line (11 px text)


def table_height(rows: int) -> int:
    """The height of a titled table of ``rows`` one-line rows and its header."""
    return 70 + TABLE_ROW * (rows + 1)


def _table(**columns) -> go.Table:
    """A table whose rows are one line of 11 px text (so its height is known)."""
    header = {"height": TABLE_ROW, "font": {"size": 11}, **columns.pop("header")}
    cells = {"height": TABLE_ROW, "font": {"size": 11}, **columns.pop("cells")}
    return go.Table(header=header, cells=cells, **columns)


def events_table(performance: pl.DataFrame, *, title: str) -> go.Figure:
    """Events of a :func:`boxoffice.metrics.events.period_performance` (or ranked) frame."""
    fig = go.Figure(
        _table(
            columnwidth=[3.4, 1.2, 0.9, 1.3, 1.1],
            header={"values": ["event", "category", "tickets", "net revenue", "sell-through"]},
            cells={
                "values": [
                    performance["name"].to_list(),
                    performance["category"].to_list(),
                    performance["tickets"].to_list(),
                    (performance["net_cents"] / 100).to_list(),
                    performance["sell_through"].to_list(),
                ],
                "format": ["", "", ",", MONEY, ".1%"],
            },
        )
    )
    fig.update_layout(
        template=TEMPLATE, title=title, height=table_height(performance.height),
        margin={"t": 50, "b": 10, "l": 10, "r": 10},
    )  # fmt: skip
    return fig


CATEGORY_COLORS = {
    "concert": "#1f77b4",
    "sports": "#2ca02c",
    "theatre": "#d62728",
    "comedy": "#ff7f0e",
    "family": "#9467bd",
}


def event_pace(performance: pl.DataFrame) -> go.Figure:
    """Sell-through against days to the event, one marker per event of an
    :func:`boxoffice.metrics.events.event_performance` frame, sized by capacity and coloured by
    category: events low and close to the left edge are the ones at risk of empty seats."""
    fig = go.Figure()
    biggest = max(int(performance["capacity"].max() or 1), 1)
    for category in sorted(set(performance["category"])):
        rows = performance.filter(pl.col("category") == category)
        fig.add_trace(
            go.Scatter(
                x=rows["days_to_event"].to_list(), y=rows["sell_through"].to_list(),
                mode="markers", name=category,
                marker={"size": (6 + 24 * (rows["capacity"] / biggest).sqrt()).to_list(),
                        "color": CATEGORY_COLORS.get(category), "opacity": 0.75},
                customdata=list(zip(rows["name"], rows["sold"], rows["capacity"],
                                    rows["velocity"], strict=True)),
                hovertemplate="%{customdata[0]}<br>%{x} days to go, %{y:.0%} sold"
                "<br>%{customdata[1]:,} of %{customdata[2]:,} seats"
                "<br>%{customdata[3]:.1f} tickets/day lately<extra></extra>",
            )
        )  # fmt: skip
    fig.update_layout(
        template=TEMPLATE, title="Sell-through against days to the event",
        xaxis_title="days to the event", yaxis={"title": "sell-through", "tickformat": ".0%"},
        height=420, margin={"t": 50, "b": 40, "l": 60, "r": 20},
    )  # fmt: skip
    return fig


def cohort_heatmap(retention: pl.DataFrame) -> go.Figure:
    """Share of each monthly cohort (rows) buying again N months later (columns), from
    :func:`boxoffice.metrics.cohorts.cohort_retention`; month 0 (always 100 %) is left out and
    the current month may be partial (see ``complete``)."""
    later = retention.filter(pl.col("months_since") > 0)
    cohorts = later["cohort"].unique().sort().to_list()
    months = list(range(1, int(later["months_since"].max() or 0) + 1))
    share = {(c, m): s for c, m, s in later.select("cohort", "months_since", "share").iter_rows()}
    size = dict(retention.select("cohort", "customers").unique().iter_rows())
    z = [[share.get((c, m)) for m in months] for c in cohorts]
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=months,
            y=[f"{c:%Y-%m} ({size[c]:,})" for c in cohorts],
            colorscale="Blues",
            zmin=0,
            colorbar={"title": "buying again", "tickformat": ".0%"},
            hovertemplate="cohort %{y}<br>%{x} months later: %{z:.1%}<extra></extra>",
        )
    )
    fig.update_layout(
        template=TEMPLATE, title="Cohort retention: share buying again, by months since the first",
        xaxis_title="months since the first purchase", yaxis_autorange="reversed",
        height=max(300, 80 + 22 * len(cohorts)), margin={"t": 50, "b": 40, "l": 140, "r": 20},
    )  # fmt: skip
    return fig


def funnel(steps: pl.DataFrame, *, title: str = "Conversion funnel") -> go.Figure:
    """Sessions reaching each step of :func:`boxoffice.metrics.funnel.funnel_steps`, with the
    share of all sessions and of the step before."""
    fig = go.Figure(
        go.Funnel(
            y=steps["step"].to_list(),
            x=steps["sessions"].to_list(),
            textinfo="value+percent initial+percent previous",
            marker_color="#1f77b4",
        )
    )
    fig.update_layout(
        template=TEMPLATE, title=title, height=360, margin={"t": 50, "b": 20, "l": 110, "r": 20}
    )
    return fig


MODEL_LABELS = {
    "first_touch": "First touch",
    "last_touch": "Last touch",
    "linear": "Linear",
    "time_decay": "Time decay",
    "position_based": "Position based (40/20/40)",
}


def attribution(attributed: pl.DataFrame, *, top: int = 8) -> go.Figure:
    """Revenue per campaign under each attribution model (grouped bars), from
    :func:`boxoffice.metrics.attribution.campaign_attribution`: the ``top`` campaigns by
    linear revenue, the rest summed as "other"; channels are summed per campaign."""
    per = attributed.group_by("model", "campaign").agg(pl.col("revenue_cents").sum())
    ranking = (
        per.filter(pl.col("model") == "linear")
        .sort(["revenue_cents", "campaign"], descending=[True, False])["campaign"]
        .to_list()
    )
    shown = ranking[:top]
    per = (
        per.with_columns(
            pl.when(pl.col("campaign").is_in(shown))
            .then(pl.col("campaign"))
            .otherwise(pl.lit("other"))
            .alias("campaign")
        )
        .group_by("model", "campaign")
        .agg(pl.col("revenue_cents").sum())
    )
    order = shown + (["other"] if len(ranking) > top else [])
    fig = go.Figure()
    for model, label in MODEL_LABELS.items():
        rows = dict(per.filter(pl.col("model") == model).select("campaign", "revenue_cents").rows())
        fig.add_trace(
            go.Bar(
                name=label, x=order, y=[rows.get(c, 0) / 100 for c in order],
                hovertemplate=f"{label}<br>%{{x}}: %{{y:{MONEY}}}<extra></extra>",
            )
        )  # fmt: skip
    lookback = attributed["lookback_days"][0] if "lookback_days" in attributed.columns else None
    note = f" (touches up to {lookback} days before the order)" if lookback is not None else ""
    fig.update_layout(
        template=TEMPLATE, barmode="group",
        title=f"Revenue by campaign and attribution model{note}", yaxis_title="attributed revenue",
        height=420, legend={"orientation": "h", "y": -0.2},
        margin={"t": 50, "b": 40, "l": 60, "r": 20},
    )  # fmt: skip
    return fig


def elasticities(estimates: pl.DataFrame) -> go.Figure:
    """Each category's price elasticity with its 95 % interval (and each venue's, lighter),
    from :func:`boxoffice.pricing.elasticity.estimate_elasticities`; groups the data cannot
    identify are named in the title instead of drawn."""
    shown = estimates.filter(pl.col("identified")).sort("category", "scope", "venue_id")
    missing = estimates.filter(~pl.col("identified") & (pl.col("scope") == "category"))
    fig = go.Figure()
    for scope, color, size in (("venue", "rgba(31,119,180,0.35)", 7), ("category", "#1f77b4", 12)):
        rows = shown.filter(pl.col("scope") == scope)
        fig.add_trace(
            go.Scatter(
                x=rows["elasticity"].to_list(), y=rows["category"].to_list(), mode="markers",
                name="per venue" if scope == "venue" else "per category",
                marker={"size": size, "color": color},
                error_x={"type": "data", "symmetric": False,
                         "array": (rows["ci_high"] - rows["elasticity"]).to_list(),
                         "arrayminus": (rows["elasticity"] - rows["ci_low"]).to_list()},
                customdata=list(zip(rows["n_obs"], rows["n_events"], strict=True)),
                hovertemplate="%{y}: %{x:.2f}<br>%{customdata[0]:,} event-days of"
                " %{customdata[1]:,} events<extra></extra>",
            )
        )  # fmt: skip
    note = ""
    if missing.height:
        note = " — not identified: " + ", ".join(missing["category"].to_list())
    fig.add_vline(x=-1, line={"dash": "dot", "color": "#999"})
    fig.update_layout(
        template=TEMPLATE, title=f"Price elasticity of tickets (95 % intervals){note}",
        xaxis_title="elasticity (−1: revenue unchanged by a small price change)",
        height=max(260, 90 + 45 * shown["category"].n_unique()),
        margin={"t": 50, "b": 50, "l": 90, "r": 20}, legend={"orientation": "h", "y": -0.3},
    )  # fmt: skip
    return fig


SCORE_PARTS = {  # component: label, colour (weights: boxoffice.pricing.demand_score.WEIGHTS)
    "sell_through": ("sell-through", "#1f77b4"),
    "velocity": ("velocity", "#2ca02c"),
    "pace": ("forecast pace", "#9467bd"),
    "scarcity": ("scarcity", "#ff7f0e"),
    "urgency": ("time to event", "#7f7f7f"),
}


def demand_scores(priced: pl.DataFrame, events: pl.DataFrame, *, top: int = 20) -> go.Figure:
    """The ``top`` upcoming events by demand score, each bar split into what its components
    contribute (weight × component × 100, rescaled where some are missing), from
    :func:`boxoffice.pricing.price_events`."""
    rows = (
        priced.join(events.select("event_id", "name", "start_date"), on="event_id", how="left")
        .sort(["demand_score", "name"], descending=[True, False])
        .head(top)
        .with_columns(pl.format("{} ({})", "name", "start_date").alias("name"))  # names repeat
    )
    parts = pl.DataFrame([rows["name"], *demand_score.contributions(rows)])
    fig = go.Figure(
        [
            go.Bar(name=label, y=parts["name"].to_list(), x=parts[n].to_list(),
                   orientation="h", marker_color=color)
            for n, (label, color) in SCORE_PARTS.items()
        ]
    )  # fmt: skip
    fig.update_layout(
        template=TEMPLATE, barmode="stack", title="Demand score of the upcoming events (0–100)",
        xaxis={"title": "demand score", "range": [0, 100]}, yaxis={"autorange": "reversed"},
        height=max(300, 90 + 24 * rows.height), legend={"orientation": "h", "y": -0.12},
        margin={"t": 50, "b": 40, "l": 220, "r": 20},
    )  # fmt: skip
    return fig


# ---------------------------------------------------------------------------- operations
OUTCOME_COLORS = {"stored": "#2ca02c", "duplicates": "#7f7f7f", "rejected": "#d62728"}


def ingest_batches(batches: pl.DataFrame) -> go.Figure:
    """Each batch's received lines split into stored, duplicates and rejected (stacked)."""
    ordered = batches.sort("started_at")
    labels = [
        f"{name.rsplit('/', 1)[-1]}<br>{started:%m-%d %H:%M}"
        for name, started in zip(ordered["input_name"], ordered["started_at"], strict=True)
    ]
    fig = go.Figure(
        [
            go.Bar(
                name=outcome,
                x=labels,
                y=ordered[outcome].to_list(),
                marker_color=color,
                hovertemplate=f"%{{x}}<br>%{{y:,}} {outcome}<extra></extra>",
            )
            for outcome, color in OUTCOME_COLORS.items()
        ]
    )
    fig.update_layout(
        template=TEMPLATE, barmode="stack", title="Ingest batches: what became of each line",
        yaxis_title="lines", height=380, margin={"t": 50, "b": 80, "l": 60, "r": 20},
    )  # fmt: skip
    return fig


def dead_letter_reasons(reasons: pl.DataFrame) -> go.Figure:
    """Rejected lines by reason (``field: rule``), most frequent on top."""
    totals = reasons.group_by("reason").agg(pl.col("lines").sum()).sort("lines")
    fig = go.Figure(
        go.Bar(
            x=totals["lines"].to_list(),
            y=totals["reason"].to_list(),
            orientation="h",
            marker_color=OUTCOME_COLORS["rejected"],
            hovertemplate="%{y}<br>%{x:,} lines<extra></extra>",
        )
    )
    fig.update_layout(
        template=TEMPLATE, title="Dead letters by reason", xaxis_title="lines",
        height=max(220, 60 + 28 * totals.height), margin={"t": 50, "b": 40, "l": 220, "r": 20},
    )  # fmt: skip
    return fig


def reconciliation(recon: pl.DataFrame) -> go.Figure:
    """Daily events per type with their trailing 7-day mean; flagged days marked in red, and
    purchase events against online orders."""
    fig = go.Figure()
    for type_ in recon["type"].unique().sort().to_list():
        part = recon.filter(pl.col("type") == type_)
        days = part["day"].cast(pl.String).to_list()
        fig.add_trace(go.Scatter(x=days, y=part["events"].to_list(), name=type_, mode="lines"))
        flagged = part.filter(pl.col("low_volume") | pl.col("orders_mismatch"))
        if flagged.height:
            fig.add_trace(
                go.Scatter(
                    x=flagged["day"].cast(pl.String).to_list(),
                    y=flagged["events"].to_list(),
                    mode="markers",
                    marker={"color": "#d62728", "size": 10, "symbol": "x"},
                    name=f"{type_}: flagged",
                    hovertemplate="%{x}: %{y:,} events — flagged<extra></extra>",
                )
            )
    orders = recon.filter(pl.col("type") == "purchase")
    if orders.height:
        fig.add_trace(
            go.Scatter(
                x=orders["day"].cast(pl.String).to_list(),
                y=orders["orders"].to_list(),
                name="online orders",
                mode="lines",
                line={"dash": "dot", "color": "#000000"},
            )
        )
    fig.update_layout(
        template=TEMPLATE, title="Events per day, and purchases against orders",
        yaxis_type="log", yaxis_title="events (log scale)", height=420,
        margin={"t": 50, "b": 40, "l": 60, "r": 20},
    )  # fmt: skip
    return fig


# ----------------------------------------------------------------------------- customers
SEGMENT_COLORS = {
    "Champions": "#1a9850",
    "Loyal": "#66bd63",
    "Potential Loyalist": "#a6d96a",
    "New": "#d9ef8b",
    "Promising": "#ffffbf",
    "Need Attention": "#fee08b",
    "About to Sleep": "#fdae61",
    "At Risk": "#f46d43",
    "Can't Lose Them": "#d73027",
    "Hibernating": "#bababa",
    "Lost": "#878787",
}


def segment_treemap(segments: pl.DataFrame) -> go.Figure:
    """Segments sized by customers, with revenue share and average order value in the hover
    (money in cents → currency units)."""
    fig = go.Figure(
        go.Treemap(
            labels=segments["segment"].to_list(),
            parents=[""] * segments.height,
            values=segments["customers"].to_list(),
            marker_colors=[SEGMENT_COLORS.get(s, "#7f7f7f") for s in segments["segment"]],
            customdata=list(
                zip(
                    (segments["share_of_revenue"] * 100).to_list(),
                    (segments["average_order_value"] / 100).to_list(),
                    strict=True,
                )
            ),
            texttemplate="%{label}<br>%{value:,} customers",
            hovertemplate="%{label}<br>%{value:,} customers<br>%{customdata[0]:.1f} % of revenue"
            f"<br>average order %{{customdata[1]:{MONEY}}}<extra></extra>",
        )
    )
    fig.update_layout(
        template=TEMPLATE, title="Customer segments (RFM)", height=420,
        margin={"t": 50, "b": 10, "l": 10, "r": 10},
    )  # fmt: skip
    return fig


def segment_movement(moves: pl.DataFrame) -> go.Figure:
    """Customers moving from their previous segment (rows) to their current one (columns)."""
    order = [
        s for s in SEGMENT_COLORS if s in set(moves["segment"]) | set(moves["previous_segment"])
    ]
    rows = [s for s in ["(new)", *order] if s in set(moves["previous_segment"])]
    cols = [s for s in order if s in set(moves["segment"])]
    counts = {
        (p, s): n
        for p, s, n in moves.select("previous_segment", "segment", "customers").iter_rows()
    }
    z = [[counts.get((p, s), 0) for s in cols] for p in rows]
    fig = go.Figure(
        go.Heatmap(
            z=z, x=cols, y=rows, colorscale="Blues", texttemplate="%{z:,}",
            hovertemplate="from %{y}<br>to %{x}<br>%{z:,} customers<extra></extra>",
        )
    )  # fmt: skip
    fig.update_layout(
        template=TEMPLATE, title="Segment movement since the previous run",
        xaxis_title="now", yaxis_title="before", yaxis_autorange="reversed",
        height=140 + 32 * len(rows), margin={"t": 50, "b": 60, "l": 140, "r": 20},
    )  # fmt: skip
    return fig


def clv_distribution(values: pl.DataFrame, *, bins: int = 60) -> go.Figure:
    """Histogram of 12-month customer lifetime value (cents → currency units) in ``bins``
    equal-width bins, log-scaled counts: a few customers carry most of the value. The counts
    are binned here, so the figure carries ``bins`` bars, not every customer's value."""
    edges, counts = histogram(values["clv_12m"] / 100, bins=bins)
    fig = go.Figure(
        go.Bar(
            x=(edges[:-1] + edges[1:]) / 2,
            y=counts,
            width=edges[1:] - edges[:-1],
            customdata=np.column_stack([edges[:-1], edges[1:]]),
            hovertemplate=f"%{{customdata[0]:{MONEY}}} – %{{customdata[1]:{MONEY}}}:"
            " %{y:,} customers<extra></extra>",
            marker_color="#1f77b4",
        )
    )
    fig.update_layout(
        template=TEMPLATE, title="Customer lifetime value, next 12 months",
        xaxis_title="expected value (discounted)", yaxis_title="customers", yaxis_type="log",
        height=360, margin={"t": 50, "b": 40, "l": 60, "r": 20}, bargap=0,
    )  # fmt: skip
    return fig


def histogram(values: pl.Series, *, bins: int) -> tuple[np.ndarray, np.ndarray]:
    """The edges (``bins + 1``) and counts of ``bins`` equal-width bins spanning the values'
    range, nulls left out (:func:`numpy.histogram`: a value on an inner edge counts in the bin
    to its right, the maximum in the last bin). A single value gets a range of width 1 around
    it; no value, one empty bin from 0 to 1."""
    data = values.drop_nulls().to_numpy().astype(float)
    if data.size == 0:
        return np.array([0.0, 1.0]), np.array([0])
    lo, hi = float(data.min()), float(data.max())
    if lo == hi:
        lo, hi = lo - 0.5, hi + 0.5
    counts, edges = np.histogram(data, bins=bins, range=(lo, hi))
    return edges, counts


def pending_prices(
    pending: pl.DataFrame, *, title: str = "Price recommendations waiting for a decision"
) -> go.Figure:
    """Price recommendations (``boxoffice.warehouse.pricing``'s rows): the event, the current
    and recommended price, the expected revenue at each, and until when each holds."""
    change = (pending["recommended_price_cents"] / pending["current_price_cents"] - 1).to_list()
    fig = go.Figure(
        _table(
            columnwidth=[3.6, 1.1, 1.3, 0.9, 1.6, 1.2, 1.3],
            header={"values": ["event", "price", "recommended", "change",
                               "expected revenue", "if changed", "valid until"]},
            cells={
                "values": [
                    pending["event"].fill_null(pending["event_id"]).to_list(),
                    (pending["current_price_cents"] / 100).to_list(),
                    (pending["recommended_price_cents"] / 100).to_list(),
                    change,
                    (pending["expected_revenue_current"] / 100).to_list(),
                    (pending["expected_revenue_recommended"] / 100).to_list(),
                    pending["valid_until"].cast(pl.String).to_list(),
                ],
                "format": ["", MONEY, MONEY, "+.1%", ",.0f", ",.0f", ""],
            },
        )
    )  # fmt: skip
    fig.update_layout(
        template=TEMPLATE, title=title, height=table_height(pending.height),
        margin={"t": 50, "b": 10, "l": 10, "r": 10},
    )  # fmt: skip
    return fig


def firing_alerts(alerts: pl.DataFrame) -> go.Figure:
    """The alerts firing: rule, what it fires for, since when, the value judged, and who
    acknowledged it."""
    fig = go.Figure(
        _table(
            columnwidth=[1.6, 2.6, 1.1, 1, 1.4],
            header={"values": ["alert", "for", "since", "value", "acknowledged by"]},
            cells={
                "values": [
                    alerts["rule"].to_list(),
                    alerts["scope"].to_list(),
                    alerts["since"].cast(pl.String).to_list(),
                    alerts["value"].to_list(),
                    alerts["acknowledged_by"].fill_null("").to_list(),
                ],
                "format": ["", "", "", ",.4~g", ""],
            },
        )
    )
    fig.update_layout(
        template=TEMPLATE, title="Alerts firing", height=table_height(alerts.height),
        margin={"t": 50, "b": 10, "l": 10, "r": 10},
    )  # fmt: skip
    return fig


def in_currency(fig: go.Figure, currency: str) -> go.Figure:
    """``fig`` with its amounts labelled in ``currency`` (an ISO 4217 code): each money tile's
    number prefixed with it (every tile's number in one size), and the title of a chart of
    amounts (it names revenue, a price or a value) ending in it."""
    for trace in fig.data:
        if isinstance(trace, go.Indicator):  # one size, or plotly shrinks the longer numbers
            trace.number.font.size, trace.delta.font.size = 22, 13
            trace.title.font.size = 13
            if trace.number.valueformat == MONEY:
                trace.number.prefix = f"{currency} "
    title = fig.layout.title.text or ""
    if any(word in title.lower() for word in ("revenue", "price", "value", "events")):
        named = f"{title[:-1]}, {currency})" if title.endswith(")") else f"{title} ({currency})"
        fig.update_layout(title_text=named)
    return fig
