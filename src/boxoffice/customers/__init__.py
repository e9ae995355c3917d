"""Customer intelligence: summaries, RFM segments, BG/NBD and Gamma-Gamma models, lifetime
value and churn risk — functions from polars frames to polars frames, usable on any
transactions frame as well as on the warehouse's."""

from boxoffice.customers.bgnbd import BGNBDFit, expected_purchases, fit_bgnbd, prob_alive
from boxoffice.customers.churn import at_risk_list, churn_risk, risk_crosstab
from boxoffice.customers.clv import customer_lifetime_value
from boxoffice.customers.gamma_gamma import GammaGammaFit, expected_spend, fit_gamma_gamma
from boxoffice.customers.rfm import (
    SEGMENT_MAP,
    SEGMENTS,
    score_rfm,
    segment_movement,
    segment_summary,
)
from boxoffice.customers.summary import summarize_customers
from boxoffice.customers.value import CustomerValue, value_customers

__all__ = [
    "SEGMENTS",
    "SEGMENT_MAP",
    "BGNBDFit",
    "CustomerValue",
    "GammaGammaFit",
    "at_risk_list",
    "churn_risk",
    "customer_lifetime_value",
    "expected_purchases",
    "expected_spend",
    "fit_bgnbd",
    "fit_gamma_gamma",
    "prob_alive",
    "risk_crosstab",
    "score_rfm",
    "segment_movement",
    "segment_summary",
    "summarize_customers",
    "value_customers",
]
