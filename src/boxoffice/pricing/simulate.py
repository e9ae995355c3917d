"""Replay a season of events under a pricing policy, against static prices, where the true
demand is known (the synthetic world's, or any demand model a test chooses).

Each event has a capacity, a base price and, for every selling day ``t`` (``days_to_event``
counting down), the tickets ``λ_t`` it would sell at its base price. At price ``p`` it sells
``λ_t (p / base)^ε`` in expectation (ε the **true** elasticity), drawn as Poisson and capped by
the seats left — the demand model of :mod:`boxoffice.pricing.recommend`, now with the truth
behind it.

* **static**: the base price all season;
* **policy**: every ``review_days`` the recommender
  (:func:`~boxoffice.pricing.recommend.recommend_prices`) sees the current price, the seats
  left, the expected remaining demand at the current price (an oracle forecast: the true
  ``Σ λ`` still to come, at that price) and the **estimated**
  elasticity with its standard error (what the pipeline would have), and its price holds until
  the next review — so the replay measures what the elasticity estimate and the rules are worth.

Both policies see the same random draws (common random numbers), so the difference between
them is the policy's and not the dice's. Reported: revenue and sell-through of both, the uplift,
and how often a recommendation sat on the floor, the cap or a full step (the bounds bound).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from boxoffice.frames import require
from boxoffice.pricing.recommend import PriceRules, recommend_prices


@dataclass(frozen=True)
class Replay:
    """``events``: per event ``revenue_static``, ``revenue_policy``, ``sold_static``,
    ``sold_policy``, ``capacity``; ``summary``: the totals and rates (one row)."""

    events: pl.DataFrame
    summary: pl.DataFrame


def replay_season(
    demand: pl.DataFrame,
    events: pl.DataFrame,
    *,
    true_elasticity: dict[str, float],
    estimated: dict[str, tuple[float, float]],
    rules: PriceRules | None = None,
    review_days: int = 7,
    seed: int = 0,
) -> Replay:
    """Replay every event of ``events`` (``event_id``, ``category``, ``capacity``,
    ``base_price_cents``) over its ``demand`` rows (``event_id``, ``days_to_event``,
    ``expected_at_base``); ``true_elasticity`` and ``estimated`` (elasticity, standard error)
    per category."""
    rules = rules or PriceRules()
    require(demand, ("event_id", "days_to_event", "expected_at_base"), "demand")
    require(events, ("event_id", "category", "capacity", "base_price_cents"), "events")
    if review_days < 1:
        raise ValueError(f"review_days must be at least 1, got {review_days}")
    if missing := sorted(set(events["category"]) - set(true_elasticity)):
        raise ValueError(f"no true elasticity for {missing}")
    rng = np.random.default_rng(seed)
    by_event = {
        k[0]: g.sort("days_to_event", descending=True)
        for k, g in demand.partition_by("event_id", as_dict=True).items()
    }
    rows, decisions = [], []
    for ev in events.iter_rows(named=True):
        curve = by_event.get(ev["event_id"])
        if curve is None:
            continue
        lam = curve["expected_at_base"].to_numpy().astype(float)
        uniforms = rng.random(lam.size)  # common random numbers for both policies
        eps = true_elasticity[ev["category"]]
        static = _sell(lam, np.full(lam.size, float(ev["base_price_cents"])), eps, ev, uniforms)
        policy, made = _policy(
            lam, eps, ev, estimated.get(ev["category"]), rules, review_days, uniforms
        )
        decisions += made
        rows.append(
            {
                "event_id": ev["event_id"],
                "capacity": ev["capacity"],
                "revenue_static": static[0],
                "sold_static": static[1],
                "revenue_policy": policy[0],
                "sold_policy": policy[1],
            }
        )
    per_event = pl.DataFrame(
        rows,
        schema={
            "event_id": pl.String,
            "capacity": pl.Int64,
            "revenue_static": pl.Float64,
            "sold_static": pl.Int64,
            "revenue_policy": pl.Float64,
            "sold_policy": pl.Int64,
        },
    )
    return Replay(per_event, _summary(per_event, decisions))


def _poisson(mean: float, u: float) -> int:
    """The Poisson(mean) quantile of ``u`` (inverse transform: the same ``u`` gives more
    tickets at a larger mean, so two policies differ only by their prices)."""
    if mean <= 0:
        return 0
    k, p = 0, np.exp(-mean)
    cumulative = p
    while cumulative < u and k < 100_000:
        k += 1
        p *= mean / k
        cumulative += p
    return k


def _sell(lam, prices, eps, ev, uniforms) -> tuple[float, int]:
    left, revenue = int(ev["capacity"]), 0.0
    for t in range(lam.size):
        q = min(_poisson(lam[t] * (prices[t] / ev["base_price_cents"]) ** eps, uniforms[t]), left)
        left -= q
        revenue += q * prices[t]
    return revenue, int(ev["capacity"]) - left


def _policy(lam, eps, ev, estimate, rules, review_days, uniforms):
    """Revenue and tickets sold under the policy (as :func:`_sell`, with the price reviewed
    every ``review_days`` from the seats left), and a record of each review's outcome."""
    base = int(ev["base_price_cents"])
    made, revenue = [], 0.0
    price, left = base, int(ev["capacity"])
    for t in range(lam.size):
        if t % review_days == 0 and estimate is not None and left > 0:
            est, se = estimate
            remaining = float((lam[t:] * (price / base) ** eps).sum())  # oracle, at the price
            row = pl.DataFrame(
                [
                    {
                        "event_id": ev["event_id"],
                        "current_price_cents": price,
                        "base_price_cents": base,
                        "capacity": ev["capacity"],
                        "held": float(ev["capacity"] - left),
                        "forecast": ev["capacity"] - left + remaining,
                        "pool_events": rules.min_pool_events,
                        "elasticity": est,
                        "elasticity_se": se,
                        "elasticity_ci_high": est + 1.96 * se,
                    }
                ]
            )
            rec = recommend_prices(row, rules).row(0, named=True)
            if rec["recommended_price_cents"] is not None:
                new = rec["recommended_price_cents"]
                made.append(
                    {
                        "changed": True,
                        "at_floor": new <= round(rules.floor * base),
                        "at_cap": new >= round(rules.cap * base),
                        "at_step": abs(new - price) >= rules.max_step * price - rules.round_cents,
                    }
                )
                price = new
            else:
                made.append({"changed": False})
        q = min(_poisson(lam[t] * (price / base) ** eps, uniforms[t]), left)
        left -= q
        revenue += q * price
    return (revenue, int(ev["capacity"]) - left), made


def _summary(per_event: pl.DataFrame, decisions: list[dict]) -> pl.DataFrame:
    totals = per_event.select(
        pl.col("revenue_static", "revenue_policy", "sold_static", "sold_policy", "capacity").sum()
    ).row(0, named=True)
    changes = [d for d in decisions if d["changed"]]

    def share(key: str) -> float | None:
        return sum(d[key] for d in changes) / len(changes) if changes else None

    return pl.DataFrame(
        [
            {
                "events": per_event.height,
                "revenue_static": totals["revenue_static"],
                "revenue_policy": totals["revenue_policy"],
                "revenue_uplift": totals["revenue_policy"] / totals["revenue_static"] - 1
                if totals["revenue_static"]
                else None,
                "sell_through_static": totals["sold_static"] / totals["capacity"],
                "sell_through_policy": totals["sold_policy"] / totals["capacity"],
                "reviews": len(decisions),
                "price_changes": len(changes),
                "share_at_floor": share("at_floor"),
                "share_at_cap": share("at_cap"),
                "share_at_step": share("at_step"),
            }
        ]
    )
