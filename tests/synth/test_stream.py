"""The behaviour-event stream: consistent with the orders in source, valid, deterministic,
ingestible as it is."""

from __future__ import annotations

import datetime as dt
import gzip
import ipaddress
from collections import Counter, defaultdict
from pathlib import Path

import orjson
import pytest
import sqlalchemy as sa

from boxoffice import ingest, privacy
from boxoffice.ingest.validate import Rejection, parse_time, validate
from boxoffice.synth import stream
from boxoffice.synth.stream import write_event_stream
from boxoffice.warehouse import engine
from tests.conftest import build_small_world

START, END = dt.date(2026, 10, 3), dt.date(2026, 10, 5)  # Saturday … Monday, with scans
DAYS = [START + dt.timedelta(days=d) for d in range(3)]
SEED = 7  # a seed whose window has a session spanning midnight (see the window test)
NOW = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
FUNNEL = ["page_view", "event_view", "add_to_cart", "checkout_started", "purchase"]

ORDERS = """
    select o.order_id::text, o.tenant_id::text, o.customer_id::text, c.email, o.channel,
           o.created_at, count(*) as tickets, sum(t.price_cents) as value_cents,
           min(t.event_id::text) as event_id, count(distinct t.event_id) as events
    from source.orders o
    join source.tickets t using (tenant_id, order_id)
    join source.customers c using (tenant_id, customer_id)
    where o.channel in ('web', 'mobile') and o.created_at >= :lo and o.created_at < :hi
    group by o.order_id, o.tenant_id, o.customer_id, c.email, o.channel, o.created_at
"""
SCANS = """
    select t.ticket_id::text, t.tenant_id::text, t.event_id::text, e.venue_id::text, t.scanned_at
    from source.tickets t join source.events e using (tenant_id, event_id)
    where t.scanned_at >= :lo and t.scanned_at < :hi
"""


def midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), dt.UTC)


def lines(path: Path) -> list[bytes]:
    data = path.read_bytes()
    return (gzip.decompress(data) if path.suffix == ".gz" else data).splitlines()


def rows(query: str, **params) -> list[dict]:
    with engine.connect("owner") as conn:
        return [dict(r._mapping) for r in conn.execute(sa.text(query), params)]


def window(lo: dt.date = START, hi: dt.date = END) -> dict:
    return {"lo": midnight(lo), "hi": midnight(hi + dt.timedelta(days=1))}


@pytest.fixture(scope="module")
def generated(small_world, tmp_path_factory) -> dict:
    """The stream of START … END of the small world, with what source says about the window."""
    out = tmp_path_factory.mktemp("stream")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("BOXOFFICE_DATABASE_URL", small_world["url"])
        paths = write_event_stream(out, start=START, end=END, seed=SEED)
        orders = {o["order_id"]: o for o in rows(ORDERS, **window())}
        scans = {s["ticket_id"]: s for s in rows(SCANS, **window())}
    by_file = {p: [orjson.loads(line) for line in lines(p)] for p in paths}
    events = [e for file_events in by_file.values() for e in file_events]
    sessions = defaultdict(list)
    for e in events:
        if "session_id" in e["data"]:
            sessions[e["data"]["session_id"]].append(e)
    return {
        "paths": paths,
        "by_file": by_file,
        "events": events,
        "sessions": sessions,
        "orders": orders,
        "scans": scans,
    }


# -------------------------------------------------------------------------------- the files
def test_one_gzip_file_per_utc_day_holding_that_days_events_in_time_order(generated):
    assert [p.name for p in generated["paths"]] == [
        "events-2026-10-03.ndjson.gz",
        "events-2026-10-04.ndjson.gz",
        "events-2026-10-05.ndjson.gz",
    ]
    for day, (path, events) in zip(DAYS, generated["by_file"].items(), strict=True):
        times = [parse_time(e["time"]) for e in events]
        assert events and times == sorted(times), path.name
        assert {t.date() for t in times} == {day}, path.name
        assert all(e["time"].endswith("Z") for e in events)
    assert not list(generated["paths"][0].parent.glob(".*")), "no partial files left behind"


def test_every_line_is_a_valid_cloudevent_with_a_unique_id(generated):
    for e in generated["events"]:
        validate(e, now=NOW)  # raises Rejection otherwise
    ids = [e["id"] for e in generated["events"]]
    assert len(set(ids)) == len(ids)
    tenants = {o["tenant_id"] for o in generated["orders"].values()}
    assert {e["tenantid"] for e in generated["events"]} == tenants


