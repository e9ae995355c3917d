"""Content PostgreSQL (or JSON, or UTF-8) cannot hold is decided per line: the line is rejected
with its reason, the rest of the batch is stored, and no line makes the batch fail."""

from __future__ import annotations

import json
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.ingest.conftest import TENANT_A, event, rows, run


def _line(e: dict) -> bytes:
    return json.dumps(e).encode()  # json.dumps escapes NUL and lone surrogates as \uXXXX


def _dead_letters() -> list[tuple]:
    return rows(
        "select line_number, claimed_tenant, event_type, field, rule, payload"
        " from raw.dead_letter order by line_number"
    )


def test_a_nul_escape_in_a_valid_event_rejects_that_line_only(db):
    result = run(event(id="good"), event("search", id="nul", query="jazz\x00night"))
    assert (result.received, result.stored, result.rejected) == (2, 1, 1)
    assert result.rejections == {"data.query: no-nul": 1}
    assert rows("select event_id from raw.events") == [("good",)]
    [(line, tenant, type_, field, rule, payload)] = _dead_letters()
    assert (line, tenant, type_, field, rule) == (2, TENANT_A, "search", "data.query", "no-nul")
    assert json.loads(payload)["data"]["query"] == "jazz\x00night"  # kept as its JSON escape


@pytest.mark.parametrize(
    ("nul_in", "field"),
    [
        ("source", "source"),
        ("id", "id"),
        ("session_id", "data.session_id"),
        ("member name", "data.a\\u0000b"),
        ("email", "data.email"),  # removed before storage, but the rule is the same anywhere
    ],
)
def test_a_nul_in_any_text_is_rejected_with_its_field(db, nul_in, field):
    e = event(id="x")
    if nul_in in ("source", "id"):
        e[nul_in] = "a\x00b"
    elif nul_in == "member name":
        e["data"]["a\x00b"] = 1
    else:
        e["data"][nul_in] = "a\x00b"
    result = run(event(id="good"), e)
    assert (result.stored, result.rejected) == (1, 1)
    assert result.rejections == {f"{field}: no-nul": 1}


def test_dead_letter_text_holds_a_nul_as_the_replacement_character(db):
    claims_nul = event(id="t", tenant="acme\x00", time="2026-10-15\x00")
    result = run(b"not json \x00 at all", claims_nul, {**event(id="y"), "type": "page\x00view"})
    assert (result.received, result.rejected) == (3, 3)
    dead = _dead_letters()
    assert dead[0][3:] == ("(line)", "json", "not json \ufffd at all")
    assert dead[1][1:5] == ("acme\ufffd", "page_view", "time", "no-nul")
    assert dead[2][2:5] == ("page\ufffdview", "type", "no-nul")


@pytest.mark.parametrize(
    "line",
    [
        b'{"id": "\\ud800", "x": 1}',  # a lone high surrogate
        b'{"id": "\\udc00"}',  # a lone low surrogate
        b'{"id": "\xff\xfe"}',  # not UTF-8
        b'{"id": "\xed\xa0\x80"}',  # a surrogate encoded in UTF-8
        b'{"id": "a\x00b"}',  # a raw control character inside a string
        b'{"value_cents": 1e400}',  # beyond a double, and beyond what JSON numbers can round-trip
        b"[" * 1025 + b"]" * 1025,  # deeper than the decoder goes
    ],
    ids=[
        "high-surrogate",
        "low-surrogate",
        "latin-1",
        "utf8-surrogate",
        "raw-nul",
        "1e400",
        "deep",
    ],
)
def test_what_json_cannot_hold_is_a_json_dead_letter(db, line):
    result = run(event(id="good"), line)
    assert (result.stored, result.rejected) == (1, 1)
    assert result.rejections == {"(line): json": 1}


