"""The models recover the truth the synthetic world was generated from (its manifest), through
the whole chain: world → ``source`` → ``analytics.customer_days`` → SQL summary → fit."""

from __future__ import annotations

import datetime as dt

import pytest

from boxoffice import customers, warehouse


@pytest.fixture(scope="module")
def fits(built_world) -> list[tuple[customers.BGNBDFit, customers.GammaGammaFit]]:
    manifest = built_world["manifest"]
    as_of = dt.date.fromisoformat(manifest["end_date"])
    out = []
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("BOXOFFICE_DATABASE_URL", built_world["url"])
        for tenant in manifest["tenants"]:
            summary = warehouse.read_customer_summary(as_of=as_of, tenant=tenant["tenant_id"])
            out.append((customers.fit_bgnbd(summary), customers.fit_gamma_gamma(summary)))
    return out


def test_bgnbd_recovers_the_manifest_within_three_standard_errors(built_world, fits):
    truth = built_world["manifest"]["truth"]["bgnbd"]  # time unit: days
    for bgnbd, _ in fits:
        assert bgnbd.converged and bgnbd.n_customers > 5000
        for name, true in truth.items():
            estimate, se = bgnbd.params[name], bgnbd.std_errors[name]
            assert abs(estimate - true) < 3 * se, (name, estimate, se, true)


def test_gamma_gamma_recovers_the_mean_spend_and_its_independence(built_world, fits):
    """A world order's value is tickets × price, with tickets = intended spend ÷ price rounded
    stochastically into 1…8 (see the manifest's notes): the rounding keeps the mean but adds
    noise and the clipping trims the tails, so ``p, q, γ`` of the realised values are not the
    manifest's (exact recovery is tested on direct simulation in ``test_gamma_gamma.py``). The
    population mean spend ``p·γ/(q − 1)`` is what survives, and spend stays independent of
    frequency."""
    truth = built_world["manifest"]["truth"]["gamma_gamma"]  # currency units; values in cents
    true_mean = truth["p"] * truth["gamma"] / (truth["q"] - 1) * 100
    for _, gg in fits:
        p, q, gamma = (gg.params[k] for k in ("p", "q", "gamma"))
        assert p * gamma / (q - 1) == pytest.approx(true_mean, rel=0.05)
        assert abs(gg.frequency_monetary_correlation) < 0.1
