"""``customer-value``: BG/NBD (purchases and dropout) and Gamma-Gamma (spend) fitted by maximum
likelihood per tenant on the customer summary the rfm task stored; each customer's P(alive),
expected purchases in the next 90 days, expected spend, CLV and churn risk, and the fitted
parameters with their standard errors."""

from __future__ import annotations

from dataclasses import dataclass

from boxoffice import customers
from boxoffice.tasks.base import Scope, Task
from boxoffice.warehouse import reads, schema


@dataclass(frozen=True)
class Params:
    months: int = 12  # the CLV horizon
    monthly_discount: float = 0.01  # the CLV's discount rate per month

    def __post_init__(self) -> None:
        if self.months < 1 or not 0 <= self.monthly_discount < 1:
            raise ValueError(
                f"need months ≥ 1 and 0 ≤ monthly_discount < 1, got {self.months}"
                f" and {self.monthly_discount}"
            )


def per_tenant(scope: Scope, params: Params) -> dict:
    value = customers.value_customers(
        scope.read(reads.read_scored_summary),
        months=params.months,
        monthly_discount=params.monthly_discount,
    )
    return {
        "analytics.customer_value": value.values,
        "analytics.customer_models": value.models,
        "risk": customers.risk_crosstab(value.values),
    }


TASK = Task(
    name="customer-value",
    params=Params,
    reads=("analytics.customer_rfm",),
    writes=(schema.customer_value, schema.customer_models),
    per_tenant=per_tenant,
)
