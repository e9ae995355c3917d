"""Customer lifetime value over a finite horizon, from a BG/NBD and a Gamma-Gamma model.

As ``lifetimes.utils._customer_lifetime_value`` (Davidson-Pilon et al.), the value of customer i
over ``months`` months, discounted monthly at rate d, is::

    CLV_i = Σ_{k=1..months} (E[Y_i(k·m)] − E[Y_i((k−1)·m)]) · E[M_i] / (1 + d)^k

where ``m`` is the number of periods per month, ``E[Y_i(t)]`` the expected repeat purchases in
the next t periods given the customer's history (BG/NBD, Fader, Hardie & Lee 2005, eq. 10;
:func:`boxoffice.customers.bgnbd.expected_purchases`) and ``E[M_i]`` the expected value per
purchase (Gamma-Gamma, Fader & Hardie 2013; :func:`boxoffice.customers.gamma_gamma.
expected_spend`). Purchases of month k are discounted as if made at the month's end. With
``d = 0`` the sum telescopes to ``E[Y_i(months·m)] · E[M_i]``.

Using the two models together assumes spend is independent of the purchase process (Fader,
Hardie & Lee 2005, "RFM and CLV: Using Iso-Value Curves for Customer Base Analysis", *JMR*
42(4)); see ``GammaGammaFit.frequency_monetary_correlation``.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from boxoffice.customers.bgnbd import BGNBDFit, conditional_expected, rfm_arrays
from boxoffice.customers.gamma_gamma import GammaGammaFit, expected_spend_values, spend_arrays
from boxoffice.frames import require

__all__ = ["DAYS_PER_MONTH", "clv_by_month", "customer_lifetime_value"]

DAYS_PER_MONTH = 365.25 / 12  # 30.4375


def _check(months: int, monthly_discount: float, periods_per_month: float) -> None:
    if isinstance(months, bool) or not isinstance(months, int | np.integer) or months < 1:
        raise ValueError(f"months must be an integer ≥ 1, got {months!r}")
    if not 0 <= monthly_discount < 1:
        raise ValueError(f"monthly_discount must be in [0, 1), got {monthly_discount}")
    if not (np.isfinite(periods_per_month) and periods_per_month > 0):
        raise ValueError(f"periods_per_month must be positive, got {periods_per_month}")


def _monthly(
    bgnbd: BGNBDFit,
    gamma_gamma: GammaGammaFit,
    summary: pl.DataFrame,
    customer_col: str,
    months: int,
    monthly_discount: float,
    periods_per_month: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Expected purchases per month (n × months), discount factors (months,), E[M] (n,)."""
    _check(months, monthly_discount, periods_per_month)
    require(summary, [customer_col])
    x, tx, T = rfm_arrays(summary)
    _, m = spend_arrays(summary)
    spend = expected_spend_values(gamma_gamma, x, m)
    horizons = periods_per_month * np.arange(1, months + 1)
    cumulative = conditional_expected(bgnbd.params, x, tx, T, horizons)
    per_month = np.diff(cumulative, axis=1, prepend=0.0)
    discount = (1.0 + monthly_discount) ** -np.arange(1, months + 1, dtype=float)
    return per_month, discount, spend


def customer_lifetime_value(
    bgnbd: BGNBDFit,
    gamma_gamma: GammaGammaFit,
    summary: pl.DataFrame,
    *,
    months: int = 12,
    monthly_discount: float = 0.01,
    periods_per_month: float = DAYS_PER_MONTH,
    customer_col: str = "customer_key",
) -> pl.DataFrame:
    """Discounted expected value of each customer's purchases over the next ``months`` months.

    ``CLV = Σ_{k=1..months} (E[Y(k·m)] − E[Y((k−1)·m)]) · E[M] / (1 + d)^k`` with
    ``m = periods_per_month`` and ``d = monthly_discount`` (see the module docstring).

    Parameters
    ----------
    bgnbd, gamma_gamma
        The purchase and spend models, in the summary's time unit and currency.
    summary
        ``customer_col``, ``frequency``, ``recency``, ``T``, ``monetary_value``.
    months
        Horizon in months (≥ 1).
    monthly_discount
        Discount rate per month, in [0, 1).
    periods_per_month
        Periods in a month: 30.4375 for days (365.25 / 12), 30.4375 / 7 for weeks.

    Returns
    -------
    polars.DataFrame
        One row per customer in the order of ``summary``: ``customer_col``,
        ``expected_purchases`` (undiscounted, over the whole horizon), ``expected_spend``
        (per purchase) and ``clv`` (discounted).
    """
    per_month, discount, spend = _monthly(
        bgnbd, gamma_gamma, summary, customer_col, months, monthly_discount, periods_per_month
    )
    return summary.select(customer_col).with_columns(
        pl.Series("expected_purchases", per_month.sum(axis=1)),
        pl.Series("expected_spend", spend),
        pl.Series("clv", (per_month @ discount) * spend),
    )


def clv_by_month(
    bgnbd: BGNBDFit,
    gamma_gamma: GammaGammaFit,
    summary: pl.DataFrame,
    *,
    months: int = 12,
    monthly_discount: float = 0.01,
    periods_per_month: float = DAYS_PER_MONTH,
    customer_col: str = "customer_key",
) -> pl.DataFrame:
    """The terms of :func:`customer_lifetime_value`, one row per customer and month.

    Returns
    -------
    polars.DataFrame
        ``customer_col``, ``month`` (1..months), ``expected_purchases`` (in that month) and
        ``discounted_value`` = expected_purchases · E[M] / (1 + d)^month; per customer the
        ``discounted_value`` sum to the ``clv``. Rows follow ``summary``, months ascending.
    """
    per_month, discount, spend = _monthly(
        bgnbd, gamma_gamma, summary, customer_col, months, monthly_discount, periods_per_month
    )
    n = per_month.shape[0]
    ids = summary.get_column(customer_col)
    return pl.DataFrame(
        {
            customer_col: ids.gather(np.repeat(np.arange(n), months)),
            "month": np.tile(np.arange(1, months + 1, dtype=np.int32), n),
            "expected_purchases": per_month.ravel(),
            "discounted_value": (per_month * discount * spend[:, None]).ravel(),
        }
    )
