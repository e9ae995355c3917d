"""Everything the ``customer-value`` task computes for one tenant, from its customer summary:
BG/NBD and Gamma-Gamma fits, P(alive), expected purchases, expected spend, 12-month CLV and
churn risk — one pure function, so a notebook, a dashboard or a test gets the same numbers."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from boxoffice.customers.bgnbd import BGNBDFit, expected_purchases, fit_bgnbd, prob_alive
from boxoffice.customers.churn import churn_risk
from boxoffice.customers.clv import customer_lifetime_value
from boxoffice.customers.gamma_gamma import GammaGammaFit, fit_gamma_gamma
from boxoffice.frames import require

HORIZON_DAYS = 90


@dataclass(frozen=True)
class CustomerValue:
    values: pl.DataFrame  # one row per customer: the analytics.customer_value columns
    models: pl.DataFrame  # one row per model parameter: the analytics.customer_models columns
    bgnbd: BGNBDFit
    gamma_gamma: GammaGammaFit


def value_customers(
    summary: pl.DataFrame,
    *,
    months: int = 12,
    monthly_discount: float = 0.01,
    horizon_days: int = HORIZON_DAYS,
) -> CustomerValue:
    """Fit both models on a daily summary (``customer_key``, ``frequency``, ``recency``, ``T``,
    ``monetary_value``, ``days_since_last``) and score every customer.

    ``expected_purchases_90d`` is E[purchases in the next ``horizon_days`` days]; ``clv_12m``
    the discounted expected spend over ``months`` months (:mod:`boxoffice.customers.clv`);
    ``churn_risk`` and ``recency_risk`` as in :mod:`boxoffice.customers.churn`.
    """
    require(
        summary, ("customer_key", "frequency", "recency", "T", "monetary_value", "days_since_last")
    )
    bgnbd = fit_bgnbd(summary)
    gamma_gamma = fit_gamma_gamma(summary)
    clv = customer_lifetime_value(
        bgnbd, gamma_gamma, summary, months=months, monthly_discount=monthly_discount
    )
    values = (
        summary.select("customer_key", "days_since_last")
        .join(prob_alive(bgnbd, summary), on="customer_key")
        .join(
            expected_purchases(bgnbd, summary, horizon_days).rename(
                {"expected_purchases": "expected_purchases_90d"}
            ),
            on="customer_key",
        )
        .join(
            clv.select("customer_key", "expected_spend", pl.col("clv").alias("clv_12m")),
            on="customer_key",
        )
    )
    values = churn_risk(values).drop("days_since_last")
    models = pl.concat(
        [
            fit.summary().select(
                pl.lit(name).alias("model"),
                "param",
                "estimate",
                pl.col("std_error"),
                pl.lit(fit.log_likelihood).alias("log_likelihood"),
                pl.lit(fit.n_customers).alias("n_customers"),
                pl.lit(fit.converged).alias("converged"),
            )
            for name, fit in (("bgnbd", bgnbd), ("gamma_gamma", gamma_gamma))
        ]
    )
    return CustomerValue(values, models, bgnbd, gamma_gamma)
