"""Gamma-Gamma: the likelihood against the formula, recovery of known parameters, expected
spend by hand, the independence check and input validation."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest

from boxoffice.customers.gamma_gamma import (
    GG_PARAMS,
    GammaGammaFit,
    expected_spend,
    fit_gamma_gamma,
    gamma_gamma_log_likelihood,
)
from tests.customers.simulate import simulate_bgnbd, simulate_gamma_gamma

TRUTH = {"p": 6.0, "q": 4.0, "gamma": 75.0}
N_CUSTOMERS = 20_000


def naive_density(params, x, m) -> float:
    """Density of the mean m̄ of x purchase values, ν integrated out (Fader & Hardie 2013):
    Γ(px+q) / (Γ(px) Γ(q)) · γ^q · m̄^(px−1) · x^(px) / (γ + m̄x)^(px+q)."""
    p, q, g = (params[k] for k in GG_PARAMS)
    return (
        math.gamma(p * x + q)
        / (math.gamma(p * x) * math.gamma(q))
        * g**q
        * m ** (p * x - 1)
        * x ** (p * x)
        / (g + m * x) ** (p * x + q)
    )


@pytest.mark.parametrize(
    ("x", "m"), [(1, 150.0), (2, 80.0), (5, 210.5), (12, 99.0)], ids=["x=1", "x=2", "x=5", "x=12"]
)
@pytest.mark.parametrize("params", [TRUTH, {"p": 1.3, "q": 0.8, "gamma": 2.0}], ids=["a", "b"])
def test_log_likelihood_matches_formula(params, x, m):
    got = gamma_gamma_log_likelihood(params, [x], [m])[0]
    assert got == pytest.approx(math.log(naive_density(params, x, m)), rel=1e-10)


def test_log_likelihood_is_a_density_in_the_mean():
    """∫ f(m̄ | x) dm̄ = 1: the formula is a density of m̄, not of the total."""
    from scipy import integrate

    for x in (1, 3):
        total, _ = integrate.quad(
            lambda m, x=x: math.exp(gamma_gamma_log_likelihood(TRUTH, [x], [m])[0]), 0, np.inf
        )
        assert total == pytest.approx(1.0, rel=1e-8)


def test_log_likelihood_rejects_non_repeat_customers():
    with pytest.raises(ValueError, match="repeat customers"):
        gamma_gamma_log_likelihood(TRUTH, [0, 2], [0.0, 10.0])


@pytest.fixture(scope="module")
def simulated() -> pl.DataFrame:
    rng = np.random.default_rng(7)
    T = rng.uniform(60.0, 365.0, N_CUSTOMERS)
    customers = simulate_bgnbd(N_CUSTOMERS, 0.55, 110.0, 0.85, 2.6, T, rng)
    return simulate_gamma_gamma(customers, **TRUTH, rng=rng)


@pytest.fixture(scope="module")
def fitted(simulated) -> GammaGammaFit:
    return fit_gamma_gamma(simulated)


def test_fit_recovers_known_parameters(simulated, fitted):
    assert fitted.converged
    assert fitted.n_customers == simulated.filter(pl.col("frequency") > 0).height
    for name, true in TRUTH.items():
        estimate, se = fitted.params[name], fitted.std_errors[name]
        assert 0 < se < estimate, name
        assert abs(estimate - true) < 3 * se, (name, estimate, se, true)
    repeat = simulated.filter(pl.col("frequency") > 0)
    per_customer = gamma_gamma_log_likelihood(
        fitted.params, repeat["frequency"], repeat["monetary_value"]
    )
    assert fitted.log_likelihood == pytest.approx(per_customer.sum(), rel=1e-12)
    table = fitted.summary()
    assert table["param"].to_list() == list(GG_PARAMS)
    assert (table["lower_95"] < table["estimate"]).all()


def test_correlation_is_reported(simulated, fitted):
    repeat = simulated.filter(pl.col("frequency") > 0)
    expected = np.corrcoef(repeat["frequency"], repeat["monetary_value"])[0, 1]
    assert fitted.frequency_monetary_correlation == pytest.approx(expected)
    assert abs(fitted.frequency_monetary_correlation) < 0.05  # independent by construction
    # frequent buyers spending more: the assumption fails and the number shows it
    skewed = repeat.with_columns(pl.col("monetary_value") * pl.col("frequency"))
    assert fit_gamma_gamma(skewed).frequency_monetary_correlation > 0.3


def test_currency_unit_only_rescales_gamma(simulated, fitted):
    """Cents instead of currency units: m̄ × 100 → γ × 100, p and q unchanged."""
    cents = fit_gamma_gamma(simulated.with_columns(pl.col("monetary_value") * 100))
    assert cents.params["p"] == pytest.approx(fitted.params["p"], rel=1e-5)
    assert cents.params["q"] == pytest.approx(fitted.params["q"], rel=1e-5)
    assert cents.params["gamma"] == pytest.approx(100 * fitted.params["gamma"], rel=1e-5)


def test_expected_spend_by_hand():
    """p=6, q=4, γ=75: E[M | x=2, m̄=100] = 6·(75 + 200) / (12 + 4 − 1) = 110; with no repeat
    purchase the population mean 6·75 / 3 = 150; E[M | x=3, m̄=120] = 6·435/21."""
    fit = GammaGammaFit.from_params(**TRUTH)
    summary = pl.DataFrame(
        {"customer_key": ["a", "b", "c"], "frequency": [2, 0, 3], "monetary_value": [100.0, 0, 120]}
    )
    got = expected_spend(fit, summary)
    assert got.columns == ["customer_key", "expected_spend"]
    assert got["customer_key"].to_list() == ["a", "b", "c"]
    np.testing.assert_allclose(got["expected_spend"], [110.0, 150.0, 6 * 435 / 21], rtol=1e-14)
    assert fit.mean_spend == pytest.approx(150.0)


def test_expected_spend_needs_q_above_one():
    fit = GammaGammaFit.from_params(p=2.0, q=0.9, gamma=10.0)
    summary = pl.DataFrame({"customer_key": [1], "frequency": [1], "monetary_value": [5.0]})
    with pytest.raises(ValueError, match="q > 1"):
        expected_spend(fit, summary)


GOOD = pl.DataFrame(
    {"customer_key": [1, 2, 3], "frequency": [0, 2, 1], "monetary_value": [0.0, 9.0, 4.0]}
)


@pytest.mark.parametrize(
    ("summary", "message"),
    [
        (GOOD.drop("monetary_value"), "monetary_value"),
        (
            GOOD.with_columns(pl.Series("monetary_value", [0.0, -9.0, 4.0])),
            "'monetary_value' has 1 negative",
        ),
        (
            GOOD.with_columns(pl.Series("frequency", [0.0, 2.5, 1.0])),
            "'frequency' has 1 non-integer",
        ),
        (
            GOOD.with_columns(pl.Series("monetary_value", [0.0, None, 4.0])),
            "'monetary_value' has 1 null",
        ),
    ],
    ids=["missing", "negative", "fractional", "null"],
)
def test_bad_input_names_the_column(summary, message):
    fit = GammaGammaFit.from_params(**TRUTH)
    with pytest.raises(ValueError, match=message):
        fit_gamma_gamma(summary)
    with pytest.raises(ValueError, match=message):
        expected_spend(fit, summary)


def test_fit_needs_repeat_customers_with_spend():
    no_spend = GOOD.with_columns(pl.lit(0.0).alias("monetary_value"))
    with pytest.raises(ValueError, match="no customer has a repeat purchase"):
        fit_gamma_gamma(no_spend)
    with pytest.raises(ValueError, match="no customer"):
        fit_gamma_gamma(GOOD.clear())


@pytest.mark.filterwarnings("ignore:Gamma-Gamma fit did not converge")
@pytest.mark.filterwarnings("ignore:the Hessian at the estimate")
def test_unidentified_estimates_are_flagged():
    """Everyone spends exactly the same: no spread to estimate, p and q run off to ∞."""
    same = pl.DataFrame({"frequency": [1, 2, 3], "monetary_value": [3.0, 3.0, 3.0]})
    with pytest.warns(RuntimeWarning, match="edge of the parameter space"):
        fit_gamma_gamma(same)
