"""The accounting identity, as a property: received = stored + duplicates + rejected, and each
count is what the input says it must be — over random mixes of good, bad and repeated lines."""

from __future__ import annotations

import uuid

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.ingest.conftest import TENANT_B, event, rows, run

BAD = {
    "json": lambda: b'{"id": "x", ',
    "missing id": lambda: {k: v for k, v in event().items() if k != "id"},
    "wrong type": lambda: event("add_to_cart", quantity="many"),
    "unknown type": lambda: {**event(), "type": "teleport"},
    "bad time": lambda: event(time="last tuesday"),
    "future": lambda: event(time="2999-01-01T00:00:00Z"),
    "unknown tenant": lambda: event(tenant=str(uuid.uuid4())),
    "not an object": lambda: b"[1, 2, 3]",
}

line = st.one_of(
    st.tuples(st.just("good"), st.integers(0, 15)),  # an id: equal ids are duplicates
    st.tuples(st.just("bad"), st.sampled_from(sorted(BAD))),
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(lines=st.lists(line, min_size=1, max_size=40), chunk=st.integers(1, 12))
def test_counts_add_up_and_match_the_input(db, lines, chunk):
    prefix = uuid.uuid4().hex  # ids unique to this example: earlier examples share the database
    types = ["page_view", "search", "purchase", "ticket_scan"]
    events = [
        event(types[value % 4], id=f"{prefix}-{value}", tenant=TENANT_B)
        if kind == "good"
        else BAD[value]()
        for kind, value in lines
    ]
    result = run(*events, chunk_lines=chunk)

    good_ids = [value for kind, value in lines if kind == "good"]
    expected = (len(lines), len(set(good_ids)), len(good_ids) - len(set(good_ids)))
    assert (result.received, result.stored, result.duplicates) == expected
    assert result.rejected == len(lines) - len(good_ids)
    assert result.received == result.stored + result.duplicates + result.rejected
    assert sum(result.rejections.values()) == result.rejected
    [batch] = rows(
        "select received, stored, duplicates, rejected,"
        " (select count(*) from raw.dead_letter d where d.batch_id = b.batch_id),"
        " (select count(*) from raw.event_ids i where i.batch_id = b.batch_id)"
        " from raw.ingest_batches b where batch_id = :b",
        b=result.batch_id,
    )
    assert batch == (
        result.received,
        result.stored,
        result.duplicates,
        result.rejected,
        result.rejected,
        result.stored,
    )
