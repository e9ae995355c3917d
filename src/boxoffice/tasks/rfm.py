"""``rfm``: each customer's recency, frequency and monetary scores (quintiles, 1–5) and segment,
from the purchase days in ``analytics.customer_days`` (summarized inside PostgreSQL), with a
segment summary. The summary is stored beside the scores, for the customer-value task."""

from __future__ import annotations

from dataclasses import dataclass

from boxoffice import customers
from boxoffice.tasks.base import Scope, Task
from boxoffice.warehouse import reads, schema


@dataclass(frozen=True)
class Params:
    """rfm has no parameters of its own."""


def per_tenant(scope: Scope, params: Params) -> dict:
    scores = customers.score_rfm(scope.read(reads.read_customer_summary))
    return {
        "analytics.customer_rfm": scores,
        "analytics.customer_segments": customers.segment_summary(scores),
    }


TASK = Task(
    name="rfm",
    params=Params,
    reads=("analytics.customer_days",),
    writes=(schema.customer_rfm, schema.customer_segments),
    per_tenant=per_tenant,
)
