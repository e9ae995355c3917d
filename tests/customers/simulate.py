"""Simulated customer bases from the BG/NBD and Gamma-Gamma models (test helper).

Exact draws from the generative models, vectorised instead of stepping through purchases:

BG/NBD (Fader, Hardie & Lee 2005): λ ~ Gamma(r, rate α), p ~ Beta(a, b). The customer drops
out right after repeat purchase ``K``, ``K ~ Geometric(p)`` on {1, 2, ...} (after each repeat
purchase, dropout with probability p; none at the first purchase). Repeat purchases are the
arrivals of a Poisson process with rate λ, so with ``N ~ Poisson(λ T)`` arrivals in (0, T]:

- ``frequency = min(K, N)`` and ``alive at T = K > N``;
- ``recency`` = time of arrival number ``frequency``: given N, the arrival times are N sorted
  uniforms on (0, T), and the k-th of them is ``T · Beta(k, N − k + 1)``;
- holdout purchases in (T, T + T_holdout]: ``min(K − N, Poisson(λ T_holdout))`` if alive at T
  (memorylessness), else 0.

Gamma-Gamma (Fader, Hardie & Lee 2005, JMR; Fader & Hardie 2013 note): ν ~ Gamma(q, rate γ) per
customer, each repeat purchase's value ~ Gamma(p, rate ν), so the sum of x values is
Gamma(p x, rate ν) and ``monetary_value`` = sum / x (0 when x = 0).
"""

from __future__ import annotations

import numpy as np
import polars as pl


def simulate_bgnbd(
    n: int,
    r: float,
    alpha: float,
    a: float,
    b: float,
    T: float | np.ndarray,
    rng: np.random.Generator,
    *,
    T_holdout: float = 0.0,
) -> pl.DataFrame:
    """``n`` customers observed for ``T`` periods (a number or one per customer).

    Returns ``customer_key`` (0..n−1), ``frequency``, ``recency``, ``T``,
    ``frequency_holdout`` (repeat purchases in (T, T + T_holdout]) and the latent ``lambda_``,
    ``p`` and ``alive`` (at T).
    """
    T = np.broadcast_to(np.asarray(T, dtype=float), (n,)).copy()
    lam = rng.gamma(r, 1.0 / alpha, n)
    p = rng.beta(a, b, n)
    dropout_after = rng.geometric(p)  # K in {1, 2, ...}
    arrivals = rng.poisson(lam * T)  # N in (0, T]
    x = np.minimum(dropout_after, arrivals)
    recency = np.zeros(n)
    rep = x > 0
    recency[rep] = T[rep] * rng.beta(x[rep], arrivals[rep] - x[rep] + 1)
    alive = dropout_after > arrivals
    later = rng.poisson(lam * T_holdout)
    holdout = np.where(alive, np.minimum(dropout_after - arrivals, later), 0)
    return pl.DataFrame(
        {
            "customer_key": np.arange(n),
            "frequency": x.astype(np.int64),
            "recency": recency,
            "T": T,
            "frequency_holdout": holdout.astype(np.int64),
            "lambda_": lam,
            "p": p,
            "alive": alive,
        }
    )


def simulate_gamma_gamma(
    summary: pl.DataFrame, p: float, q: float, gamma: float, rng: np.random.Generator
) -> pl.DataFrame:
    """Add ``monetary_value`` (mean of ``frequency`` Gamma-Gamma draws; 0 when frequency is 0)
    and the latent ``nu`` to ``summary``."""
    x = summary.get_column("frequency").to_numpy().astype(float)
    nu = rng.gamma(q, 1.0 / gamma, x.size)
    total = np.zeros(x.size)
    rep = x > 0
    total[rep] = rng.gamma(p * x[rep], 1.0 / nu[rep])
    monetary = np.where(rep, total / np.where(rep, x, 1.0), 0.0)
    return summary.with_columns(pl.Series("monetary_value", monetary), pl.Series("nu", nu))
