"""BG/NBD model of repeat purchasing: fit, P(alive) and expected purchases.

The model (Fader, Hardie & Lee 2005, "'Counting Your Customers' the Easy Way: An Alternative to
the Pareto/NBD Model", *Marketing Science* 24(2), 275–284 — "FHL" below):

- while alive, a customer buys as a Poisson process with rate λ, λ ~ Gamma(shape r, rate α);
- right after each *repeat* purchase the customer drops out for good with probability p,
  p ~ Beta(a, b), independent of λ (no dropout at the first purchase: ``x = 0`` means alive).

Data per customer, in periods (days or weeks) from the first purchase, as made by
:func:`~boxoffice.customers.summary.summarize_customers`: ``x`` = ``frequency`` (repeat
purchases), ``t_x`` = ``recency`` (time of the last repeat purchase, 0 when ``x = 0``) and
``T`` (age at the end of observation). α is a rate per period: α in days = 7 · α in weeks.

Log-likelihood of one customer (FHL eq. 6, in logs as in Fader & Hardie 2013, "Overcoming the
BG/NBD Model's #NUM! Error Problem", brucehardie.com note 027)::

    ℓ = ln Γ(r+x) − ln Γ(r) + r ln α + ln B(a, b+x) − ln B(a, b)
        + logaddexp(−(r+x) ln(α+T),  ln a − ln(b+x−1) − (r+x) ln(α+t_x))

where the second argument of ``logaddexp`` is −∞ (absent) when ``x = 0``.

Probability of being alive (Fader, Hardie & Lee, "Computing P(alive) Using the BG/NBD Model",
brucehardie.com note 021)::

    P(alive | x, t_x, T) = 1 / (1 + δ(x>0) · a/(b+x−1) · ((α+T)/(α+t_x))^(r+x))

Expected repeat purchases in (0, t] of a new customer (FHL eq. 9), writing
``E(t; r, α, a, b)``::

    E[X(t)] = (a+b−1)/(a−1) · [1 − (α/(α+t))^r · ₂F₁(r, b; a+b−1; t/(α+t))]

and for a customer with history (x, t_x, T) in the next t periods (FHL eq. 10), which is
P(alive) times ``E`` at the posterior parameters of an alive customer::

    E[Y(t) | x, t_x, T] = P(alive | x, t_x, T) · E(t; r+x, α+T, a, b+x)

Numerics: the likelihood is evaluated in log space (finite for x in the thousands). ``E`` is
evaluated after Euler's transformation ₂F₁(A, B; C; z) = (1−z)^(C−A−B) ₂F₁(C−A, C−B; C; z)
(Abramowitz & Stegun 15.3.3), which turns the bracket into
``1 − (1−z)^(a−1) · ₂F₁(a+b−1−r, a−1; a+b−1; z)`` — bounded where the textbook form overflows
(``(1−z)^(r+x)`` underflows while ₂F₁ overflows for x in the hundreds). Three special cases:

- where ``scipy.special.hyp2f1`` returns NaN/∞ (it does for C ≳ 100 with z near 1, above all
  when C − A − B is an integer, e.g. ₂F₁(1, 1; 101; 0.94)) the power series is summed instead;
  there C is large and it converges in a few dozen terms;
- at ``a = 1`` the formula is 0/0 and near it the bracket cancels: within 1e-3 of it the value
  is interpolated (cubic, from a = 1 ± 1e-3, 1 ± 2e-3); relative error ≲ 1e-8;
- where ``C = a+b−1`` is (near) 0 — only for x = 0 and a + b ≈ 1 — the Beta density is split,
  ``E(a, b) = b/(a+b) · E(a, b+1) + a/(a+b) · E(a+1, b)``.

Checked against the integral ``E = ∫ (1 − (α/(α+pt))^r) / p · Beta(p; a, b) dp`` (λ integrated
out; no hypergeometric function) in the tests.

Fitting is maximum likelihood over log-parameters (statsmodels ``GenericLikelihoodModel``) on
the distinct (x, t_x, T) triples weighted by their customer counts, with an analytic score;
standard errors come from the inverse Hessian, mapped to the natural scale by the delta method
(se(θ) = θ · se(ln θ)).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy.special import betaln, digamma, expit, gammaln, hyp2f1
from statsmodels.base.model import GenericLikelihoodModel
from statsmodels.tools.numdiff import approx_fprime
from statsmodels.tools.sm_exceptions import ConvergenceWarning

from boxoffice.frames import require

__all__ = [
    "PARAMS",
    "BGNBDFit",
    "bgnbd_log_likelihood",
    "expected_purchases",
    "expected_purchases_new",
    "fit_bgnbd",
    "prob_alive",
]

PARAMS = ("r", "alpha", "a", "b")
Z_95 = 1.959963984540054  # standard normal 97.5 % quantile
_A_NEAR_ONE = 1e-3  # |a − 1| below this: interpolate from a = 1 ± 1e-3, 1 ± 2e-3
_C_NEAR_ZERO = 1e-6  # |a + b + x − 1| below this: split the Beta mixing density


# ----------------------------------------------------------------------------- results
def param_table(params: Mapping[str, float], std_errors: Mapping[str, float]) -> pl.DataFrame:
    """Estimates with standard errors and 95 % intervals, one row per parameter.

    The interval is ``exp(ln θ ± 1.96 · se(ln θ))`` with ``se(ln θ) = se(θ) / θ``: the Wald
    interval of the log-parameter (the scale of the fit), mapped back, so it stays positive.
    """
    names = list(params)
    est = np.array([params[k] for k in names], dtype=float)
    se = np.array([std_errors.get(k, math.nan) for k in names], dtype=float)
    half = Z_95 * se / est
    return pl.DataFrame(
        {
            "param": names,
            "estimate": est,
            "std_error": se,
            "lower_95": est * np.exp(-half),
            "upper_95": est * np.exp(half),
        }
    )


def positive_params(params: Mapping[str, float], names: Sequence[str]) -> np.ndarray:
    """The values of ``names`` in ``params``, checked present, finite and positive."""
    if missing := [k for k in names if k not in params]:
        raise ValueError(f"params lack {missing}; need {list(names)}, got {list(params)}")
    values = np.array([float(params[k]) for k in names])
    if bad := [k for k, v in zip(names, values, strict=True) if not (np.isfinite(v) and v > 0)]:
        raise ValueError(f"parameters must be positive and finite: {bad} are {params}")
    return values


@dataclass(frozen=True)
class BGNBDFit:
    """A fitted (or given) BG/NBD model.

    Attributes
    ----------
    params
        ``r``, ``alpha`` (rate per period), ``a``, ``b``.
    std_errors
        Standard errors on the natural scale (delta method from the log-scale fit); NaN when
        the Hessian is not negative definite or the parameters were given, not fitted.
    log_likelihood
        Total log-likelihood over all customers at ``params`` (without the penalty).
    n_customers
        Customers the model was fitted on.
    converged
        Whether the optimiser reported convergence.
    iterations
        Optimiser iterations.
    penalizer
        The L2 penalty used in the fit (see :func:`fit_bgnbd`).
    """

    params: dict[str, float]
    std_errors: dict[str, float]
    log_likelihood: float
    n_customers: int
    converged: bool
    iterations: int
    penalizer: float = 0.0

    def __post_init__(self) -> None:
        positive_params(self.params, PARAMS)

    @classmethod
    def from_params(cls, *, r: float, alpha: float, a: float, b: float) -> BGNBDFit:
        """A model with known parameters (nothing estimated: standard errors and
        log-likelihood are NaN, ``n_customers`` and ``iterations`` 0)."""
        return cls(
            params={"r": r, "alpha": alpha, "a": a, "b": b},
            std_errors=dict.fromkeys(PARAMS, math.nan),
            log_likelihood=math.nan,
            n_customers=0,
            converged=True,
            iterations=0,
        )

    def summary(self) -> pl.DataFrame:
        """One row per parameter: ``param``, ``estimate``, ``std_error``, ``lower_95``,
        ``upper_95`` (interval from the log scale, see :func:`param_table`)."""
        return param_table(self.params, self.std_errors)


# ----------------------------------------------------------------------------- input checks
def numeric_column(summary: pl.DataFrame, name: str, *, integer: bool = False) -> np.ndarray:
    """Column ``name`` as float64, checked: numeric, no nulls, finite, non-negative and, with
    ``integer``, integer-valued. Errors name the column and the first offending row."""
    column = summary.get_column(name)
    if not column.dtype.is_numeric():
        raise ValueError(f"column {name!r} must be numeric, got {column.dtype}")
    if column.null_count():
        raise ValueError(f"column {name!r} has {column.null_count()} null value(s)")
    values = column.cast(pl.Float64).to_numpy()
    checks = [
        (~np.isfinite(values), "non-finite"),
        (values < 0, "negative"),
    ]
    if integer:
        checks.append((values != np.round(values), "non-integer"))
    for bad, what in checks:
        if bad.any():
            i = int(np.argmax(bad))
            raise ValueError(
                f"column {name!r} has {int(bad.sum())} {what} value(s), e.g. {values[i]} at row {i}"
            )
    return values


def rfm_arrays(summary: pl.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``frequency``, ``recency``, ``T`` as float arrays, validated: numeric, non-negative,
    frequency integer-valued, recency ≤ T, and recency = 0 where frequency = 0."""
    require(summary, ("frequency", "recency", "T"))
    x = numeric_column(summary, "frequency", integer=True)
    tx = numeric_column(summary, "recency")
    T = numeric_column(summary, "T")
    for bad, message in [
        (tx > T, "column 'recency' exceeds column 'T'"),
        ((x == 0) & (tx > 0), "column 'recency' must be 0 where 'frequency' is 0, but is not"),
    ]:
        if bad.any():
            i = int(np.argmax(bad))
            raise ValueError(
                f"{message} for {int(bad.sum())} customer(s), e.g. row {i}: "
                f"frequency={x[i]:g}, recency={tx[i]:g}, T={T[i]:g}"
            )
    return x, tx, T


