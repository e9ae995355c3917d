"""The models against the published CDNOW results and a reference implementation.

Published: Fader, Hardie & Lee (2005), "Counting Your Customers the Easy Way", Marketing
Science 24(2) — BG/NBD on CDNOW: r = 0.243, α = 4.414, a = 0.793, b = 2.426, log-likelihood
−9582.4, and 1.226 expected purchases in the next 39 weeks for the customer with x = 2,
t_x = 30.43, T = 38.86. Fader & Hardie (2013), "The Gamma-Gamma Model of Monetary Value" —
p = 6.25, q = 3.74, γ = 15.44 on the same customers. Reference values marked "lifetimes" were
computed with lifetimes 0.11.3 from the same parameters.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from boxoffice import customers
from boxoffice.customers.bgnbd import BGNBDFit
from boxoffice.customers.gamma_gamma import GammaGammaFit

CDNOW = Path(__file__).parent / "data" / "cdnow_summary_monetary.csv"
LIFETIMES_BGNBD = {"r": 0.242593, "alpha": 4.413532, "a": 0.792886, "b": 2.425752}
LIFETIMES_GG = {"p": 6.248802, "q": 3.744588, "gamma": 15.447748}


@pytest.fixture(scope="module")
def cdnow() -> pl.DataFrame:
    return pl.read_csv(CDNOW).rename({"customer_id": "customer_key"})


def test_bgnbd_reproduces_the_published_cdnow_fit(cdnow):
    fit = customers.fit_bgnbd(cdnow)
    published = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    for name, value in published.items():
        assert fit.params[name] == pytest.approx(value, abs=0.0015), name
    assert fit.log_likelihood == pytest.approx(-9582.4, abs=0.1)
    assert fit.converged


def test_bgnbd_conditional_expectation_of_the_published_customer(cdnow):
    fit = BGNBDFit.from_params(**LIFETIMES_BGNBD)
    one = pl.DataFrame({"customer_key": ["1"], "frequency": [2], "recency": [30.43], "T": [38.86]})
    expected = customers.expected_purchases(fit, one, 39)["expected_purchases"][0]
    assert expected == pytest.approx(1.226, abs=0.0005)  # published
    assert expected == pytest.approx(1.2259104241744085, rel=1e-6)  # lifetimes
    assert customers.prob_alive(fit, one)["p_alive"][0] == pytest.approx(0.72660914, rel=1e-6)


def test_gamma_gamma_reproduces_the_published_cdnow_fit(cdnow):
    fit = customers.fit_gamma_gamma(cdnow)
    for name, value in {"p": 6.25, "q": 3.74, "gamma": 15.44}.items():
        assert fit.params[name] == pytest.approx(value, abs=0.01), name
    assert fit.n_customers == cdnow.filter(pl.col("frequency") > 0).height == 946


def test_spend_and_clv_of_the_first_customer_match_lifetimes(cdnow):
    bgnbd = BGNBDFit.from_params(**LIFETIMES_BGNBD)
    gamma_gamma = GammaGammaFit.from_params(**LIFETIMES_GG)
    first = cdnow.head(1)
    spend = customers.expected_spend(gamma_gamma, first)["expected_spend"][0]
    assert spend == pytest.approx(24.658616189236568, rel=1e-6)
    clv = customers.customer_lifetime_value(
        bgnbd, gamma_gamma, first, months=12, monthly_discount=0.01, periods_per_month=4.345
    )
    assert clv["clv"][0] == pytest.approx(36.27849576362572, rel=1e-6)
