"""Gamma-Gamma model of spend per purchase: fit and expected spend.

The model (Fader, Hardie & Lee 2005, "RFM and CLV: Using Iso-Value Curves for Customer Base
Analysis", *Journal of Marketing Research* 42(4), 415–430; Fader & Hardie 2013, "The
Gamma-Gamma Model of Monetary Value", brucehardie.com note 025):

- the value of each of a customer's purchases is z ~ Gamma(shape p, rate ν);
- ν varies across customers, ν ~ Gamma(shape q, rate γ);
- spend is independent of the purchase process (check: the correlation between frequency and
  monetary value among repeat customers, reported by :func:`fit_gamma_gamma`, should be near 0).

Data per customer: ``x`` = ``frequency`` (repeat purchases) and ``m̄`` = ``monetary_value``
(their mean value); only repeat customers (x > 0, m̄ > 0) carry information.

Log-likelihood of one customer (the note: the density of the mean m̄ of x draws, with ν
integrated out)::

    ℓ = ln Γ(px+q) − ln Γ(px) − ln Γ(q) + q ln γ + (px−1) ln m̄ + px ln x − (px+q) ln(γ + m̄x)

Expected spend per purchase given the history (the note; FHL 2005 JMR)::

    E[M | x, m̄] = p (γ + m̄x) / (px + q − 1)
                 = (q−1)/(px+q−1) · pγ/(q−1) + px/(px+q−1) · m̄

a weighted mean of the population mean pγ/(q−1) and the customer's own mean; a customer
without repeat purchases (x = 0) gets the population mean. It exists only for q > 1.

Fitting is maximum likelihood over log-parameters with statsmodels ``GenericLikelihoodModel``
(analytic score; the terms in x alone are summed once per distinct x), standard errors by the
delta method as in :mod:`boxoffice.customers.bgnbd`.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy.special import digamma, gammaln
from statsmodels.base.model import GenericLikelihoodModel
from statsmodels.tools.numdiff import approx_fprime
from statsmodels.tools.sm_exceptions import ConvergenceWarning

from boxoffice.customers.bgnbd import (
    log_scale_std_errors,
    maximize,
    numeric_column,
    param_table,
    positive_params,
    rounded_params,
    warn_at_boundary,
)
from boxoffice.frames import require

__all__ = [
    "GG_PARAMS",
    "GammaGammaFit",
    "expected_spend",
    "fit_gamma_gamma",
    "gamma_gamma_log_likelihood",
]

GG_PARAMS = ("p", "q", "gamma")


@dataclass(frozen=True)
class GammaGammaFit:
    """A fitted (or given) Gamma-Gamma spend model.

    Attributes
    ----------
    params
        ``p`` (shape of a purchase's value), ``q`` and ``gamma`` (shape and rate of the
        customers' value rates ν), in the currency unit of ``monetary_value``.
    std_errors
        Standard errors on the natural scale (delta method); NaN when not estimable or given.
    log_likelihood
        Total log-likelihood over the repeat customers used.
    n_customers
        Repeat customers (frequency > 0, monetary_value > 0) the model was fitted on.
    frequency_monetary_correlation
        Pearson correlation of frequency and monetary value among those customers; the model
        assumes independence, so it should be near 0.
    converged
        Whether the optimiser reported convergence.
    iterations
        Optimiser iterations.
    """

    params: dict[str, float]
    std_errors: dict[str, float]
    log_likelihood: float
    n_customers: int
    frequency_monetary_correlation: float
    converged: bool
    iterations: int = 0

    def __post_init__(self) -> None:
        positive_params(self.params, GG_PARAMS)

    @classmethod
    def from_params(cls, *, p: float, q: float, gamma: float) -> GammaGammaFit:
        """A model with known parameters (nothing estimated: standard errors, log-likelihood
        and correlation are NaN)."""
        return cls(
            params={"p": p, "q": q, "gamma": gamma},
            std_errors=dict.fromkeys(GG_PARAMS, math.nan),
            log_likelihood=math.nan,
            n_customers=0,
            frequency_monetary_correlation=math.nan,
            converged=True,
        )

    @property
    def mean_spend(self) -> float:
        """Population mean spend per purchase, ``pγ / (q − 1)`` (requires q > 1)."""
        p, q, gamma = positive_params(self.params, GG_PARAMS)
        _require_q_above_one(q)
        return float(p * gamma / (q - 1))

    def summary(self) -> pl.DataFrame:
        """One row per parameter: ``param``, ``estimate``, ``std_error``, ``lower_95``,
        ``upper_95`` (interval from the log scale)."""
        return param_table(self.params, self.std_errors)


def _require_q_above_one(q: float) -> None:
    if not q > 1:
        raise ValueError(
            f"expected spend needs q > 1 (the population mean pγ/(q−1) is infinite), got q={q}"
        )


# ----------------------------------------------------------------------------- formulas
def gamma_gamma_log_likelihood(
    params: Mapping[str, float],
    frequency: np.ndarray | Sequence[float] | pl.Series,
    monetary_value: np.ndarray | Sequence[float] | pl.Series,
) -> np.ndarray:
    """Per-customer Gamma-Gamma log-likelihood of the mean spend (Fader & Hardie 2013).

    ``ℓ = ln Γ(px+q) − ln Γ(px) − ln Γ(q) + q ln γ + (px−1) ln m̄ + px ln x
    − (px+q) ln(γ + m̄x)``, for repeat customers (x > 0, m̄ > 0).

    Parameters
    ----------
    params
        ``p``, ``q``, ``gamma`` (positive).
    frequency, monetary_value
        ``x`` and ``m̄`` per customer, both positive.

    Returns
    -------
    numpy.ndarray
        One log-likelihood per customer.
    """
    p, q, gamma = positive_params(params, GG_PARAMS)
    x, m = (np.asarray(v, dtype=float) for v in (frequency, monetary_value))
    if x.shape != m.shape:
        raise ValueError(f"frequency and monetary_value differ in shape: {x.shape}, {m.shape}")
    if (x <= 0).any() or (m <= 0).any():
        raise ValueError("the likelihood is defined for repeat customers: x > 0 and m̄ > 0")
    px = p * x
    return (
        gammaln(px + q)
        - gammaln(px)
        - gammaln(q)
        + q * np.log(gamma)
        + (px - 1) * np.log(m)
        + px * np.log(x)
        - (px + q) * np.log(gamma + m * x)
    )


def spend_arrays(summary: pl.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """``frequency`` (integer ≥ 0) and ``monetary_value`` (≥ 0) as validated float arrays."""
    require(summary, ("frequency", "monetary_value"))
    x = numeric_column(summary, "frequency", integer=True)
    m = numeric_column(summary, "monetary_value")
    return x, m


def expected_spend_values(fit: GammaGammaFit, x: np.ndarray, m: np.ndarray) -> np.ndarray:
    """``p (γ + m̄x) / (px + q − 1)`` per customer (= pγ/(q−1) for x = 0)."""
    p, q, gamma = positive_params(fit.params, GG_PARAMS)
    _require_q_above_one(q)
    return p * (gamma + m * x) / (p * x + q - 1)


def expected_spend(
    fit: GammaGammaFit, summary: pl.DataFrame, *, customer_col: str = "customer_key"
) -> pl.DataFrame:
    """Expected value of each customer's future purchases (Fader & Hardie 2013).

    ``E[M | x, m̄] = p (γ + m̄x) / (px + q − 1)``: the customer's mean ``m̄`` shrunk towards the
    population mean ``pγ/(q−1)`` with weight ``px/(px+q−1)`` on the customer's own mean;
    customers with frequency 0 get the population mean.

    Parameters
    ----------
    fit
        The model (needs q > 1).
    summary
        ``customer_col``, ``frequency``, ``monetary_value``.

    Returns
    -------
    polars.DataFrame
        ``customer_col`` and ``expected_spend`` (currency unit of ``monetary_value``), in the
        order of ``summary``.

    Raises
    ------
    ValueError
        If q ≤ 1 or the input is invalid.
    """
    require(summary, [customer_col])
    x, m = spend_arrays(summary)
    values = expected_spend_values(fit, x, m)
    return summary.select(customer_col).with_columns(pl.Series("expected_spend", values))


# ----------------------------------------------------------------------------- fitting
class _GammaGammaLikelihood(GenericLikelihoodModel):
    """Gamma-Gamma likelihood over log-parameters for statsmodels, with analytic score.

    Sums that do not involve the parameters (Σ x ln m̄, Σ ln m̄, Σ x ln x) are computed once;
    the terms in x alone once per distinct x; only ``ln(γ + m̄x)`` is per customer.
    """

    def __init__(self, x: np.ndarray, m: np.ndarray):
        super().__init__(endog=m, extra_params_names=[f"log_{k}" for k in GG_PARAMS])
        self._x, self._m = x, m
        self._spend = m * x
        self._n = float(x.size)
        self._ux, counts = np.unique(x, return_counts=True)
        self._n_ux = counts.astype(float)
        log_m = np.log(m)
        self._sum_x_log_m = float(x @ log_m)
        self._sum_log_m = float(log_m.sum())
        self._sum_x_log_x = float(x @ np.log(x))
        self._sum_x = float(x.sum())
        self._cache_key = math.nan
        self._cache: tuple[np.ndarray, np.ndarray] = (np.empty(0), np.empty(0))

    def _log_u(self, gamma: float) -> tuple[np.ndarray, np.ndarray]:
        """``ln(γ + m̄x)`` and ``1/(γ + m̄x)``, cached for the last γ."""
        if gamma != self._cache_key:
            u = gamma + self._spend
            self._cache = (np.log(u), 1.0 / u)
            self._cache_key = gamma
        return self._cache

    def loglike(self, params) -> float:
        p, q, gamma = np.exp(params)
        ux, n_ux, x = self._ux, self._n_ux, self._x
        log_u, _ = self._log_u(gamma)
        return float(
            n_ux @ (gammaln(p * ux + q) - gammaln(p * ux))
            - self._n * gammaln(q)
            + self._n * q * np.log(gamma)
            + p * self._sum_x_log_m
            - self._sum_log_m
            + p * self._sum_x_log_x
            - p * (x @ log_u)
            - q * log_u.sum()
        )

    def loglikeobs(self, params) -> np.ndarray:
        return gamma_gamma_log_likelihood(
            dict(zip(GG_PARAMS, np.exp(params), strict=True)), self._x, self._m
        )

    def score(self, params) -> np.ndarray:
        theta = np.exp(params)
        p, q, gamma = theta
        ux, n_ux, x = self._ux, self._n_ux, self._x
        log_u, inv_u = self._log_u(gamma)
        psi = digamma(p * ux + q)
        g_p = (
            n_ux @ (ux * (psi - digamma(p * ux)))
            + self._sum_x_log_m
            + self._sum_x_log_x
            - x @ log_u
        )
        g_q = n_ux @ psi - self._n * digamma(q) + self._n * np.log(gamma) - log_u.sum()
        g_gamma = self._n * q / gamma - p * (x @ inv_u) - q * inv_u.sum()
        return theta * np.array([g_p, g_q, g_gamma])

    def hessian(self, params) -> np.ndarray:
        h = approx_fprime(np.asarray(params, dtype=float), self.score, centered=True)
        return (h + h.T) / 2.0


def _correlation(x: np.ndarray, m: np.ndarray) -> float:
    if x.size < 2 or x.std() == 0 or m.std() == 0:
        return math.nan
    return float(np.corrcoef(x, m)[0, 1])


def fit_gamma_gamma(
    summary: pl.DataFrame,
    *,
    start: Mapping[str, float] | None = None,
    maxiter: int = 500,
) -> GammaGammaFit:
    """Fit the Gamma-Gamma spend model by maximum likelihood on the repeat customers.

    Maximises ``Σ_i ℓ_i`` (:func:`gamma_gamma_log_likelihood`) over ``(ln p, ln q, ln γ)``
    with BFGS (statsmodels ``GenericLikelihoodModel``, analytic score) over the customers with
    ``frequency > 0`` and ``monetary_value > 0``; others are ignored. Standard errors: inverse
    of minus the Hessian in log-parameters, then ``se(θ) = θ · se(ln θ)``.

    Parameters
    ----------
    summary
        ``frequency`` (integer ≥ 0) and ``monetary_value`` (≥ 0, the mean value of the repeat
        purchases); other columns are ignored.
    start
        Starting values ``p``, ``q``, ``gamma``; default ``p = 1``, ``q = 2`` and γ the mean
        of ``monetary_value`` (so that the population mean pγ/(q−1) matches it).
    maxiter
        Maximum BFGS iterations.

    Returns
    -------
    GammaGammaFit
        Includes ``frequency_monetary_correlation`` to check the independence assumption.

    Raises
    ------
    ValueError
        On invalid input, or when no customer has a repeat purchase with positive value.

    References
    ----------
    Fader & Hardie (2013), "The Gamma-Gamma Model of Monetary Value"; Fader, Hardie & Lee
    (2005), "RFM and CLV: Using Iso-Value Curves for Customer Base Analysis", *JMR* 42(4).
    """
    x, m = spend_arrays(summary)
    repeat = (x > 0) & (m > 0)
    if not repeat.any():
        raise ValueError(
            "no customer has a repeat purchase with positive monetary_value "
            "(frequency > 0, monetary_value > 0): nothing to fit the spend model on"
        )
    x, m = x[repeat], m[repeat]
    model = _GammaGammaLikelihood(x, m)
    if start is None:
        theta0 = np.array([1.0, 2.0, float(m.mean())])
    else:
        theta0 = positive_params(start, GG_PARAMS)
    log_params, converged, iterations = maximize(
        model, np.log(theta0), maxiter, n_customers=int(x.size)
    )
    theta = np.exp(log_params)
    warn_at_boundary(GG_PARAMS, theta, "Gamma-Gamma")
    if not converged:
        warnings.warn(
            f"Gamma-Gamma fit did not converge after {iterations} iterations "
            f"(last parameters {rounded_params(GG_PARAMS, theta)})",
            ConvergenceWarning,
            stacklevel=2,
        )
    se = log_scale_std_errors(model, log_params) * theta
    return GammaGammaFit(
        params={k: float(v) for k, v in zip(GG_PARAMS, theta, strict=True)},
        std_errors={k: float(v) for k, v in zip(GG_PARAMS, se, strict=True)},
        log_likelihood=model.loglike(log_params),
        n_customers=int(x.size),
        frequency_monetary_correlation=_correlation(x, m),
        converged=converged,
        iterations=iterations,
    )