def _check_t(t: float) -> float:
    t = float(t)
    if not (np.isfinite(t) and t >= 0):
        raise ValueError(f"t must be a finite number of periods ≥ 0, got {t}")
    return t


# ----------------------------------------------------------------------------- formulas
def bgnbd_log_likelihood(
    params: Mapping[str, float],
    frequency: np.ndarray | Sequence[float] | pl.Series,
    recency: np.ndarray | Sequence[float] | pl.Series,
    T: np.ndarray | Sequence[float] | pl.Series,
) -> np.ndarray:
    """Per-customer BG/NBD log-likelihood (FHL eq. 6), evaluated in log space.

    ``ℓ = ln Γ(r+x) − ln Γ(r) + r ln α + ln B(a, b+x) − ln B(a, b)
    + logaddexp(−(r+x) ln(α+T), ln a − ln(b+x−1) − (r+x) ln(α+t_x))``, the second
    ``logaddexp`` argument absent (−∞) for ``x = 0``.

    Parameters
    ----------
    params
        ``r``, ``alpha``, ``a``, ``b`` (positive).
    frequency, recency, T
        ``x``, ``t_x`` and ``T`` per customer (array-likes of equal length).

    Returns
    -------
    numpy.ndarray
        One log-likelihood per customer.
    """
    r, alpha, a, b = positive_params(params, PARAMS)
    x, tx, T = (np.asarray(v, dtype=float) for v in (frequency, recency, T))
    if not x.shape == tx.shape == T.shape:
        raise ValueError(f"frequency, recency, T differ in shape: {x.shape}, {tx.shape}, {T.shape}")
    head = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + betaln(a, b + x) - betaln(a, b)
    return head + _log_tail(r, alpha, a, b, x, tx, T)