# ------------------------------------------------------------------- purchases and sessions
def test_a_purchase_for_every_online_order_with_its_tickets(generated):
    orders = generated["orders"]
    purchases = [e for e in generated["events"] if e["type"] == "purchase"]
    assert len(orders) > 150  # ≈ 75 web and mobile orders a day in the small world
    assert len(purchases) == len(orders)
    assert Counter(p["data"]["order_id"] for p in purchases) == Counter(dict.fromkeys(orders, 1))
    for p in purchases:
        order, data = orders[p["data"]["order_id"]], p["data"]
        assert order["events"] == 1  # the world sells one event per order
        assert parse_time(p["time"]) == order["created_at"]
        assert p["tenantid"] == order["tenant_id"]
        assert p["source"] == "/" + order["channel"] and data["channel"] == order["channel"]
        assert data["event_id"] == order["event_id"]
        assert data["tickets"] == order["tickets"]
        assert data["value_cents"] == order["value_cents"]
        assert data["customer_id"] == order["customer_id"]


def test_converting_sessions_walk_the_funnel_minutes_before_the_purchase(generated):
    orders = generated["orders"]
    converting = [s for s in generated["sessions"].values() if s[-1]["type"] == "purchase"]
    assert len(converting) == len(orders)
    signed_in_early = 0
    for session in converting:
        kinds = [e["type"] for e in session]
        assert [k for k in kinds if k != "search"] == FUNNEL
        assert kinds.count("search") == 0 or kinds.index("search") == 1  # right after the page
        times = [parse_time(e["time"]) for e in session]
        assert times == sorted(times) and len(set(times)) == len(times)
        assert dt.timedelta(seconds=8) < times[-1] - times[0] < dt.timedelta(minutes=40)
        who = {
            (e["tenantid"], e["source"], e["data"]["ip"], e["data"]["user_agent"]) for e in session
        }
        assert len(who) == 1  # one visitor, one device
        order = orders[session[-1]["data"]["order_id"]]
        checkout = session[kinds.index("checkout_started")]["data"]
        assert checkout["customer_id"] == order["customer_id"]
        assert checkout["email"] == order["email"]  # the real address: the ingest must drop it
        assert checkout["quantity"] == order["tickets"]
        assert checkout["value_cents"] == order["value_cents"]
        cart = session[kinds.index("add_to_cart")]["data"]
        assert cart["quantity"] * cart["price_cents"] == order["value_cents"]
        signed_in_early += "customer_id" in session[0]["data"]
    # signed in from the first page in 60 % of them, otherwise from checkout on
    assert 0.5 < signed_in_early / len(converting) < 0.7


def test_sessions_per_order_and_drop_off_are_plausible(generated):
    orders, sessions = generated["orders"], generated["sessions"].values()
    per_tenant_day = Counter((s[-1]["tenantid"], s[-1]["time"][:10]) for s in sessions)
    orders_per_tenant_day = Counter(
        (o["tenant_id"], f"{o['created_at']:%Y-%m-%d}") for o in orders.values()
    )
    for key, n_orders in orders_per_tenant_day.items():
        assert 7 <= per_tenant_day[key] / n_orders <= 13, key  # 8–12, and Poisson noise
    browsing = [s for s in sessions if s[-1]["type"] != "purchase"]
    last_step = Counter(s[-1]["type"] for s in browsing)
    assert set(last_step) == set(stream.ABANDON_AFTER)
    for step, share in stream.ABANDON_AFTER.items():
        assert last_step[step] / len(browsing) == pytest.approx(share, abs=0.04), step
    anonymous = sum(all("customer_id" not in e["data"] for e in s) for s in browsing)
    assert anonymous / len(browsing) == pytest.approx(1 - stream.SIGNED_IN_BROWSING, abs=0.04)
    # the funnel seen by an analyst: every step loses sessions
    reached = Counter(k for s in sessions for k in {e["type"] for e in s})
    counts = [reached[k] for k in FUNNEL]
    assert counts == sorted(counts, reverse=True) and counts[-1] == len(orders)


def test_browsing_sessions_view_events_the_tenant_sold_that_day_at_order_hours(generated):
    sold = defaultdict(set)
    for o in generated["orders"].values():
        sold[o["tenant_id"], o["created_at"].date()].add(o["event_id"])
    for session in generated["sessions"].values():
        first = parse_time(session[0]["time"])
        if session[-1]["type"] == "purchase":
            continue
        assert parse_time(session[-1]["time"]).date() == first.date()  # inside its day
        for e in session:
            if "event_id" in e["data"]:
                assert e["data"]["event_id"] in sold[e["tenantid"], first.date()]
    hours = Counter(parse_time(s[0]["time"]).hour for s in generated["sessions"].values())
    order_hours = Counter(
        o["created_at"].astimezone(dt.UTC).hour for o in generated["orders"].values()
    )
    busiest = {h for h, _ in order_hours.most_common(6)}
    quietest = {h for h, _ in order_hours.most_common()[-6:]}
    assert sum(hours[h] for h in busiest) > 3 * sum(hours[h] for h in quietest)


