"""Bounded price recommendations: the price that maximizes expected revenue over the remaining
sales window, within hard limits, only when the evidence is strong enough.

For an upcoming event with ``C = capacity − held`` seats left, current price ``p₀`` and a
pickup forecast of its final tickets at that price (:mod:`boxoffice.forecast.booking_curve`),
the expected further demand at ``p₀`` is ``D₀ = max(forecast − held, 0)``. With a constant
price elasticity ``ε`` (:mod:`boxoffice.pricing.elasticity`) demand at price ``p`` is
``D(p) = D₀ (p / p₀)^ε`` and the expected revenue of the window

    R(p) = p · min(D(p), C)

(Talluri & van Ryzin 2004, *The Theory and Practice of Revenue Management*, §5.2: a single
price for the remaining horizon, demand capped by capacity). ``R`` is maximized over the
prices allowed by the rules (:class:`PriceRules`): between the floor and the cap (fractions of
the event's base price), at most ``max_step`` away from ``p₀``, in whole steps of
``round_cents``. When ``ε < −1`` the best price sells the remaining seats exactly (or is the
lowest allowed), when ``ε ≥ −1`` it is the highest allowed; the grid search finds either
without special cases. Ties go to the price nearest ``p₀``.

A recommendation is made only with **high confidence**: an identified elasticity whose 95 %
interval lies below zero and whose standard error is at most ``max_relative_se`` of it, a
pickup forecast from at least ``min_pool_events`` past events, seats left, and a change of at
least ``min_change``. Otherwise the row says why not. A current price outside the floor and
cap moves toward them by at most one step.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import polars as pl

from boxoffice.formats import money
from boxoffice.frames import require


@dataclass(frozen=True)
class PriceRules:
    """Hard limits of every recommendation (fractions of the base price and of ``p₀``)."""

    floor: float = 0.70
    cap: float = 1.50
    max_step: float = 0.15
    min_change: float = 0.01
    round_cents: int = 50
    max_relative_se: float = 0.5
    min_pool_events: int = 3

    def __post_init__(self) -> None:
        if not 0 < self.floor <= self.cap:
            raise ValueError(f"need 0 < floor ≤ cap, got floor {self.floor} and cap {self.cap}")
        if not 0 < self.max_step < 1:
            raise ValueError(f"max_step must be in (0, 1), got {self.max_step}")
        if self.round_cents < 1 or self.min_change < 0 or self.max_relative_se <= 0:
            raise ValueError("round_cents ≥ 1, min_change ≥ 0 and max_relative_se > 0 are needed")


def allowed_range(current: int, base: int, rules: PriceRules) -> tuple[int, int]:
    """The lowest and highest price (cents, multiples of ``round_cents``) a recommendation may
    set: within ``[floor·base, cap·base]`` and ``p₀ (1 ± max_step)``; when ``p₀`` lies outside
    the band, the step toward it."""
    r = rules.round_cents
    step_lo, step_hi = current * (1 - rules.max_step), current * (1 + rules.max_step)
    lo, hi = max(rules.floor * base, step_lo), min(rules.cap * base, step_hi)
    if lo > hi:  # p₀ is outside the band: one step toward it, rounded back toward p₀
        if current > rules.cap * base:
            p = math.ceil(step_lo / r - 1e-9) * r
            p = p if p <= current else math.ceil(step_lo - 1e-9)
        else:
            p = math.floor(step_hi / r + 1e-9) * r
            p = p if p >= current else math.floor(step_hi + 1e-9)
        return int(p), int(p)
    lo_r, hi_r = math.ceil(lo / r - 1e-9) * r, math.floor(hi / r + 1e-9) * r
    if lo_r > hi_r:  # no whole step inside: the cent nearest p₀, or none (hold)
        nearest = min(max(current, math.ceil(lo - 1e-9)), math.floor(hi + 1e-9))
        lo_r = hi_r = nearest if lo - 1e-9 <= nearest <= hi + 1e-9 else current
    return int(lo_r), int(hi_r)


def best_price(
    current: int,
    remaining_demand: float,
    seats: float,
    elasticity: float,
    lo: int,
    hi: int,
    step: int,
) -> int:
    """The price of ``[lo, hi]`` (every ``step`` cents, and ``current`` when inside) with the
    largest expected revenue ``p · min(D₀ (p/p₀)^ε, C)``; ties to the price nearest
    ``current``."""
    candidates = set(range(lo, hi + 1, step)) | {lo, hi}
    if lo <= current <= hi:
        candidates.add(current)

    def revenue(p: int) -> float:
        return p * min(remaining_demand * (p / current) ** elasticity, seats)

    return max(sorted(candidates), key=lambda p: (round(revenue(p), 6), -abs(p - current)))


def recommend_prices(events: pl.DataFrame, rules: PriceRules | None = None) -> pl.DataFrame:
    """One row per event of ``events`` — ``event_id``, ``current_price_cents``,
    ``base_price_cents``, ``capacity``, ``held``, ``forecast``, ``pool_events``,
    ``elasticity``, ``elasticity_se``, ``elasticity_ci_high`` (nulls where unknown) — with
    ``floor_cents``, ``cap_cents``, ``recommended_price_cents`` (null when none),
    ``expected_tickets_current``, ``expected_tickets_recommended``,
    ``expected_revenue_current``, ``expected_revenue_recommended`` (cents) and ``reason``."""
    rules = rules or PriceRules()
    require(events, ("event_id", "current_price_cents", "base_price_cents", "capacity", "held",
                     "forecast", "pool_events", "elasticity", "elasticity_se",
                     "elasticity_ci_high"), "events")  # fmt: skip
    rows = [_recommend(row, rules) for row in events.iter_rows(named=True)]
    schema = {
        "event_id": pl.String, "current_price_cents": pl.Int64, "floor_cents": pl.Int64,
        "cap_cents": pl.Int64, "recommended_price_cents": pl.Int64,
        "expected_tickets_current": pl.Float64, "expected_tickets_recommended": pl.Float64,
        "expected_revenue_current": pl.Float64, "expected_revenue_recommended": pl.Float64,
        "reason": pl.String,
    }  # fmt: skip
    return pl.DataFrame(rows, schema=schema, orient="row")


def _doubt(row: dict, rules: PriceRules) -> str | None:
    """Why there is not enough confidence to recommend, or None."""
    eps, se, high = row["elasticity"], row["elasticity_se"], row["elasticity_ci_high"]
    if row["capacity"] - row["held"] <= 0:
        return "sold out"
    if row["forecast"] is None or (row["pool_events"] or 0) < rules.min_pool_events:
        return f"no forecast from at least {rules.min_pool_events} comparable past events"
    if eps is None or se is None:
        return "elasticity not identified"
    if high is None or high >= 0:
        return f"elasticity {eps:.2f} not clearly below zero (95 % interval up to {high:.2f})"
    if se > rules.max_relative_se * abs(eps):
        return f"elasticity {eps:.2f} too uncertain (standard error {se:.2f})"
    return None


def _recommend(row: dict, rules: PriceRules) -> dict:
    current, base = int(row["current_price_cents"]), int(row["base_price_cents"])
    out = {
        "event_id": row["event_id"],
        "current_price_cents": current,
        "floor_cents": round(rules.floor * base),
        "cap_cents": round(rules.cap * base),
        "recommended_price_cents": None,
        "expected_tickets_current": None,
        "expected_tickets_recommended": None,
        "expected_revenue_current": None,
        "expected_revenue_recommended": None,
    }
    if current <= 0 or base <= 0:
        return {**out, "reason": "no positive current and base price"}
    if doubt := _doubt(row, rules):
        return {**out, "reason": f"no recommendation: {doubt}"}
    seats = float(row["capacity"] - row["held"])
    demand = max(float(row["forecast"]) - float(row["held"]), 0.0)
    eps = float(row["elasticity"])
    lo, hi = allowed_range(current, base, rules)
    price = best_price(current, demand, seats, eps, lo, hi, rules.round_cents)

    def tickets(p: int) -> float:
        return min(demand * (p / current) ** eps, seats)

    out |= {
        "expected_tickets_current": tickets(current),
        "expected_tickets_recommended": tickets(price),
        "expected_revenue_current": current * tickets(current),
        "expected_revenue_recommended": price * tickets(price),
    }
    if abs(price - current) < rules.min_change * current:
        return {**out, "reason": f"hold at {money(current)}: no better price within the rules"}
    verb = "raise" if price > current else "lower"
    reason = (
        f"{verb} {money(current)} → {money(price)}: {demand:,.0f} more tickets expected"
        f" for {seats:,.0f} seats left at elasticity {eps:.2f} ± {row['elasticity_se']:.2f};"
        f" expected {tickets(price):,.0f} tickets and {money(price * tickets(price))}"
        f" against {tickets(current):,.0f} and {money(current * tickets(current))}"
        f" (allowed {money(lo)}–{money(hi)})"
    )
    return {**out, "recommended_price_cents": price, "reason": reason}