def _log_tail(r, alpha, a, b, x, tx, T) -> np.ndarray:
    """``logaddexp(A3, A4)`` of FHL eq. 6 (A4 = −∞ for x = 0)."""
    repeat = x > 0
    a3 = -(r + x) * np.log(alpha + T)
    a4 = np.full_like(a3, -np.inf)
    xr = x[repeat]
    a4[repeat] = np.log(a) - np.log(b + xr - 1) - (r + xr) * np.log(alpha + tx[repeat])
    return np.logaddexp(a3, a4)


def _log_odds_dead(r, alpha, a, b, x, tx, T) -> np.ndarray:
    """``ln(a/(b+x−1)) + (r+x) ln((α+T)/(α+t_x))`` for x > 0 (−∞ for x = 0): P(alive) is its
    logistic complement."""
    out = np.full(np.shape(x), -np.inf)
    rep = x > 0
    xr = x[rep]
    out[rep] = (
        np.log(a) - np.log(b + xr - 1) + (r + xr) * np.log1p((T[rep] - tx[rep]) / (alpha + tx[rep]))
    )
    return out


def _expected_alive(r, alpha, a: float, b, t) -> np.ndarray:
    """``E(t; r, α, a, b)`` of FHL eq. 9 (arrays broadcast; ``a`` scalar), via Euler's
    transformation; see the module docstring for a ≈ 1 and a + b − 1 ≈ 0."""
    if abs(a - 1.0) < _A_NEAR_ONE:  # 0/0 at a = 1: cubic interpolation across it
        nodes = 1.0 + _A_NEAR_ONE * np.array([-2.0, -1.0, 1.0, 2.0])
        total = 0.0
        for i, node in enumerate(nodes):
            others = np.delete(nodes, i)
            weight = float(np.prod((a - others) / (node - others)))  # Lagrange basis
            total = total + weight * _expected_alive_off_one(r, alpha, float(node), b, t)
        return total
    return _expected_alive_off_one(r, alpha, a, b, t)


