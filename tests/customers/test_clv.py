"""CLV: a two-customer, two-month example against an independent computation, invariants
(non-negative, falling with the discount, telescoping without discount) and validation."""

from __future__ import annotations

import itertools
import math

import numpy as np
import polars as pl
import pytest
from scipy import integrate
from scipy.special import betaln

from boxoffice.customers.bgnbd import BGNBDFit, expected_purchases
from boxoffice.customers.clv import DAYS_PER_MONTH, clv_by_month, customer_lifetime_value
from boxoffice.customers.gamma_gamma import GammaGammaFit

R, ALPHA, A, B = 0.55, 110.0, 0.85, 2.6
P, Q, GAMMA = 6.0, 4.0, 75.0
BGNBD = BGNBDFit.from_params(r=R, alpha=ALPHA, a=A, b=B)
GG = GammaGammaFit.from_params(p=P, q=Q, gamma=GAMMA)

SUMMARY = pl.DataFrame(
    {
        "customer_key": ["new", "regular"],
        "frequency": [0, 3],
        "recency": [0.0, 150.0],
        "T": [100.0, 200.0],
        "monetary_value": [0.0, 120.0],
    }
)


def expected_by_quadrature(x: int, tx: float, T: float, t: float) -> float:
    """E[purchases in the next t days]: P(alive) × E[(1 − e^{−λpt}) / p] over the posterior
    λ ~ Gamma(r+x, α+T), p ~ Beta(a, b+x), λ integrated in closed form, p numerically."""
    p_alive = 1.0 if x == 0 else 1 / (1 + A / (B + x - 1) * ((ALPHA + T) / (ALPHA + tx)) ** (R + x))

    def integrand(p):
        return -math.expm1(-(R + x) * math.log1p(p * t / (ALPHA + T))) / p if p else 0.0

    value, _ = integrate.quad(
        integrand, 0, 1, weight="alg", wvar=(A - 1, B + x - 1), epsabs=0, epsrel=1e-12
    )
    return p_alive * value / math.exp(betaln(A, B + x))


def test_two_customers_two_months_by_hand():
    m, d = DAYS_PER_MONTH, 0.01
    spend = {"new": P * GAMMA / (Q - 1), "regular": P * (GAMMA + 120.0 * 3) / (P * 3 + Q - 1)}
    assert spend == pytest.approx({"new": 150.0, "regular": 124.28571428571429})
    expected = {}
    for key, x, tx, T in [("new", 0, 0.0, 100.0), ("regular", 3, 150.0, 200.0)]:
        month1 = expected_by_quadrature(x, tx, T, m)
        month2 = expected_by_quadrature(x, tx, T, 2 * m) - month1
        expected[key] = spend[key] * (month1 / (1 + d) + month2 / (1 + d) ** 2)

    got = customer_lifetime_value(BGNBD, GG, SUMMARY, months=2, monthly_discount=d)
    assert got.columns == ["customer_key", "expected_purchases", "expected_spend", "clv"]
    assert got["customer_key"].to_list() == ["new", "regular"]
    np.testing.assert_allclose(got["expected_spend"], [spend["new"], spend["regular"]], rtol=1e-14)
    np.testing.assert_allclose(got["clv"], [expected["new"], expected["regular"]], rtol=1e-8)


def test_zero_discount_telescopes():
    months = 12
    got = customer_lifetime_value(BGNBD, GG, SUMMARY, months=months, monthly_discount=0.0)
    horizon = expected_purchases(BGNBD, SUMMARY, months * DAYS_PER_MONTH)["expected_purchases"]
    np.testing.assert_allclose(got["expected_purchases"], horizon, rtol=1e-12)
    np.testing.assert_allclose(got["clv"], horizon * got["expected_spend"], rtol=1e-12)


def test_clv_is_positive_and_falls_with_the_discount():
    values = [
        customer_lifetime_value(BGNBD, GG, SUMMARY, monthly_discount=d)["clv"].to_numpy()
        for d in (0.0, 0.01, 0.05, 0.2)
    ]
    assert all((v > 0).all() for v in values)
    assert all((later < earlier).all() for earlier, later in itertools.pairwise(values))


def test_longer_horizon_is_worth_more():
    short = customer_lifetime_value(BGNBD, GG, SUMMARY, months=6)["clv"].to_numpy()
    long = customer_lifetime_value(BGNBD, GG, SUMMARY, months=24)["clv"].to_numpy()
    assert (long > short).all()


def test_weeks_match_days():
    weeks = SUMMARY.with_columns(pl.col("recency") / 7, pl.col("T") / 7)
    in_weeks = BGNBDFit.from_params(r=R, alpha=ALPHA / 7, a=A, b=B)
    got = customer_lifetime_value(in_weeks, GG, weeks, periods_per_month=DAYS_PER_MONTH / 7)
    np.testing.assert_allclose(
        got["clv"], customer_lifetime_value(BGNBD, GG, SUMMARY)["clv"], rtol=1e-10
    )


def test_by_month_adds_up_to_clv():
    by_month = clv_by_month(BGNBD, GG, SUMMARY, months=3)
    assert by_month.columns == ["customer_key", "month", "expected_purchases", "discounted_value"]
    assert by_month.height == 6
    assert by_month["month"].to_list() == [1, 2, 3, 1, 2, 3]
    assert (by_month["expected_purchases"] > 0).all()
    totals = by_month.group_by("customer_key", maintain_order=True).agg(
        pl.col("discounted_value").sum(), pl.col("expected_purchases").sum()
    )
    clv = customer_lifetime_value(BGNBD, GG, SUMMARY, months=3)
    np.testing.assert_allclose(totals["discounted_value"], clv["clv"], rtol=1e-12)
    np.testing.assert_allclose(totals["expected_purchases"], clv["expected_purchases"], rtol=1e-12)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"months": 0}, "months"),
        ({"months": 1.5}, "months"),
        ({"monthly_discount": 1.0}, "monthly_discount"),
        ({"monthly_discount": -0.01}, "monthly_discount"),
        ({"periods_per_month": 0.0}, "periods_per_month"),
    ],
    ids=["months=0", "months-fractional", "discount=1", "discount<0", "no-periods"],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        customer_lifetime_value(BGNBD, GG, SUMMARY, **kwargs)


@pytest.mark.parametrize(
    ("summary", "message"),
    [
        (SUMMARY.drop("monetary_value"), "monetary_value"),
        (SUMMARY.drop("customer_key"), "customer_key"),
        (SUMMARY.with_columns(pl.Series("recency", [0.0, 250.0])), "'recency' exceeds"),
    ],
    ids=["no-monetary", "no-key", "recency>T"],
)
def test_bad_summary(summary, message):
    with pytest.raises(ValueError, match=message):
        customer_lifetime_value(BGNBD, GG, summary)


def test_q_at_most_one_is_refused():
    with pytest.raises(ValueError, match="q > 1"):
        customer_lifetime_value(BGNBD, GammaGammaFit.from_params(p=1.0, q=1.0, gamma=5.0), SUMMARY)
