"""Bulk UUIDs are valid RFC 9562 UUIDs; segment sums restart where they should."""

import uuid

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from boxoffice.synth import ids
from boxoffice.synth.world import _run_lengths, _segment_cumsum


def test_uuid4_are_valid_version_4_and_deterministic():
    a = ids.uuid4(np.random.default_rng(1), 1000).to_list()
    b = ids.uuid4(np.random.default_rng(1), 1000).to_list()
    assert a == b and len(set(a)) == 1000
    parsed = [uuid.UUID(x) for x in a]
    assert {u.version for u in parsed} == {4}
    assert {u.variant for u in parsed} == {uuid.RFC_4122}


def test_uuid7_carry_their_millisecond_timestamp_and_sort_by_it():
    ms = np.array([1_700_000_000_000, 1_700_000_000_001, 1_761_955_200_123])
    out = [uuid.UUID(x) for x in ids.uuid7(np.random.default_rng(2), ms)]
    assert [u.version for u in out] == [7, 7, 7]
    assert [u.int >> 80 for u in out] == ms.tolist()  # the first 48 bits
    assert out == sorted(out)


@given(st.lists(st.lists(st.integers(-1000, 1000), max_size=6), max_size=8))
def test_segment_cumsum_matches_a_plain_loop(segments):
    values = np.array([v for seg in segments for v in seg], dtype=np.int64)
    lengths = np.array([len(seg) for seg in segments], dtype=np.int64)
    expected = [s for seg in segments for s in np.cumsum(seg).tolist()]
    assert _segment_cumsum(values, lengths).tolist() == expected


@pytest.mark.parametrize(
    ("keys", "runs"),
    [([], []), ([4], [1]), ([1, 1, 2, 5, 5, 5], [2, 1, 3])],
    ids=["empty", "one", "three-runs"],
)
def test_run_lengths(keys, runs):
    assert _run_lengths(np.array(keys, dtype=np.int64)).tolist() == runs