def test_session_attributes_mix_channels_addresses_and_traces(generated):
    sessions = list(generated["sessions"].values())
    firsts = [s[0] for s in sessions]
    addresses = [ipaddress.ip_address(e["data"]["ip"]) for e in firsts]
    six = sum(a.version == 6 for a in addresses) / len(addresses)
    assert six == pytest.approx(stream.IPV6_SHARE, abs=0.04)
    traced = sum("traceparent" in e for e in firsts) / len(firsts)
    assert traced == pytest.approx(stream.TRACED_SHARE, abs=0.03)
    for session in sessions:
        parents = {e.get("traceparent", "")[3:35] for e in session}
        assert len(parents) == 1  # one trace per session (or none)
    agents = {(e["source"], e["data"]["user_agent"]) for e in firsts}
    assert {ua for src, ua in agents if src == "/mobile"} == set(stream.USER_AGENTS["mobile"])
    assert {ua for src, ua in agents if src == "/web"} == set(stream.USER_AGENTS["web"])
    assert {e["source"] for e in firsts} == {"/web", "/mobile"}


def test_a_scan_for_every_ticket_scanned_in_the_window(generated):
    scans = generated["scans"]
    events = [e for e in generated["events"] if e["type"] == "ticket_scan"]
    assert len(scans) > 100
    assert sorted(e["data"]["ticket_id"] for e in events) == sorted(scans)
    for e in events:
        ticket = scans[e["data"]["ticket_id"]]
        assert e["source"] == f"/scanners/{ticket['venue_id']}"
        assert e["tenantid"] == ticket["tenant_id"]
        assert e["data"]["event_id"] == ticket["event_id"]
        assert e["data"]["gate"] in "ABCDEF"
        assert parse_time(e["time"]) == ticket["scanned_at"]
        assert set(e["data"]) == {"ticket_id", "event_id", "gate"}


# ------------------------------------------------------------------------------ determinism
def test_same_seed_same_bytes_other_seed_other_events(world, generated, tmp_path):
    again = write_event_stream(tmp_path / "again", start=START, end=END, seed=SEED)
    assert [p.read_bytes() for p in again] == [p.read_bytes() for p in generated["paths"]]
    [other] = write_event_stream(tmp_path / "other", start=START, end=START, seed=SEED + 1)
    assert lines(other) != lines(generated["paths"][0])
    # other sessions, ids and times, but the same orders: those come from source
    purchases = [orjson.loads(x) for x in lines(other) if b'"purchase"' in x]
    first_day = generated["by_file"][generated["paths"][0]]
    assert sorted(p["data"]["order_id"] for p in purchases) == sorted(
        e["data"]["order_id"] for e in first_day if e["type"] == "purchase"
    )


def test_a_day_depends_on_the_seed_and_the_day_not_on_the_window(world, generated, tmp_path):
    later = write_event_stream(tmp_path, start=DAYS[1], end=END, seed=SEED, gzip=False)
    assert [p.name for p in later] == ["events-2026-10-04.ndjson", "events-2026-10-05.ndjson"]
    assert lines(later[1]) == lines(generated["paths"][2])
    # a session converting just after midnight starts the day before (in that day's file) ...
    paths, by_file = generated["paths"], generated["by_file"]
    before_midnight = {e["data"].get("session_id") for e in by_file[paths[0]]}
    spanning = {
        e["data"]["session_id"]: e["time"]
        for e in by_file[paths[1]]
        if e["type"] == "purchase" and e["data"]["session_id"] in before_midnight
    }
    assert spanning
    # ... but the window's first day starts at its midnight: such a session is compressed
    first = [orjson.loads(x) for x in lines(later[0])]
    assert parse_time(first[0]["time"]) >= midnight(DAYS[1])
    for session_id, purchased in spanning.items():
        steps = [e for e in first if e["data"].get("session_id") == session_id]
        assert [e["type"] for e in steps if e["type"] != "search"] == FUNNEL
        assert parse_time(steps[0]["time"]) == midnight(DAYS[1])
        assert steps[-1]["time"] == purchased