def _expected_alive_off_one(r, alpha, a: float, b, t) -> np.ndarray:
    r, alpha, b, t = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (r, alpha, b, t)))
    c = a + b - 1.0
    out = np.empty(r.shape)
    split = np.abs(c) < _C_NEAR_ZERO
    if split.any():
        rs, als, bs, ts = r[split], alpha[split], b[split], t[split]
        out[split] = bs / (a + bs) * _expected_alive(rs, als, a, bs + 1.0, ts) + a / (
            a + bs
        ) * _expected_alive(rs, als, a + 1.0, bs, ts)
    keep = ~split
    r, alpha, c, t = r[keep], alpha[keep], c[keep], t[keep]
    eps = a - 1.0
    z = t / (alpha + t)
    log_1mz = -np.log1p(t / alpha)  # ln(1 − z) = ln(α / (α + t))
    f = hyp2f1(c - r, eps, c, z)
    failed = ~np.isfinite(f)
    if failed.any():
        f[failed] = _hyp2f1_series(c[failed] - r[failed], eps, c[failed], z[failed])
    bracket = -np.expm1(eps * log_1mz) - np.exp(eps * log_1mz) * (f - 1.0)
    out[keep] = c / eps * bracket
    return out


def _hyp2f1_series(A, B, C, z, *, max_terms: int = 100_000) -> np.ndarray:
    """₂F₁(A, B; C; z) by its power series Σ_k (A)_k (B)_k / ((C)_k k!) z^k, for 0 ≤ z < 1.

    The fallback where ``scipy.special.hyp2f1`` returns NaN or ∞ — seen for C ≳ 100 and z
    near 1, above all when C − A − B is an integer (e.g. ₂F₁(1, 1; 101; 0.94)). There C is
    large, so the terms fall fast. A row stops when the next term ratio is below 1 and the
    term is below 1e-16 · (1 − z) · |sum| (a bound on the tail once the ratios stay below z);
    rows that do not converge within ``max_terms`` stay NaN.
    """
    A, B, C, z = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (A, B, C, z)))
    total = np.ones(A.shape)
    term = np.ones(A.shape)
    active = np.nonzero(np.ones(A.shape, dtype=bool))[0]
    for k in range(max_terms):
        if active.size == 0:
            return total
        a_, b_, c_, z_ = A[active], B[active], C[active], z[active]
        term[active] *= (a_ + k) * (b_ + k) / ((c_ + k) * (k + 1.0)) * z_
        total[active] += term[active]
        next_ratio = np.abs((a_ + k + 1) * (b_ + k + 1) / ((c_ + k + 1) * (k + 2.0)) * z_)
        small = np.abs(term[active]) <= 1e-16 * (1.0 - z_) * np.abs(total[active])
        active = active[~(small & (next_ratio < 1.0))]
    total[active] = np.nan
    return total


