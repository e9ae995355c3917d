"""RFM by hand on ten customers with ties; the segment map covers every score triple once."""

from __future__ import annotations

import itertools

import polars as pl
import pytest

from boxoffice.customers.rfm import (
    SEGMENT_MAP,
    SEGMENTS,
    score_rfm,
    segment_movement,
    segment_summary,
)


@pytest.fixture
def summary() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "customer_key": [f"c{i}" for i in range(10)],
            "days_since_last": [1, 1, 5, 10, 20, 20, 20, 40, 60, 100],
            "purchases": [5, 1, 1, 2, 3, 3, 8, 1, 2, 1],
            "total_value": [500.0, 40, 60, 100, 300, 300, 900, 20, 150, 10],
        }
    )


def test_scores_and_segments_by_hand(summary):
    scores = score_rfm(summary)
    # score = 1 + floor(5 * customers strictly worse / 10); ties share the lower score
    assert scores["r"].to_list() == [5, 5, 4, 4, 2, 2, 2, 2, 1, 1]
    assert scores["f"].to_list() == [5, 1, 1, 3, 4, 4, 5, 1, 3, 1]
    assert scores["m"].to_list() == [5, 2, 2, 3, 4, 4, 5, 1, 3, 1]
    assert scores["fm"].to_list() == [5, 2, 2, 3, 4, 4, 5, 1, 3, 1]
    assert scores["segment"].to_list() == [
        "Champions",
        "Promising",
        "Promising",
        "Potential Loyalist",
        "At Risk",
        "At Risk",
        "Can't Lose Them",
        "Hibernating",
        "Hibernating",
        "Lost",
    ]


def test_scores_do_not_depend_on_row_order(summary):
    shuffled = summary.sample(fraction=1.0, shuffle=True, seed=3)
    assert score_rfm(shuffled).sort("customer_key").equals(score_rfm(summary))


def test_segment_summary_by_hand(summary):
    table = segment_summary(score_rfm(summary))
    at_risk = table.filter(pl.col("segment") == "At Risk").row(0, named=True)
    assert at_risk == {
        "segment": "At Risk",
        "customers": 2,
        "revenue": 600.0,
        "purchases": 6,
        "average_order_value": 100.0,
        "share_of_customers": 0.2,
        "share_of_revenue": pytest.approx(600 / 2380),
    }
    assert table["customers"].sum() == 10
    assert table["share_of_revenue"].sum() == pytest.approx(1.0)
    assert table["segment"][0] == "Can't Lose Them"  # sorted by revenue: 900


def test_every_score_triple_maps_to_exactly_one_segment():
    triples = list(itertools.product(range(1, 6), repeat=3))
    segments = [SEGMENT_MAP[(r, (f + m + 1) // 2)] for r, f, m in triples]
    assert len(segments) == 125 and set(segments) == set(SEGMENTS)
    assert len(SEGMENTS) == 11 and "Lost" in SEGMENTS and "New" in SEGMENTS
    assert len(SEGMENT_MAP) == 25  # one segment per (r, fm) cell: never two


def test_an_incomplete_segment_map_is_refused(summary):
    partial = {k: v for k, v in SEGMENT_MAP.items() if k != (3, 3)}
    with pytest.raises(ValueError, match=r"lacks the \(r, fm\) pair\(s\) \[\(3, 3\)\]"):
        score_rfm(summary, segment_map=partial)


def test_missing_columns_are_named(summary):
    with pytest.raises(ValueError, match="total_value"):
        score_rfm(summary.drop("total_value"))


def test_an_empty_summary_scores_to_an_empty_frame(summary):
    assert score_rfm(summary.clear()).columns[-5:] == ["r", "f", "m", "fm", "segment"]


def test_segment_movement_counts_transitions_and_new_customers():
    previous = pl.DataFrame({"customer_key": ["a", "b", "c"], "segment": ["New", "New", "Lost"]})
    current = pl.DataFrame(
        {"customer_key": ["a", "b", "c", "d"], "segment": ["Loyal", "New", "Lost", "New"]}
    )
    moves = segment_movement(previous, current)
    assert [tuple(r) for r in moves.iter_rows()] == [
        ("(new)", "New", 1),
        ("Lost", "Lost", 1),
        ("New", "Loyal", 1),
        ("New", "New", 1),
    ]
    assert moves["customers"].sum() == current.height
