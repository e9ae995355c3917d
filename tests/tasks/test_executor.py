"""The one executor: parameters checked before anything runs, reads checked against the
declaration, every tenant's partitions committed together or not at all."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass

import polars as pl
import pytest

from boxoffice import tasks
from boxoffice.warehouse import read_frame, reads, schema

AS_OF = dt.date(2026, 10, 31)
A, B = str(uuid.UUID(int=0xA)), str(uuid.UUID(int=0xB))


@dataclass(frozen=True)
class Params:
    customers: int = 3
    share: float = 0.5
    fail_for: str = ""

    def __post_init__(self) -> None:
        if self.customers < 0:
            raise ValueError(f"customers must be ≥ 0, got {self.customers}")


def segments(scope: tasks.Scope, params: Params) -> dict:
    if scope.tenant == params.fail_for:
        raise RuntimeError(f"no segments for {scope.tenant}")
    frame = pl.DataFrame(
        {
            "segment": ["Champions"],
            "customers": [params.customers],
            "revenue": [10.0],
            "purchases": [2],
            "average_order_value": [5.0],
            "share_of_customers": [params.share],
            "share_of_revenue": [1.0],
        }
    )
    return {"analytics.customer_segments": frame, "shown": frame.select("segment")}


TOY = tasks.Task(
    name="toy",
    params=Params,
    reads=("analytics.events",),
    writes=(schema.customer_segments,),
    per_tenant=segments,
)


def stored(tenant: str) -> list[tuple]:
    frame = read_frame(
        "select segment, customers from analytics.customer_segments where as_of = $1",
        [AS_OF],
        tenant=tenant,
    )
    return frame.rows()


def test_every_tenant_is_written_and_its_frames_handed_back(migrated_db):
    done = tasks.execute(TOY, as_of="2026-10-31", tenants=f"{A},{B}", params={"customers": 7})
    assert done.rows == {"analytics.customer_segments": 2}
    assert stored(A) == stored(B) == [("Champions", 7)]
    assert done.frames[B]["shown"].rows() == [("Champions",)]
    assert done.params == Params(customers=7)


def test_a_tenant_that_fails_leaves_every_tenants_partition_as_it_was(migrated_db):
    tasks.execute(TOY, as_of=AS_OF, tenants=f"{A},{B}")
    with pytest.raises(RuntimeError, match=f"no segments for {B}"):
        tasks.execute(TOY, as_of=AS_OF, tenants=f"{A},{B}", params={"customers": 9, "fail_for": B})
    assert stored(A) == stored(B) == [("Champions", 3)]  # A's 9 was not committed either


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"customer": 1},
            "task toy: unknown parameter(s) customer; it has customers, fail_for, share",
        ),
        ({"customers": 1.5}, "task toy: parameter customers must be int, got 1.5"),
        ({"customers": "many"}, "task toy: parameter customers must be int, got 'many'"),
        ({"customers": True}, "task toy: parameter customers must be int, got True"),
        ({"customers": -1}, "task toy: customers must be ≥ 0, got -1"),
    ],
)
def test_bad_parameters_are_refused_by_name_before_anything_runs(migrated_db, overrides, message):
    with pytest.raises(tasks.TaskParameterError, match=f"^{re.escape(message)}$"):
        tasks.execute(TOY, as_of=AS_OF, tenants=A, params=overrides)
    assert stored(A) == []


def test_a_number_from_yaml_becomes_the_declared_type():
    assert TOY.configure({"share": 1}) == Params(share=1.0)
    assert isinstance(TOY.configure({"share": 1}).share, float)


def test_a_read_the_task_did_not_declare_is_refused(migrated_db):
    scope = tasks.Scope(TOY, AS_OF, A)
    assert scope.read(reads.read_events).height == 0  # declared: analytics.events
    with pytest.raises(tasks.UndeclaredRead, match=r"task toy reads analytics\.sales_daily"):
        scope.read(reads.read_sales_daily)


def test_a_notebook_whose_wiring_disagrees_with_the_declaration_fails_first(migrated_db):
    with pytest.raises(RuntimeError, match=r"gives upstream \[\], its reads need \['rfm'\]"):
        tasks.run("customer-value", as_of=AS_OF, tenants=A, upstream={}, inputs={})
    with pytest.raises(RuntimeError, match=r"gives inputs \[\], its reads need \['source'\]"):
        tasks.run("attribution", as_of=AS_OF, tenants=A, upstream={}, inputs={})
