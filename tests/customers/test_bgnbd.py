"""BG/NBD: the likelihood against the published formula, recovery of known parameters from
simulated customers, holdout calibration, invariants of P(alive) and expected purchases, and
input validation."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate
from scipy.special import betaln

from boxoffice.customers.bgnbd import (
    PARAMS,
    BGNBDFit,
    bgnbd_log_likelihood,
    expected_purchases,
    expected_purchases_new,
    fit_bgnbd,
    prob_alive,
)
from tests.customers.simulate import simulate_bgnbd

TRUTH = {"r": 0.55, "alpha": 110.0, "a": 0.85, "b": 2.6}  # per day
N_CUSTOMERS = 20_000
HOLDOUT_DAYS = 180.0


def summary_of(rows: list[tuple[float, float, float]]) -> pl.DataFrame:
    """(frequency, recency, T) rows → a summary with customer_key 0, 1, ..."""
    x, tx, T = zip(*rows, strict=True)
    return pl.DataFrame(
        {"customer_key": list(range(len(rows))), "frequency": x, "recency": tx, "T": T}
    )


# ------------------------------------------------------------------------- independent oracles
def naive_likelihood(params, x, tx, T) -> float:
    """FHL (2005) eq. 6 written out with Γ functions (math.gamma), no logs."""
    r, alpha, a, b = (params[k] for k in PARAMS)

    def beta(u, v):
        return math.gamma(u) * math.gamma(v) / math.gamma(u + v)

    common = math.gamma(r + x) * alpha**r / math.gamma(r)
    value = beta(a, b + x) / beta(a, b) * common / (alpha + T) ** (r + x)
    if x > 0:
        value += beta(a + 1, b + x - 1) / beta(a, b) * common / (alpha + tx) ** (r + x)
    return value


def naive_log_likelihood(params, x, tx, T) -> float:
    """The same with math.lgamma, for frequencies where Γ overflows."""
    r, alpha, a, b = (params[k] for k in PARAMS)

    def lbeta(u, v):
        return math.lgamma(u) + math.lgamma(v) - math.lgamma(u + v)

    common = math.lgamma(r + x) + r * math.log(alpha) - math.lgamma(r)
    terms = [lbeta(a, b + x) - lbeta(a, b) + common - (r + x) * math.log(alpha + T)]
    if x > 0:
        terms.append(
            lbeta(a + 1, b + x - 1) - lbeta(a, b) + common - (r + x) * math.log(alpha + tx)
        )
    top = max(terms)
    return top + math.log(sum(math.exp(v - top) for v in terms))


def naive_p_alive(params, x, tx, T) -> float:
    r, alpha, a, b = (params[k] for k in PARAMS)
    if x == 0:
        return 1.0
    return 1.0 / (1.0 + a / (b + x - 1) * ((alpha + T) / (alpha + tx)) ** (r + x))


def alive_expectation_by_quadrature(params, x, T, t) -> float:
    """E[purchases in (T, T+t] | alive at T] as an integral over the dropout probability p:
    a customer alive at T has λ ~ Gamma(r+x, α+T) and p ~ Beta(a, b+x) (posterior), and
    E[purchases in t | λ, p] = (1 − e^{−λpt}) / p; integrating λ out gives
    ∫ (1 − ((α+T)/(α+T+pt))^(r+x)) / p · Beta(p; a, b+x) dp — no hypergeometric function."""
    r, alpha, a, b = (params[k] for k in PARAMS)

    def integrand(p):
        if p == 0:
            return (r + x) * t / (alpha + T)
        return -math.expm1(-(r + x) * math.log1p(p * t / (alpha + T))) / p

    value, _ = integrate.quad(
        integrand, 0, 1, weight="alg", wvar=(a - 1, b + x - 1), epsabs=0, epsrel=1e-12, limit=200
    )
    return value / math.exp(betaln(a, b + x))


# ------------------------------------------------------------------------- the likelihood
CUSTOMERS = [
    pytest.param(0, 0.0, 30.0, id="x=0"),
    pytest.param(0, 0.0, 0.0, id="x=0,T=0"),
    pytest.param(1, 20.0, 100.0, id="x=1"),
    pytest.param(1, 100.0, 100.0, id="x=1,t_x=T"),
    pytest.param(2, 50.0, 60.0, id="x=2"),
    pytest.param(7, 200.0, 365.0, id="x=7"),
]


@pytest.mark.parametrize(("x", "tx", "T"), CUSTOMERS)
@pytest.mark.parametrize(
    "params",
    [TRUTH, {"r": 2.0, "alpha": 5.0, "a": 1.5, "b": 0.7}],
    ids=["days", "other"],
)
def test_log_likelihood_matches_eq6(params, x, tx, T):
    got = bgnbd_log_likelihood(params, [x], [tx], [T])[0]
    assert got == pytest.approx(math.log(naive_likelihood(params, x, tx, T)), rel=1e-10, abs=1e-12)


def test_log_likelihood_is_finite_for_hundreds_of_purchases():
    x, tx, T = [300, 300, 450], [690.0, 20.0, 700.0], [700.0, 700.0, 700.0]
    got = bgnbd_log_likelihood(TRUTH, x, tx, T)
    assert np.isfinite(got).all()
    expected = [naive_log_likelihood(TRUTH, *row) for row in zip(x, tx, T, strict=True)]
    np.testing.assert_allclose(got, expected, rtol=1e-11)


def test_log_likelihood_checks_params():
    with pytest.raises(ValueError, match="lack"):
        bgnbd_log_likelihood({"r": 1.0, "alpha": 1.0, "a": 1.0}, [0], [0], [1])
    with pytest.raises(ValueError, match="positive"):
        bgnbd_log_likelihood(TRUTH | {"b": -1.0}, [0], [0], [1])


# ------------------------------------------------------------------------- recovery and calibration
@pytest.fixture(scope="module")
def simulated() -> pl.DataFrame:
    rng = np.random.default_rng(20260101)
    T = rng.uniform(60.0, 365.0, N_CUSTOMERS)  # customers joined over ten months
    return simulate_bgnbd(N_CUSTOMERS, **TRUTH, T=T, rng=rng, T_holdout=HOLDOUT_DAYS)


@pytest.fixture(scope="module")
def fitted(simulated) -> BGNBDFit:
    return fit_bgnbd(simulated)


def test_fit_recovers_known_parameters(fitted):
    assert fitted.converged
    assert fitted.n_customers == N_CUSTOMERS
    assert fitted.iterations > 0
    for name, true in TRUTH.items():
        estimate, se = fitted.params[name], fitted.std_errors[name]
        assert 0 < se < estimate, name
        assert abs(estimate - true) < 3 * se, (name, estimate, se, true)


def test_fit_log_likelihood_is_the_sum_of_the_per_customer_ones(simulated, fitted):
    per_customer = bgnbd_log_likelihood(
        fitted.params, simulated["frequency"], simulated["recency"], simulated["T"]
    )
    assert fitted.log_likelihood == pytest.approx(per_customer.sum(), rel=1e-12)
    truth = bgnbd_log_likelihood(
        TRUTH, simulated["frequency"], simulated["recency"], simulated["T"]
    )
    assert fitted.log_likelihood >= truth.sum()  # the maximum beats the truth


def test_summary_table(fitted):
    table = fitted.summary()
    assert table.columns == ["param", "estimate", "std_error", "lower_95", "upper_95"]
    assert table["param"].to_list() == list(PARAMS)
    assert (table["lower_95"] < table["estimate"]).all()
    assert (table["estimate"] < table["upper_95"]).all()


def test_holdout_purchases_are_predicted_by_frequency_bucket(simulated, fitted):
    """Σ expected purchases in the holdout vs the simulated ones: within 10 % overall and
    20 % in every frequency bucket (each holds ≥ 250 customers here)."""
    x = pl.col("frequency")
    bucket = (
        pl.when(x == 0)
        .then(pl.lit("0"))
        .when(x == 1)
        .then(pl.lit("1"))
        .when(x == 2)
        .then(pl.lit("2"))
        .when(x <= 5)
        .then(pl.lit("3-5"))
        .otherwise(pl.lit("6+"))
    )
    predicted = expected_purchases(fitted, simulated, HOLDOUT_DAYS)
    by_bucket = (
        simulated.join(predicted, on="customer_key")
        .group_by(bucket.alias("bucket"))
        .agg(
            pl.len().alias("customers"),
            pl.col("frequency_holdout").sum().alias("actual"),
            pl.col("expected_purchases").sum().alias("expected"),
        )
        .sort("bucket")
    )
    assert by_bucket["bucket"].to_list() == ["0", "1", "2", "3-5", "6+"]
    assert by_bucket["customers"].min() >= 250
    total_error = by_bucket["expected"].sum() / by_bucket["actual"].sum() - 1
    assert abs(total_error) < 0.10
    errors = (by_bucket["expected"] / by_bucket["actual"] - 1).to_list()
    assert all(abs(e) < 0.20 for e in errors), by_bucket


def test_penalizer_shrinks_the_parameters(simulated, fitted):
    penalized = fit_bgnbd(simulated, penalizer=0.01)
    scale = 10.0 / simulated["T"].max()

    def norm(fit):
        p = fit.params
        return p["r"] ** 2 + (p["alpha"] * scale) ** 2 + p["a"] ** 2 + p["b"] ** 2

    assert penalized.penalizer == 0.01
    assert norm(penalized) < norm(fitted)
    assert penalized.log_likelihood < fitted.log_likelihood


def test_time_unit_only_rescales_alpha(simulated):
    """Weeks instead of days: the likelihood changes by a constant, so r, a, b are the same
    and α in weeks is α in days / 7; predictions over the same span agree."""
    sample = simulated.head(4000)
    days = fit_bgnbd(sample)
    weeks_summary = sample.with_columns(pl.col("recency") / 7, pl.col("T") / 7)
    weeks = fit_bgnbd(weeks_summary)
    for name in ("r", "a", "b"):
        assert weeks.params[name] == pytest.approx(days.params[name], rel=1e-4)
    assert weeks.params["alpha"] == pytest.approx(days.params["alpha"] / 7, rel=1e-4)
    in_days = expected_purchases(days, sample, 70.0)["expected_purchases"]
    in_weeks = expected_purchases(weeks, weeks_summary, 10.0)["expected_purchases"]
    np.testing.assert_allclose(in_weeks, in_days, rtol=1e-3)


def test_fit_accepts_start_values(simulated, fitted):
    again = fit_bgnbd(simulated, start={"r": 0.3, "alpha": 50.0, "a": 2.0, "b": 5.0})
    for name in PARAMS:
        assert again.params[name] == pytest.approx(fitted.params[name], rel=1e-3)


# ------------------------------------------------------------------------- predictions
def test_prob_alive_hand_values():
    summary = summary_of([(0, 0.0, 50.0), (1, 20.0, 100.0), (4, 90.0, 100.0), (4, 10.0, 100.0)])
    got = prob_alive(BGNBDFit.from_params(**TRUTH), summary)
    assert got.columns == ["customer_key", "p_alive"]
    expected = [
        naive_p_alive(TRUTH, *row) for row in summary.select("frequency", "recency", "T").rows()
    ]
    np.testing.assert_allclose(got["p_alive"], expected, rtol=1e-13)
    assert got["p_alive"][0] == 1.0


QUADRATURE_CASES = [
    pytest.param(TRUTH, 0, 0.0, 100.0, 90.0, id="x=0"),
    pytest.param(TRUTH, 1, 30.0, 200.0, 365.0, id="x=1"),
    pytest.param(TRUTH, 6, 150.0, 300.0, 30.0, id="x=6"),
    pytest.param(TRUTH, 300, 690.0, 700.0, 365.0, id="x=300"),
    pytest.param(TRUTH | {"a": 1.0}, 2, 40.0, 80.0, 180.0, id="a=1"),
    pytest.param(TRUTH | {"a": 1.0004}, 2, 40.0, 80.0, 180.0, id="a≈1"),
    pytest.param(TRUTH | {"a": 0.4, "b": 0.6}, 0, 0.0, 80.0, 180.0, id="a+b=1,x=0"),
    pytest.param({"r": 3.0, "alpha": 2.0, "a": 5.0, "b": 0.3}, 12, 9.0, 10.0, 52.0, id="weeks"),
    # scipy.special.hyp2f1(1, 1, 101, 30/32) is inf (scipy 1.17): the series fallback runs
    pytest.param(
        {"r": 1.0, "alpha": 1.0, "a": 2.0, "b": 1.0}, 99, 1.0, 1.0, 30.0, id="hyp2f1-fallback"
    ),
]


@pytest.mark.parametrize(("params", "x", "tx", "T", "t"), QUADRATURE_CASES)
def test_expected_purchases_match_the_integral(params, x, tx, T, t):
    """FHL eq. 10 (hypergeometric, Euler-transformed) = P(alive) × the quadrature."""
    fit = BGNBDFit(
        params=params,
        std_errors={},
        log_likelihood=math.nan,
        n_customers=0,
        converged=True,
        iterations=0,
    )
    got = expected_purchases(fit, summary_of([(x, tx, T)]), t)["expected_purchases"][0]
    oracle = naive_p_alive(params, x, tx, T) * alive_expectation_by_quadrature(params, x, T, t)
    assert got == pytest.approx(oracle, rel=1e-8)


def test_expected_purchases_new_customer():
    fit = BGNBDFit.from_params(**TRUTH)
    curve = expected_purchases_new(fit, [0.0, 30.0, 365.0])
    assert curve.columns == ["t", "expected_purchases"]
    assert curve["expected_purchases"][0] == 0.0
    for t, value in curve.rows()[1:]:
        assert value == pytest.approx(alive_expectation_by_quadrature(TRUTH, 0, 0.0, t), rel=1e-8)
    # a customer just acquired (x = 0, T = 0) is a new customer
    same = expected_purchases(fit, summary_of([(0, 0.0, 0.0)]), 365.0)["expected_purchases"][0]
    assert same == pytest.approx(curve["expected_purchases"][2], rel=1e-12)


def test_heavy_buyer_gives_finite_results():
    fit = BGNBDFit.from_params(**TRUTH)
    summary = summary_of([(300, 690.0, 700.0), (300, 100.0, 700.0)])
    p = prob_alive(fit, summary)["p_alive"]
    e = expected_purchases(fit, summary, 365.0)["expected_purchases"]
    assert np.isfinite(p.to_numpy()).all() and np.isfinite(e.to_numpy()).all()
    assert 0 < p[1] < p[0] <= 1  # silent for 600 days after 300 purchases: likely gone
    assert e[0] > 100  # alive and buying ~0.43 a day


def test_expected_purchases_at_zero_horizon_is_zero():
    fit = BGNBDFit.from_params(**TRUTH)
    got = expected_purchases(fit, summary_of([(0, 0.0, 10.0), (3, 5.0, 10.0)]), 0.0)
    assert got["expected_purchases"].to_list() == [0.0, 0.0]


def test_predictions_on_no_customers_are_empty():
    fit = BGNBDFit.from_params(**TRUTH)
    assert prob_alive(fit, GOOD.clear()).height == 0
    assert expected_purchases(fit, GOOD.clear(), 30.0).height == 0


def test_predictions_keep_row_order_and_duplicates():
    fit = BGNBDFit.from_params(**TRUTH)
    summary = summary_of([(2, 50.0, 60.0), (0, 0.0, 60.0), (2, 50.0, 60.0), (2, 10.0, 60.0)])
    summary = summary.with_columns(pl.Series("customer_key", ["c", "a", "d", "b"]))
    got = expected_purchases(fit, summary, 30.0)
    assert got["customer_key"].to_list() == ["c", "a", "d", "b"]
    e = got["expected_purchases"]
    assert e[0] == e[2]
    assert e[3] < e[0]  # same x and T, less recent


params_strategy = st.fixed_dictionaries(
    {
        "r": st.floats(0.05, 10.0),
        "alpha": st.floats(0.5, 500.0),
        "a": st.floats(0.05, 10.0),
        "b": st.floats(0.05, 20.0),
    }
)


@settings(max_examples=60, deadline=None)
@given(
    params=params_strategy,
    x=st.integers(0, 300),
    T=st.floats(1.0, 1000.0),
)
def test_invariants(params, x, T):
    """P(alive) in [0, 1], 1 without repeat purchases, falling as the last purchase gets older
    (recency smaller, x and T held); expected purchases ≥ 0 and increasing in the horizon."""
    fit = BGNBDFit.from_params(**params)
    recencies = [0.0] if x == 0 else [T, 0.75 * T, 0.5 * T, 0.1 * T, 0.0]
    summary = summary_of([(x, tx, T) for tx in recencies])
    p = prob_alive(fit, summary)["p_alive"].to_numpy()
    assert ((p >= 0) & (p <= 1)).all()
    if x == 0:
        assert p[0] == 1.0
    assert (np.diff(p) <= 0).all()
    horizons = [7.0, 30.0, 365.0, 3650.0]
    e = np.column_stack(
        [expected_purchases(fit, summary, t)["expected_purchases"].to_numpy() for t in horizons]
    )
    assert np.isfinite(e).all()
    assert (e >= 0).all()
    assert (np.diff(e, axis=1) >= -1e-12 * e[:, 1:]).all()


# ------------------------------------------------------------------------- validation
GOOD = summary_of([(0, 0.0, 10.0), (2, 5.0, 10.0)])


@pytest.mark.parametrize(
    ("summary", "message"),
    [
        (GOOD.drop("recency"), "recency"),
        (GOOD.with_columns(pl.Series("frequency", [-1, 2])), "'frequency' has 1 negative"),
        (GOOD.with_columns(pl.Series("frequency", [0.0, 1.5])), "'frequency' has 1 non-integer"),
        (GOOD.with_columns(pl.Series("recency", [0.0, 11.0])), "'recency' exceeds column 'T'"),
        (GOOD.with_columns(pl.Series("recency", [1.0, 5.0])), "'recency' must be 0 where"),
        (GOOD.with_columns(pl.Series("T", [10.0, None])), "'T' has 1 null"),
        (GOOD.with_columns(pl.Series("T", [10.0, math.inf])), "'T' has 1 non-finite"),
        (GOOD.with_columns(pl.Series("T", ["10", "10"])), "'T' must be numeric"),
    ],
    ids=[
        "missing",
        "negative",
        "fractional",
        "recency>T",
        "recency-without-repeat",
        "null",
        "inf",
        "text",
    ],
)
def test_bad_input_names_the_column(summary, message):
    fit = BGNBDFit.from_params(**TRUTH)
    for call in (
        lambda: fit_bgnbd(summary),
        lambda: prob_alive(fit, summary),
        lambda: expected_purchases(fit, summary, 30.0),
    ):
        with pytest.raises(ValueError, match=message):
            call()


def test_missing_customer_column():
    with pytest.raises(ValueError, match="customer_id"):
        prob_alive(BGNBDFit.from_params(**TRUTH), GOOD, customer_col="customer_id")


@pytest.mark.parametrize(
    ("summary", "message"),
    [
        (GOOD.clear(), "no customers"),
        (summary_of([(0, 0.0, 10.0), (0, 0.0, 30.0)]), "not identified"),
    ],
    ids=["empty", "no-repeat-purchaser"],
)
def test_fit_refuses_unidentified_data(summary, message):
    with pytest.raises(ValueError, match=message):
        fit_bgnbd(summary)


def test_bad_horizon_and_penalizer():
    fit = BGNBDFit.from_params(**TRUTH)
    with pytest.raises(ValueError, match="t must be"):
        expected_purchases(fit, GOOD, -1.0)
    with pytest.raises(ValueError, match="penalizer"):
        fit_bgnbd(GOOD, penalizer=-0.1)
    with pytest.raises(ValueError, match="positive"):
        BGNBDFit.from_params(r=0.5, alpha=0.0, a=1.0, b=1.0)


def test_unidentified_estimates_are_flagged():
    """Five customers: the likelihood keeps rising as a, b → 0, and the fit says so."""
    tiny = summary_of(
        [(0, 0.0, 100.0), (1, 20.0, 100.0), (2, 30.0, 50.0), (0, 0.0, 30.0), (5, 90.0, 100.0)]
    )
    with pytest.warns(RuntimeWarning, match="edge of the parameter space"):
        fit_bgnbd(tiny)