# --------------------------------------------------------------------- malformed, duplicates
def rejection(line: bytes) -> str | None:
    try:
        validate(orjson.loads(line), now=NOW)
    except orjson.JSONDecodeError:
        return "(line): json"
    except Rejection as exc:
        return f"{exc.field}: {exc.rule}"
    return None


def test_malformed_and_duplicate_lines_in_the_asked_shares(world, generated, tmp_path):
    [clean] = write_event_stream(tmp_path / "clean", start=START, end=START, seed=SEED)
    [dirty] = write_event_stream(
        tmp_path / "dirty", start=START, end=START, seed=SEED, malformed=0.1, duplicates=0.05
    )
    good, bad = lines(clean), lines(dirty)
    n = len(good)
    assert len(bad) == n + round(0.05 * n)
    reasons = Counter(r for r in map(rejection, bad) if r)
    assert sum(reasons.values()) == round(0.1 * n)
    assert set(reasons) >= {
        "(line): json",
        "id: required",
        "type: enum",
        "time: format",
        "time: not-in-future",
    }
    assert any(r.startswith("data.") and r.endswith(": type") for r in reasons), reasons
    valid = [x for x in bad if rejection(x) is None]
    assert set(valid) <= set(good)
    seen, repeats = set(), []
    for x in valid:
        (repeats.append if x in seen else seen.add)(x)
    assert len(repeats) == round(0.05 * n)
    assert len(seen) == n - round(0.1 * n)


def test_arguments_are_checked_before_anything_is_read(tmp_path):
    with pytest.raises(ValueError, match="before start"):
        write_event_stream(tmp_path, start=END, end=START)
    with pytest.raises(ValueError, match="malformed"):
        write_event_stream(tmp_path, start=START, end=END, malformed=1.0)
    with pytest.raises(ValueError, match="duplicates"):
        write_event_stream(tmp_path, start=START, end=END, duplicates=-0.1)
    assert not list(tmp_path.iterdir())


# ----------------------------------------------------------------------------------- ingest
@pytest.fixture(scope="module")
def ingest_world(make_database, tmp_path_factory) -> dict:
    """A world of its own: ingesting writes raw.*, and the shared one stays read-only."""
    return build_small_world(make_database(), tmp_path_factory.mktemp("ingest") / "m.json")


def test_ingest_stores_every_event_and_drops_the_email(ingest_world, home, tmp_path, monkeypatch):
    monkeypatch.setenv("BOXOFFICE_DATABASE_URL", ingest_world["url"])
    paths = write_event_stream(tmp_path, start=DAYS[0], end=DAYS[1], seed=SEED)
    total = 0
    for path in paths:
        n = len(lines(path))
        result = ingest.ingest_path(path)
        assert (result.received, result.stored, result.duplicates, result.rejected) == (n, n, 0, 0)
        total += n
    [counts] = rows(
        "select count(*) as stored, count(*) filter (where payload ? 'email') as emails,"
        " count(*) filter (where type = 'checkout_started' and customer_key is not null) as keyed"
        " from raw.events"
    )
    assert (counts["stored"], counts["emails"]) == (total, 0)
    checkouts = [orjson.loads(x) for p in paths for x in lines(p) if b'"checkout_started"' in x]
    signed_in = [e for e in checkouts if "customer_id" in e["data"]]
    assert counts["keyed"] == len(signed_in) > 0
    [key] = rows("select customer_key from raw.events where event_id = :id", id=signed_in[0]["id"])
    assert key["customer_key"] == privacy.customer_key(signed_in[0]["data"]["customer_id"])


def test_ingest_accounts_for_malformed_and_resent_lines(ingest_world, home, tmp_path, monkeypatch):
    monkeypatch.setenv("BOXOFFICE_DATABASE_URL", ingest_world["url"])
    day = dt.date(2026, 9, 20)
    [path] = write_event_stream(
        tmp_path, start=day, end=day, seed=SEED, malformed=0.05, duplicates=0.1
    )
    [clean] = write_event_stream(tmp_path / "clean", start=day, end=day, seed=SEED)
    n = len(lines(clean))
    result = ingest.ingest_path(path)
    assert result.received == n + round(0.1 * n)
    assert (result.stored, result.duplicates, result.rejected) == (
        n - round(0.05 * n),
        round(0.1 * n),
        round(0.05 * n),
    )
    # malformed checkout lines carry a raw e-mail address: the dead letters must not
    assert any(b"@example.org" in x and rejection(x) for x in lines(path))
    [leaks] = rows("select count(*) as n from raw.dead_letter where payload like '%@example.org%'")
    assert leaks["n"] == 0