def test_deeply_nested_members_are_cut_off_in_the_dead_letter(db):
    nested: object = "bottom"
    for _ in range(300):  # deeper than the JSON encoder writes
        nested = [nested]
    result = run(event(id="good"), {**event(), "extra": nested})
    assert (result.stored, result.rejected) == (1, 1)
    [(_, _, _, field, rule, payload)] = _dead_letters()
    assert (field, rule) == ("extra", "unknown-field")
    kept = json.loads(payload)["extra"]
    for _ in range(99):  # MAX_DEPTH levels below the event object
        [kept] = kept
    assert kept == "[nested too deep]"


@pytest.mark.parametrize(
    ("change", "field", "rule"),
    [
        ({"time": "9999-12-31T23:00:00-02:00"}, "time", "format"),  # past year 9999 in UTC
        ({"time": "0001-01-01T00:30:00+01:00"}, "time", "format"),  # before year 1 in UTC
        ({"data": {"session_id": "s", "channel": "web", "url": "/", "ip": "².1.1.1"}},
         "data.ip", "ip-address"),  # a digit to str.isdigit, not to int()
    ],
)  # fmt: skip
def test_values_python_cannot_convert_are_rejected(db, change, field, rule):
    result = run(event(id="good"), {**event(), **change})
    assert (result.stored, result.rejected) == (1, 1)
    assert result.rejections == {f"{field}: {rule}": 1}


# ------------------------------------------------------------------------- the property
# any code point, surrogates included, and often the ones that have broken batches before
char = st.sampled_from(
    ["\x00", "\ud800", "\udfff", "\ufffd", "@", "%", "\\", '"', "\n"]
) | st.characters(codec=None, exclude_categories=())
json_value = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()  # NaN and infinities too: json.dumps writes them, the decoder refuses them
    | st.text(char, max_size=12),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(char, max_size=4), inner, max_size=3)
    ),
    max_leaves=8,
)
TARGETS = ["query", "subject", "source", "extra"]
junk = st.binary(max_size=30).map(lambda b: b.replace(b"\n", b""))  # a newline splits the line


def _spliced(e: dict, raw: bytes) -> bytes:
    """``e`` with ``raw`` as the bytes of its query string, undecoded."""
    line = _line(e)
    return line.replace(b'"query": "jazz"', b'"query": "' + raw + b'"')


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    lines=st.lists(
        st.one_of(
            st.tuples(st.just("value"), st.sampled_from(TARGETS), json_value),
            st.tuples(st.just("bytes"), st.just("query"), junk),
            st.tuples(st.just("good"), st.just(""), st.none()),
        ),
        min_size=1,
        max_size=25,
    ),
    chunk=st.integers(1, 8),
)
def test_random_content_never_fails_a_batch_and_every_line_is_accounted_for(db, lines, chunk):
    prefix = uuid.uuid4().hex
    built = []
    for i, (kind, target, value) in enumerate(lines):
        e = event("search", id=f"{prefix}-{i}")
        if kind == "bytes":
            built.append(_spliced(e, value))
            continue
        if kind == "value":
            if target == "query":
                e["data"]["query"] = value
            elif target == "extra":
                e["data"]["extra"] = value
            else:
                e[target] = value
        built.append(_line(e))
    result = run(*built, chunk_lines=chunk)

    assert result.received == len(lines) == result.stored + result.duplicates + result.rejected
    assert result.duplicates == 0  # every id is unique
    stored = {i for (i,) in rows("select event_id from raw.events where batch_id = :b",
                                 b=result.batch_id)}  # fmt: skip
    dead = {n for (n,) in rows("select line_number from raw.dead_letter where batch_id = :b",
                               b=result.batch_id)}  # fmt: skip
    assert (len(stored), len(dead)) == (result.stored, result.rejected)
    for i, (kind, _, _) in enumerate(lines):  # each line is exactly one of the two
        assert (f"{prefix}-{i}" in stored) != (i + 1 in dead), (i, built[i])
        if kind == "good":
            assert f"{prefix}-{i}" in stored
