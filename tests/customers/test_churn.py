"""Churn risk thresholds by hand, at the boundaries."""

import polars as pl
import pytest

from boxoffice.customers.churn import at_risk_list, churn_risk, risk_crosstab


def test_thresholds_at_their_boundaries():
    frame = pl.DataFrame(
        {
            "p_alive": [0.0, 0.2999, 0.3, 0.6999, 0.7, 1.0],
            "days_since_last": [0, 29, 30, 90, 91, 400],
        }
    )
    out = churn_risk(frame)
    assert out["churn_risk"].to_list() == ["high", "high", "medium", "medium", "low", "low"]
    assert out["recency_risk"].to_list() == ["low", "low", "medium", "medium", "high", "high"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"high_below": 0.8, "medium_below": 0.5}, "high_below <= medium_below"),
        ({"recency_days": (90, 30)}, "increasing"),
    ],
)
def test_bad_thresholds(kwargs, message):
    frame = pl.DataFrame({"p_alive": [0.5], "days_since_last": [3]})
    with pytest.raises(ValueError, match=message):
        churn_risk(frame, **kwargs)


def test_requires_p_alive():
    with pytest.raises(ValueError, match="p_alive"):
        churn_risk(pl.DataFrame({"days_since_last": [1]}))


def test_at_risk_list_filters_and_orders_by_value():
    frame = pl.DataFrame(
        {
            "customer_key": ["a", "b", "c", "d"],
            "segment": ["At Risk", "At Risk", "Lost", "Champions"],
            "churn_risk": ["high", "high", "high", "low"],
            "p_alive": [0.1, 0.2, 0.05, 0.99],
            "days_since_last": [200, 150, 400, 3],
            "frequency": [4, 2, 0, 9],
            "recency_risk": ["high", "high", "high", "low"],
            "clv_12m": [500.0, 900.0, 10.0, 5000.0],
            "extra": [1, 2, 3, 4],
        }
    )
    out = at_risk_list(frame, segments=["At Risk", "Lost"])
    assert out["customer_key"].to_list() == ["b", "a", "c"]
    assert "extra" not in out.columns
    assert at_risk_list(frame, risks=[])["customer_key"].to_list() == ["d", "b", "a", "c"]
    with pytest.raises(ValueError, match="unknown churn risk"):
        at_risk_list(frame, risks=["severe"])


def test_risk_crosstab_counts_model_against_rule():
    frame = pl.DataFrame(
        {"churn_risk": ["high", "high", "low"], "recency_risk": ["high", "low", "low"]}
    )
    assert [tuple(r) for r in risk_crosstab(frame).iter_rows()] == [
        ("high", "high", 1),
        ("high", "low", 1),
        ("low", "low", 1),
    ]