def _unique_rows(*columns: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """Distinct rows of the given equal-length columns and, per input row, its distinct row."""
    keys = pl.DataFrame({f"c{i}": c for i, c in enumerate(columns)})
    distinct = keys.unique().with_row_index("_row")
    inverse = keys.join(distinct, on=list(keys.columns), how="left", maintain_order="left")
    return (
        [distinct.get_column(c).to_numpy() for c in keys.columns],
        inverse.get_column("_row").to_numpy(),
    )


def conditional_expected(
    params: Mapping[str, float], x: np.ndarray, tx: np.ndarray, T: np.ndarray, t: np.ndarray
) -> np.ndarray:
    """FHL eq. 10 for every customer (rows) and horizon ``t`` (columns): shape (n, len(t)).

    The ₂F₁ part depends on (x, T) only and is computed once per distinct pair.
    """
    r, alpha, a, b = positive_params(params, PARAMS)
    t = np.atleast_1d(np.asarray(t, dtype=float))
    (ux, uT), inverse = _unique_rows(x, T)
    alive_mean = _expected_alive(
        (r + ux)[:, None], (alpha + uT)[:, None], a, (b + ux)[:, None], t[None, :]
    )
    p_alive = expit(-_log_odds_dead(r, alpha, a, b, x, tx, T))
    out = p_alive[:, None] * alive_mean[inverse]
    if not np.isfinite(out).all():
        bad = int((~np.isfinite(out)).any(axis=1).sum())
        raise FloatingPointError(
            f"expected purchases are not finite for {bad} customer(s) at {dict(params)}; "
            "the hypergeometric function could not be evaluated there"
        )
    return out


# ----------------------------------------------------------------------------- predictions
def prob_alive(
    fit: BGNBDFit, summary: pl.DataFrame, *, customer_col: str = "customer_key"
) -> pl.DataFrame:
    """Probability that each customer is still alive at the end of observation.

    ``P(alive | x, t_x, T) = 1 / (1 + δ(x>0) · a/(b+x−1) · ((α+T)/(α+t_x))^(r+x))``
    (Fader, Hardie & Lee, "Computing P(alive) Using the BG/NBD Model", note 021), computed as
    the logistic of minus the log-odds, so it is exactly 1 for x = 0 and never overflows.

    Returns
    -------
    polars.DataFrame
        ``customer_col`` and ``p_alive``, in the order of ``summary``.
    """
    require(summary, [customer_col])
    x, tx, T = rfm_arrays(summary)
    r, alpha, a, b = positive_params(fit.params, PARAMS)
    p = expit(-_log_odds_dead(r, alpha, a, b, x, tx, T))
    return summary.select(customer_col).with_columns(pl.Series("p_alive", p))


def expected_purchases(
    fit: BGNBDFit, summary: pl.DataFrame, t: float, *, customer_col: str = "customer_key"
) -> pl.DataFrame:
    """Expected repeat purchases of each customer in the next ``t`` periods (FHL eq. 10).

    ``E[Y(t) | x, t_x, T] = (a+b+x−1)/(a−1) · [1 − ((α+T)/(α+T+t))^(r+x) ·
    ₂F₁(r+x, b+x; a+b+x−1; t/(α+T+t))] / (1 + δ(x>0) · a/(b+x−1) · ((α+T)/(α+t_x))^(r+x))``,
    evaluated as P(alive) times the expectation of an alive customer with posterior parameters
    (see the module docstring for the stable form).

    Parameters
    ----------
    fit
        The model.
    summary
        ``customer_col``, ``frequency``, ``recency``, ``T``.
    t
        Horizon in periods (≥ 0).

    Returns
    -------
    polars.DataFrame
        ``customer_col`` and ``expected_purchases``, in the order of ``summary``.

    Raises
    ------
    FloatingPointError
        If the hypergeometric function cannot be evaluated (result not finite).
    """
    require(summary, [customer_col])
    t = _check_t(t)
    x, tx, T = rfm_arrays(summary)
    values = conditional_expected(fit.params, x, tx, T, np.array([t]))[:, 0]
    return summary.select(customer_col).with_columns(pl.Series("expected_purchases", values))


def expected_purchases_new(fit: BGNBDFit, t: float | Sequence[float]) -> pl.DataFrame:
    """Expected repeat purchases of a new customer in (0, t] (FHL eq. 9).

    ``E[X(t)] = (a+b−1)/(a−1) · [1 − (α/(α+t))^r · ₂F₁(r, b; a+b−1; t/(α+t))]``.

    Parameters
    ----------
    fit
        The model.
    t
        One horizon or several (periods, ≥ 0).

    Returns
    -------
    polars.DataFrame
        ``t`` and ``expected_purchases``, one row per horizon.
    """
    r, alpha, a, b = positive_params(fit.params, PARAMS)
    ts = np.array([_check_t(v) for v in np.atleast_1d(np.asarray(t, dtype=float))])
    values = _expected_alive(r, alpha, a, b, ts)
    if not np.isfinite(values).all():
        raise FloatingPointError(f"E[X(t)] is not finite at {fit.params} for t = {ts}")
    return pl.DataFrame({"t": ts, "expected_purchases": values})


# ----------------------------------------------------------------------------- fitting
class _BGNBDLikelihood(GenericLikelihoodModel):
    """BG/NBD likelihood over log-parameters for statsmodels, on distinct (x, t_x, T) rows
    with customer counts as weights; analytic score, Hessian by differencing the score.

    Terms that depend on x alone are summed once per distinct x.
    """

    def __init__(self, x, tx, T, weights, *, penalizer: float, time_scale: float):
        super().__init__(endog=weights, extra_params_names=[f"log_{k}" for k in PARAMS])
        self._n = float(weights.sum())
        self._penalizer = penalizer
        # lifetimes' time scaling: alpha is penalised as alpha * time_scale
        self._scale2 = np.array([1.0, time_scale**2, 1.0, 1.0])
        ux, x_row = np.unique(x, return_inverse=True)
        self._ux = ux
        self._n_ux = np.bincount(x_row, weights=weights)
        self._x, self._tx, self._T = x, tx, T
        rep = x > 0
        self._rx, self._rtx, self._rT, self._rw = x[rep], tx[rep], T[rep], weights[rep]
        zero = ~rep
        self._zT, self._zw = T[zero], weights[zero]
        self._cache_key: bytes = b""
        self._cache: dict[str, np.ndarray] = {}

    # -- pieces
    def _head(self, theta):
        r, alpha, a, b = theta
        ux = self._ux
        return gammaln(r + ux) - gammaln(r) + r * np.log(alpha) + betaln(a, b + ux) - betaln(a, b)

    def _repeat_terms(self, params) -> dict[str, np.ndarray]:
        """Row terms of the repeat customers, cached for the last ``params`` (the optimiser
        asks for the value and the score at the same point). With ``d = A4 − A3``:
        ``logaddexp(A3, A4) = A3 + softplus(d)`` and ``w4 = expit(d)`` = P(dropped out)."""
        key = np.asarray(params, dtype=float).tobytes()
        if self._cache_key != key:
            r, alpha, a, b = np.exp(params)
            x = self._rx
            log_aT = np.log(alpha + self._rT)
            log_gap = log_aT - np.log(alpha + self._rtx)  # ln((α+T)/(α+t_x)) ≥ 0
            d = np.log(a) - np.log(b + x - 1) + (r + x) * log_gap
            self._cache = {
                "a3": -(r + x) * log_aT,
                "softplus": np.logaddexp(0.0, d),
                "w4": expit(d),
                "log_aT": log_aT,
                "log_gap": log_gap,
            }
            self._cache_key = key
        return self._cache

    def penalty(self, theta) -> float:
        return self._penalizer * self._n * float(np.sum(self._scale2 * theta**2))

    # -- statsmodels interface
    def loglike_unpenalized(self, params) -> float:
        theta = np.exp(params)
        r, alpha = theta[:2]
        head = float(self._n_ux @ self._head(theta))
        zero = -r * float(self._zw @ np.log(alpha + self._zT))
        rep = self._repeat_terms(params)
        return head + zero + float(self._rw @ (rep["a3"] + rep["softplus"]))

    def loglike(self, params) -> float:
        return self.loglike_unpenalized(params) - self.penalty(np.exp(params))

    def loglikeobs(self, params) -> np.ndarray:
        """Weighted log-likelihood per distinct (x, t_x, T) row (no penalty)."""
        theta = np.exp(params)
        return self.endog * bgnbd_log_likelihood(
            dict(zip(PARAMS, theta, strict=True)), self._x, self._tx, self._T
        )

    def score(self, params) -> np.ndarray:
        theta = np.exp(params)
        r, alpha, a, b = theta
        ux, n_ux = self._ux, self._n_ux
        # terms in x alone
        g_r = n_ux @ (digamma(r + ux) - digamma(r) + np.log(alpha))
        g_alpha = self._n * r / alpha
        g_a = n_ux @ (digamma(a + b) - digamma(a + b + ux))
        g_b = n_ux @ (digamma(b + ux) - digamma(a + b + ux) - digamma(b) + digamma(a + b))
        # x = 0: −r ln(α+T)
        g_r -= self._zw @ np.log(alpha + self._zT)
        g_alpha -= r * (self._zw @ (1.0 / (alpha + self._zT)))
        # x > 0: d/dθ logaddexp(A3, A4) = (1 − w4) dA3/dθ + w4 dA4/dθ
        rep = self._repeat_terms(params)
        x, w, w4 = self._rx, self._rw, rep["w4"]
        g_r -= w @ (rep["log_aT"] - w4 * rep["log_gap"])
        g_alpha -= w @ ((r + x) * ((1.0 - w4) / (alpha + self._rT) + w4 / (alpha + self._rtx)))
        g_a += (w @ w4) / a
        g_b -= w @ (w4 / (b + x - 1))
        grad = theta * np.array([g_r, g_alpha, g_a, g_b])  # chain rule to log-parameters
        return grad - 2.0 * self._penalizer * self._n * self._scale2 * theta**2

    def hessian(self, params) -> np.ndarray:
        h = approx_fprime(np.asarray(params, dtype=float), self.score, centered=True)
        return (h + h.T) / 2.0


def _default_start(x: np.ndarray, T: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """r = 1, a = 1, b = 1 and α so that r/α is the pooled repeat rate Σx / ΣT."""
    rate = float(weights @ x) / max(float(weights @ T), 1e-12)
    return np.array([1.0, 1.0 / max(rate, 1e-12), 1.0, 1.0])


def fit_bgnbd(
    summary: pl.DataFrame,
    *,
    penalizer: float = 0.0,
    start: Mapping[str, float] | None = None,
    maxiter: int = 500,
) -> BGNBDFit:
    """Fit the BG/NBD model by maximum likelihood.

    Maximises ``Σ_i ℓ_i − penalizer · n · (r² + (α·s)² + a² + b²)`` over
    ``(ln r, ln α, ln a, ln b)`` with BFGS (statsmodels ``GenericLikelihoodModel``, analytic
    score), where ``ℓ_i`` is FHL eq. 6 (:func:`bgnbd_log_likelihood`), ``n`` the number of
    customers and ``s = 10 / max(T)`` — the time scaling of ``lifetimes``' ``BetaGeoFitter``,
    so its ``penalizer_coef`` values carry over. Customers are compressed to distinct
    (frequency, recency, T) triples weighted by their counts.

    Standard errors: the inverse of minus the Hessian of the (penalised) objective in
    log-parameters (central differences of the analytic score), mapped by the delta method
    ``se(θ) = θ · se(ln θ)``. With a penalty they
    are those of the penalised estimate, not of the maximum-likelihood one.

    Parameters
    ----------
    summary
        ``frequency`` (integer ≥ 0), ``recency`` (0 ≤ recency ≤ T, 0 when frequency is 0)
        and ``T``, in periods; other columns are ignored.
    penalizer
        L2 penalty coefficient (≥ 0), as in ``lifetimes``.
    start
        Starting values ``r``, ``alpha``, ``a``, ``b``; default ``r = a = b = 1`` and
        ``α = Σ T / Σ x``.
    maxiter
        Maximum BFGS iterations.

    Returns
    -------
    BGNBDFit

    Raises
    ------
    ValueError
        On invalid input, an empty summary, or no customer with a repeat purchase (the
        dropout process is then not identified).

    References
    ----------
    Fader, Hardie & Lee (2005), "'Counting Your Customers' the Easy Way", *Marketing
    Science* 24(2), 275–284, eq. 6.
    """
    x, tx, T = rfm_arrays(summary)
    if not (np.isfinite(penalizer) and penalizer >= 0):
        raise ValueError(f"penalizer must be ≥ 0, got {penalizer}")
    if x.size == 0:
        raise ValueError("summary has no customers: nothing to fit")
    if not (x > 0).any():
        raise ValueError(
            "no customer has a repeat purchase (frequency > 0): the BG/NBD model is not identified"
        )
    if T.max() <= 0:
        raise ValueError("every customer has T = 0: no time was observed")
    grouped = (
        pl.DataFrame({"x": x, "tx": tx, "T": T})
        .group_by("x", "tx", "T", maintain_order=True)  # deterministic order, hence sums
        .len()
    )
    gx, gtx, gT = (grouped.get_column(c).to_numpy() for c in ("x", "tx", "T"))
    weights = grouped.get_column("len").to_numpy().astype(float)
    model = _BGNBDLikelihood(
        gx, gtx, gT, weights, penalizer=float(penalizer), time_scale=10.0 / float(T.max())
    )
    theta0 = _default_start(gx, gT, weights) if start is None else positive_params(start, PARAMS)
    return _fit(model, np.log(theta0), maxiter, int(x.size), float(penalizer))


def _fit(model: _BGNBDLikelihood, start: np.ndarray, maxiter: int, n: int, penalizer: float):
    log_params, converged, iterations = maximize(model, start, maxiter, n_customers=n)
    theta = np.exp(log_params)
    warn_at_boundary(PARAMS, theta, "BG/NBD", stacklevel=4)
    if not converged:
        warnings.warn(
            f"BG/NBD fit did not converge after {iterations} iterations "
            f"(last parameters {rounded_params(PARAMS, theta)})",
            ConvergenceWarning,
            stacklevel=3,
        )
    se = log_scale_std_errors(model, log_params, stacklevel=4) * theta
    return BGNBDFit(
        params={k: float(v) for k, v in zip(PARAMS, theta, strict=True)},
        std_errors={k: float(v) for k, v in zip(PARAMS, se, strict=True)},
        log_likelihood=model.loglike_unpenalized(log_params),
        n_customers=n,
        converged=converged,
        iterations=iterations,
        penalizer=penalizer,
    )


def maximize(
    model: GenericLikelihoodModel, start: np.ndarray, maxiter: int, *, n_customers: int
) -> tuple[np.ndarray, bool, int]:
    """BFGS through statsmodels: (log-parameters, converged, iterations).

    statsmodels minimises −loglike / rows, so ``gtol`` applies to that mean; 1e-8 costs a
    few iterations more than scipy's 1e-5 and makes the estimate independent of the start to
    ~1e-6 (relative). A stop on "precision loss" (BFGS warnflag 2: no further decrease found)
    still counts as converged when the score per customer is below 1e-5.
    """
    iterations = 0

    def count(_params) -> None:
        nonlocal iterations
        iterations += 1

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        result = model.fit(
            start_params=start,
            method="bfgs",
            maxiter=maxiter,
            gtol=1e-8,
            disp=0,
            skip_hessian=True,
            callback=count,
        )
    log_params = np.asarray(result.params, dtype=float)
    converged = bool(result.mle_retvals["converged"])
    if not converged and result.mle_retvals.get("warnflag") == 2:
        gradient = model.score(log_params) / n_customers
        converged = bool(np.all(np.isfinite(gradient)) and np.abs(gradient).max() < 1e-5)
    return log_params, converged, iterations


def rounded_params(names: Sequence[str], theta: np.ndarray) -> dict[str, float]:
    return {n: float(f"{v:.4g}") for n, v in zip(names, theta, strict=True)}


def warn_at_boundary(
    names: Sequence[str], theta: np.ndarray, model: str, *, stacklevel: int = 3
) -> None:
    """Warn when estimates ran towards 0 or ∞ (outside [1e-8, 1e8]): the likelihood keeps
    rising towards the edge of the parameter space, so the data do not identify them."""
    if edge := [n for n, v in zip(names, theta, strict=True) if not 1e-8 <= v <= 1e8]:
        warnings.warn(
            f"{model}: {edge} ran to the edge of the parameter space "
            f"({rounded_params(names, theta)}); these data do not "
            "identify them (too few customers or repeat purchases)",
            RuntimeWarning,
            stacklevel=stacklevel,
        )


def log_scale_std_errors(
    model: GenericLikelihoodModel, log_params: np.ndarray, *, stacklevel: int = 3
) -> np.ndarray:
    """``sqrt(diag((−H)⁻¹))`` in log-parameters; NaN (with a warning) when −H is not positive
    definite."""
    info = -model.hessian(log_params)
    k = len(log_params)
    if np.isfinite(info).all():
        eigenvalues, vectors = np.linalg.eigh(info)
        if eigenvalues.min() > 0:
            cov = (vectors / eigenvalues) @ vectors.T
            return np.sqrt(np.diag(cov))
    warnings.warn(
        "the Hessian at the estimate is not negative definite: standard errors are NaN "
        "(the parameters may be poorly identified by these data)",
        RuntimeWarning,
        stacklevel=stacklevel,
    )
    return np.full(k, math.nan)
