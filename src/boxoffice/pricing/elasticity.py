"""Price elasticity of ticket demand: log-log regression of tickets sold on price, within events.

Observations (:func:`price_observations`) are event-days with a sale: ``q`` = the event's
tickets sold that local day (every ticket type and channel), ``p`` = that day's unit price of a
standard ticket (the list price the platform charged), ``s`` = the share of its capacity sold
before the day. Days when the event was already 90 % sold at the start are left out —
capacity, not price, limited their sales — and so are days without a sale, whose price is not
observed.

Model, per category (and per venue and category where the data allows; Wooldridge 2010,
*Econometric Analysis of Cross Section and Panel Data*, §10.5, the fixed-effects estimator)::

    log q_{e,d} = α_e + ε · log p_{e,d} + Σ_k β_k 1[days to go in bin k]
                  + Σ_j δ_j 1[s_{e,d} in bin j] + Σ_w γ_w 1[weekday w] + u

The sell-through bins (tenths of capacity, :data:`SOLD_BINS`) are there because platforms
price by sell-through: a rule such as "+10 % once 60 % sold" raises prices exactly when an
event sells better than its own average, which makes demand look less elastic than it is
(on the synthetic world, whose price rules are of that kind, estimates without them came
out at 0.84 of the realized elasticity on daily data; on event-weeks, at 1.5 of it with a
mean absolute error of 0.45; with them, at 1.04 with an error of 0.18 — bench/README.md).
Given the sell-through a rule reacts to, what is left of the price's movement is the
platform's own tests and changes, which is what identifies ``ε``.

``α_e`` absorbs each event's popularity (so popular events being dearer does not bias ``ε``),
the days-to-event bins its booking curve, the weekdays the weekly rhythm of demand. The event
effects are removed by demeaning every variable within the event, then ordinary least
squares (statsmodels) gives ``ε`` with a standard error clustered by event (robust to serial
correlation within an event; Cameron & Miller 2015). ``ε`` is d log q / d log p: −1.2 means 1 %
dearer sells 1.2 % fewer tickets.

When the prices of a group never move within an event the elasticity is **not identified**:
the row says so (``identified = false`` with the reason) instead of inventing a number.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from boxoffice.frames import require

DAY_BINS = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 22, 31, 46, 61, 91]
EVENT_COLUMNS = ("event_id", "venue_id", "category", "on_sale_at", "start_date", "capacity")
FULL = 0.9  # an event this sold at the start of a day is capacity-bound
SOLD_BINS = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]  # sell-through at the start of the day
MIN_PRICE_SPREAD = 1e-3  # within-event standard deviation of log price below which nothing moves


def price_observations(sales: pl.DataFrame, events: pl.DataFrame) -> pl.DataFrame:
    """One row per event and local day with a sale before the event: ``event_id``,
    ``venue_id``, ``category``, ``local_date``, ``tickets``, ``price`` (cents, standard
    ticket), ``days_to_event``, ``weekday`` (1 = Monday), ``sold_share`` (of capacity, sold
    before the day) — see the module docstring.

    ``sales``: ``local_date``, ``event_id``, ``ticket_type``, ``tickets_sold``,
    ``gross_cents`` (one row per event, day and ticket type, channels summed);
    ``events``: ``event_id``, ``venue_id``, ``category``, ``on_sale_at``, ``start_date``,
    ``capacity``."""
    require(
        sales, ("local_date", "event_id", "ticket_type", "tickets_sold", "gross_cents"), "sales"
    )
    require(events, EVENT_COLUMNS, "events")
    daily = (
        sales.group_by("event_id", "local_date")
        .agg(
            pl.col("tickets_sold").sum().alias("tickets"),
            (
                pl.col("gross_cents").filter(pl.col("ticket_type") == "standard").sum()
                / pl.col("tickets_sold").filter(pl.col("ticket_type") == "standard").sum()
            ).alias("price"),
        )
        .sort("event_id", "local_date")
        .with_columns(
            (pl.col("tickets").cum_sum().over("event_id") - pl.col("tickets")).alias("before")
        )
    )
    return (
        daily.join(events.select(EVENT_COLUMNS), on="event_id")
        .with_columns(
            (pl.col("start_date") - pl.col("local_date")).dt.total_days().alias("days_to_event"),
            pl.col("local_date").dt.weekday().alias("weekday"),
            (pl.col("before") / pl.col("capacity")).alias("sold_share"),
        )
        .filter(
            (pl.col("tickets") > 0)
            & pl.col("price").is_finite()
            & (pl.col("price") > 0)
            & (pl.col("days_to_event") >= 0)
            & (pl.col("before") < FULL * pl.col("capacity"))
        )
        .select("event_id", "venue_id", "category", "local_date", "tickets", "price",
                "days_to_event", "weekday", "sold_share")
    )  # fmt: skip


def fit_elasticity(obs: pl.DataFrame, *, min_obs: int = 50, min_events: int = 5) -> dict:
    """The fixed-effects log-log fit of one group of :func:`price_observations`: a dict of
    ``elasticity``, ``std_error``, ``ci_low``, ``ci_high`` (95 %), ``n_obs``, ``n_events``,
    ``identified`` and ``reason`` (why not, when not)."""
    import statsmodels.api as sm

    n_events = obs["event_id"].n_unique()
    out = {"n_obs": obs.height, "n_events": n_events}
    none = dict.fromkeys(("elasticity", "std_error", "ci_low", "ci_high"))
    if obs.height < min_obs or n_events < min_events:
        reason = f"too little data: {obs.height} event-days of {n_events} events"
        reason += f" (needs {min_obs} of {min_events})"
        return {**out, **none, "identified": False, "reason": reason}
    # one dummy per bin present, less the first of each (the reference)
    controls = {
        "days": np.digitize(obs["days_to_event"].to_numpy(), DAY_BINS[1:]),
        "sold": np.digitize(obs["sold_share"].to_numpy(), SOLD_BINS),
        "weekday": obs["weekday"].to_numpy(),
    }
    frame = obs.select(
        "event_id",
        pl.col("tickets").log().alias("y"),
        pl.col("price").log().alias("log_price"),
        *(
            pl.Series(f"{name}_{k}", (values == k).astype(float))
            for name, values in controls.items()
            for k in np.unique(values)[1:]
        ),
    )
    within = frame.with_columns(pl.exclude("event_id") - pl.exclude("event_id").mean().over(
        "event_id"))  # fmt: skip
    spread = within["log_price"].std()
    if spread is None or spread < MIN_PRICE_SPREAD:
        return {**out, **none, "identified": False, "reason": "no price variation within events"}
    regressors = [c for c in within.columns if c not in ("event_id", "y")]
    x = within.select(regressors).to_numpy()
    keep = np.abs(x).sum(axis=0) > 1e-12  # a bin or weekday only ever within single events
    groups = within["event_id"].cast(pl.Categorical).to_physical().to_numpy()
    fit = sm.OLS(within["y"].to_numpy(), x[:, keep]).fit(
        cov_type="cluster", cov_kwds={"groups": groups}
    )
    elasticity, se = float(fit.params[0]), float(fit.bse[0])
    return {
        **out,
        "elasticity": elasticity,
        "std_error": se,
        "ci_low": elasticity - 1.959963984540054 * se,
        "ci_high": elasticity + 1.959963984540054 * se,
        "identified": True,
        "reason": None,
    }


def estimate_elasticities(
    obs: pl.DataFrame, *, min_obs: int = 50, min_events: int = 5
) -> pl.DataFrame:
    """:func:`fit_elasticity` per category (``venue_id`` null) and per venue and category:
    one row per group with
    ``scope`` (``"category"`` or ``"venue"``), ``category``, ``venue_id`` and the fit's
    fields. Groups too thin or without price variation are listed, not identified."""
    require(obs, ("event_id", "venue_id", "category", "tickets", "price", "days_to_event",
                  "weekday", "sold_share"), "observations")  # fmt: skip
    rows = []
    for (category,), group in sorted(obs.partition_by("category", as_dict=True).items()):
        fit = fit_elasticity(group, min_obs=min_obs, min_events=min_events)
        rows.append({"scope": "category", "category": category, "venue_id": None, **fit})
        for (venue,), at_venue in sorted(group.partition_by("venue_id", as_dict=True).items()):
            fit = fit_elasticity(at_venue, min_obs=min_obs, min_events=min_events)
            rows.append({"scope": "venue", "category": category, "venue_id": venue, **fit})
    schema = {
        "scope": pl.String, "category": pl.String, "venue_id": pl.String,
        "n_obs": pl.Int64, "n_events": pl.Int64, "elasticity": pl.Float64,
        "std_error": pl.Float64, "ci_low": pl.Float64, "ci_high": pl.Float64,
        "identified": pl.Boolean, "reason": pl.String,
    }  # fmt: skip
    return pl.DataFrame(rows, schema=schema)
