"""Generate one tenant's ticketing world, vectorised with numpy, deterministic for a seed.

The story, in the order the code tells it:

1. **Customers buy on their own clock** (BG/NBD, Fader, Hardie & Lee 2005): customer *i* makes a
   first purchase at a time drawn over the history (more later: the customer base grows), then
   repeats as a Poisson process with rate λᵢ ~ Gamma(r, α) and, after every purchase, drops out
   with probability pᵢ ~ Beta(a, b). Each purchase intends to spend zᵢⱼ ~ Gamma(p, νᵢ) with
   νᵢ ~ Gamma(q, γ) (Gamma-Gamma, Fader, Hardie & Lee 2005b).
2. **Calendar**: purchase times live in "operational days" that are warped onto the calendar by
   a weekly pattern and a local hour-of-day profile — weekly seasonality without changing how
   many purchases the BG/NBD process makes.
3. **Events** are scheduled where the demand will be (a booking lead after it), at the tenant's
   venues, with a category, a capacity and a base price; they go on sale weeks before.
4. **Day by day** each day's purchases choose among the events on sale with probability
   ∝ popularity × booking curve (rising toward the event) × (price / base)^(ε + 1) and buy
   round(z / price) tickets (stochastically rounded, 1 to 8), so tickets sold respond to price
   with total elasticity ε per category — less, in fact, since an order buys at least one and
   at most eight: :func:`realized_elasticity` is what the world produces. Capacity is never
   exceeded: a purchase that meets a full event tries others; one that finds none is lost and
   counted. Prices move: weekly price tests (exogenous variation, so elasticity is
   identifiable), +10 %/+20 % at 60 %/85 % sell-through, −15 % in the last 10 days when under
   40 % sold.
5. **After the sale**: whole-order refunds before the event, no-shows, scans at the door, and
   campaign touches before purchases (and some that lead nowhere).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import numpy as np
import polars as pl

from boxoffice.synth import ids
from boxoffice.synth.params import WorldSpec
from boxoffice.warehouse import contract

REGIONS = [  # a tenant's venues are in one region; the first zone is the tenant's home
    ["America/New_York", "America/Chicago", "America/New_York", "America/Detroit"],
    ["America/Los_Angeles", "America/Denver", "America/Phoenix", "America/Los_Angeles"],
    ["Europe/London", "Europe/Berlin", "Europe/Madrid", "Europe/Amsterdam"],
    ["Australia/Sydney", "Australia/Melbourne", "Pacific/Auckland", "Australia/Brisbane"],
]
CITIES = {
    "America/New_York": ["New York", "Boston", "Philadelphia"],
    "America/Chicago": ["Chicago", "Milwaukee"],
    "America/Detroit": ["Detroit"],
    "America/Los_Angeles": ["Los Angeles", "Seattle", "San Diego"],
    "America/Denver": ["Denver"],
    "America/Phoenix": ["Phoenix"],
    "Europe/London": ["London", "Manchester"],
    "Europe/Berlin": ["Berlin", "Hamburg"],
    "Europe/Madrid": ["Madrid", "Barcelona"],
    "Europe/Amsterdam": ["Amsterdam"],
    "Australia/Sydney": ["Sydney"],
    "Australia/Melbourne": ["Melbourne"],
    "Pacific/Auckland": ["Auckland"],
    "Australia/Brisbane": ["Brisbane"],
}
TENANT_NAMES = [
    "Northwind Live", "Harbor Arts", "Summit Sports", "Lantern Stages",
    "Riverbend Music", "Copper Hall Group", "Bluebird Events", "Meridian Venues",
]  # fmt: skip
VENUE_KINDS = ["Arena", "Music Hall", "Theatre", "Amphitheatre", "Club", "Pavilion"]
FIRST = "Ada Ben Chloe Dev Elena Farid Grace Hugo Iris Jonas Kira Liam Maya Noah Olga Pablo Quinn Rosa Sam Tara Umar Vera Wen Ximena Yusuf Zoe".split()  # noqa: E501
LAST = "Abbott Brennan Costa Dubois Eriksen Fischer Garcia Haddad Ito Jensen Kowalski Lopez Moreau Nakamura Okafor Patel Quispe Rossi Schmidt Tanaka Usman Varga Walsh Xu Yilmaz Zhang".split()  # noqa: E501
ACTS = "Velvet Neon Harbor Paper Golden Midnight Wild Silver Echo Static".split()
NOUNS = "Foxes Lanterns Rivers Kites Owls Engines Tides Comets Pines".split()
EVENT_NAME = {
    "concert": "{a} {b} live",
    "sports": "{a} {b} vs the Visitors",
    "theatre": "The {a} {b}",
    "comedy": "{a} Comedy Night",
    "family": "{b} on Ice",
}

CATEGORIES = contract.ALLOWED["events", "category"]  # the shares below follow its order
CATEGORY_SHARE = [0.35, 0.2, 0.2, 0.15, 0.1]
CATEGORY_PRICE_CENTS = np.array([6500, 5000, 7000, 3500, 3000])
TICKET_TYPES = contract.ALLOWED["tickets", "ticket_type"]
TICKET_TYPE_SHARE = [0.72, 0.15, 0.05, 0.08]
TICKET_TYPE_PRICE = np.array([1.0, 1.6, 2.8, 0.7])
CHANNELS = contract.ALLOWED["orders", "channel"]
CHANNEL_SHARE = [0.48, 0.32, 0.1, 0.1]
TOUCH_CHANNELS = ["email", "social", "search", "display", "affiliate"]
TOUCH_SHARE = [0.3, 0.25, 0.25, 0.1, 0.1]

WEEKLY = np.array([0.92, 1.12, 1.0, 1.02, 1.12, 0.98, 0.84])  # Monday … Sunday
HOURLY = np.array([  # local hour 0 … 23
    0.3, 0.15, 0.08, 0.05, 0.05, 0.1, 0.3, 0.6, 0.9, 1.1, 1.2, 1.4,
    1.7, 1.6, 1.3, 1.2, 1.2, 1.4, 1.7, 2.0, 2.2, 2.0, 1.5, 0.8,
])  # fmt: skip
EVENTS_PER_TENANT = 360  # over the history; enough overlap for booking curves to show
TARGET_SELL_THROUGH = 0.62
FUTURE_DAYS = 150  # events are scheduled this far past the end of the history
BOOKING_LEAD_DAYS = 25
MAX_TICKETS_PER_ORDER = 8
REFUND_RATE = 0.03
NO_SHOW_RATE = 0.06
MS_PER_DAY = 86_400_000


@dataclass
class TenantWorld:
    tenant_id: str
    tables: dict[str, pl.DataFrame]  # source table name → rows
    truth: pl.DataFrame  # one row per customer: the latent parameters it was drawn with
    stats: dict[str, int]


@dataclass
class _Purchases:
    """Every purchase the BG/NBD process makes, in time order, plus each customer's latents."""

    customer: np.ndarray
    day: np.ndarray  # local day index of the tenant's home zone
    ms: np.ndarray  # UTC Unix milliseconds
    spend: np.ndarray  # intended spend, cents
    tier: np.ndarray  # ticket type index
    rate: np.ndarray  # per customer: λ, purchases per day
    dropout: np.ndarray  # per customer: p
    spend_rate: np.ndarray  # per customer: ν
    alive_at_end: np.ndarray  # per customer


@dataclass
class _Events:
    venue: np.ndarray
    capacity: np.ndarray
    on_sale_day: np.ndarray
    start_day: np.ndarray
    category: np.ndarray
    base_price: np.ndarray  # cents
    popularity: np.ndarray
    elasticity: np.ndarray
    venue_capacity: np.ndarray  # per venue
    venue_tz: list[str]  # per venue


@dataclass
class _Sold:
    event: np.ndarray  # per purchase: event index, or -1 when lost
    tickets: np.ndarray  # per purchase
    unit_price: np.ndarray  # per purchase, cents
    per_event: np.ndarray  # tickets sold per event


def generate_tenant(spec: WorldSpec, index: int) -> TenantWorld:
    """Generate tenant number ``index`` of the world described by ``spec``."""
    rng = np.random.default_rng([spec.seed, index])
    region = REGIONS[index % len(REGIONS)]
    clock = _Clock(spec.start, spec.history_days, region[0])
    purchases = _purchases(rng, spec, clock)
    events = _schedule_events(rng, spec, purchases, region)
    sold = _Sales(rng, events, purchases).run()
    return _assemble(rng, spec, index, clock, purchases, events, sold)


def _purchases(rng: np.random.Generator, spec: WorldSpec, clock: _Clock) -> _Purchases:
    bg, gg = spec.truth.bgnbd, spec.truth.gamma_gamma
    n = spec.sizes.customers_per_tenant
    horizon = float(spec.history_days)
    birth = horizon * (np.sqrt(1 + 3 * rng.random(n)) - 1)  # density ∝ 1 + t/H: growth
    rate = rng.gamma(bg.r, 1 / bg.alpha, n)
    dropout = rng.beta(bg.a, bg.b, n)
    spend_rate = rng.gamma(gg.q, 1 / gg.gamma, n)
    repeats_before_dropout = rng.geometric(dropout)  # 1, 2, …: BG/NBD (see BgNbd)
    # enough inter-purchase gaps to pass the horizon (6 sd beyond the expected count)
    expected = rate * (horizon - birth)
    drawn = np.minimum(repeats_before_dropout, np.ceil(expected + 6 * np.sqrt(expected) + 10))
    drawn = drawn.astype(np.int64)
    owner = np.repeat(np.arange(n), drawn)
    repeat_t = birth[owner] + _segment_cumsum(rng.exponential(1.0, owner.size) / rate[owner], drawn)
    inside = repeat_t < horizon
    customer = np.concatenate([np.arange(n), owner[inside]])
    t = np.concatenate([birth, repeat_t[inside]])
    order = np.argsort(t, kind="stable")
    customer, t = customer[order], t[order]
    day, ms = clock.place(t, rng)
    return _Purchases(
        customer=customer,
        day=day,
        ms=ms,
        spend=rng.gamma(gg.p, 1 / spend_rate[customer]) * 100,
        tier=rng.choice(len(TICKET_TYPES), t.size, p=TICKET_TYPE_SHARE),
        rate=rate,
        dropout=dropout,
        spend_rate=spend_rate,
        alive_at_end=repeats_before_dropout > np.bincount(owner[inside], minlength=n),
    )


def _schedule_events(rng, spec: WorldSpec, purchases: _Purchases, region: list[str]) -> _Events:
    """A fixed number of events per tenant, starting where purchases will want them; venues
    sized so the events seat the expected tickets at the target sell-through."""
    n_days = spec.history_days + FUTURE_DAYS
    start_weight = _event_start_weights(purchases.day, spec.history_days, n_days)
    future_factor = start_weight.sum() / start_weight[: spec.history_days].sum()
    typical_price = np.dot(CATEGORY_SHARE, CATEGORY_PRICE_CENTS) * TICKET_TYPE_PRICE[purchases.tier]
    expected_tickets = np.clip(purchases.spend / typical_price, 1, MAX_TICKETS_PER_ORDER).sum()
    seats = expected_tickets / TARGET_SELL_THROUGH * future_factor
    n_venues = spec.sizes.venues_per_tenant
    n = int(EVENTS_PER_TENANT * future_factor)
    venue = rng.integers(0, n_venues, n)
    share = rng.uniform(0.6, 1.0, n)  # of the venue's seats an event uses
    size = rng.lognormal(0, 0.5, n_venues)
    venue_capacity = np.maximum(size * seats / (size[venue] * share).sum(), 150).astype(np.int64)
    start_day = rng.choice(n_days, n, p=start_weight / start_weight.sum())
    category = rng.choice(len(CATEGORIES), n, p=CATEGORY_SHARE)
    base = np.round(CATEGORY_PRICE_CENTS[category] * rng.lognormal(0, 0.3, n), -2)
    return _Events(
        venue=venue,
        capacity=np.maximum((venue_capacity[venue] * share).astype(np.int64), 1),
        on_sale_day=np.maximum(start_day - 21 - rng.exponential(45, n).astype(int), -90),
        start_day=start_day,
        category=category,
        base_price=base.astype(np.int64),
        popularity=rng.lognormal(0, 0.7, n),
        elasticity=np.array([spec.truth.elasticity[c] for c in CATEGORIES])[category],
        venue_capacity=venue_capacity,
        venue_tz=[region[i % len(region)] for i in range(n_venues)],
    )


def _event_start_weights(purchase_day: np.ndarray, history_days: int, n_days: int) -> np.ndarray:
    """Where events start: where purchases are, a booking lead later; the purchase rate of the
    last weeks carries on into the future."""
    rate = np.bincount(purchase_day, minlength=history_days).astype(float)
    rate = np.convolve(rate, np.ones(28) / 28, mode="same")
    future = np.full(n_days - history_days, rate[-60:-14].mean())
    lead = np.zeros(BOOKING_LEAD_DAYS)
    return np.concatenate([lead, rate, future])[:n_days] + 1e-9


class _Clock:
    """Local calendar days of one time zone, as the UTC milliseconds of each local midnight.
    Day 0 is ``start``; days run from ``first_day`` to the end of the scheduled future."""

    def __init__(self, start: dt.date, history_days: int, tz: str, first_day: int = 0):
        zone = ZoneInfo(tz)
        days = [start + dt.timedelta(d) for d in range(first_day, history_days + FUTURE_DAYS + 1)]
        self.first_day = first_day
        self.history_days = history_days
        self.midnight_ms = np.array(
            [int(dt.datetime.combine(d, dt.time(), zone).timestamp() * 1000) for d in days]
        )
        self.weekday = np.array([d.weekday() for d in days])
        self.end_ms = self.midnight_ms[history_days - first_day]  # the data ends here

    def at(self, day: np.ndarray, seconds: np.ndarray) -> np.ndarray:
        return self.midnight_ms[day - self.first_day] + (seconds * 1000).astype(np.int64)

    def place(self, t: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Warp operational days ``t`` in [0, history) onto calendar days (weekly pattern) and
        local times of day (hourly profile); return (day index, UTC ms)."""
        weights = WEEKLY[self.weekday[-self.first_day : self.history_days - self.first_day]]
        weights = weights / WEEKLY.mean()
        bounds = np.concatenate([[0.0], np.cumsum(weights)])
        scaled = t * bounds[-1] / self.history_days
        day = np.clip(np.searchsorted(bounds, scaled, side="right") - 1, 0, self.history_days - 1)
        frac = np.clip((scaled - bounds[day]) / weights[day], 0, 1 - 1e-9)
        hour_cdf = np.concatenate([[0.0], np.cumsum(HOURLY) / HOURLY.sum()])
        hour = np.searchsorted(hour_cdf, frac, side="right") - 1
        within = (frac - hour_cdf[hour]) / (hour_cdf[hour + 1] - hour_cdf[hour])
        seconds = (hour + within) * 3600 + rng.random(t.size) * 1e-3
        return day, self.at(day, seconds)


def realized_elasticity(purchases: _Purchases, events: _Events) -> dict[str, float]:
    """Per category, the elasticity of tickets sold to the list price this world actually
    produces over its price tests (×0.85 … ×1.15): the arc elasticity
    ``log(T(1.15) / T(0.85)) / log(1.15 / 0.85)`` of ``T(m) = m^(ε+1) · E[tickets per order]``,
    the expectation over the tenant's purchases (their intended spend and ticket type), each
    paired with one of the category's events (its base price), of the stochastically rounded
    ``spend / price`` clipped into 1..8.

    It is weaker than the nominal ε: an order that wants less than one ticket still buys one,
    and one that wants more than eight buys eight, so the per-order part of the response is
    −1 only for the orders in between."""
    out = {}
    for k, name in enumerate(CATEGORIES):
        base = events.base_price[events.category == k].astype(float)
        if base.size == 0:
            continue
        price = (
            base[np.arange(purchases.spend.size) % base.size] * TICKET_TYPE_PRICE[purchases.tier]
        )
        eps = float(np.asarray(events.elasticity)[events.category == k][0])

        def tickets(m: float, price=price, eps=eps) -> float:
            want = purchases.spend / (price * m)
            return m ** (eps + 1) * np.clip(want, 1, MAX_TICKETS_PER_ORDER).mean()

        low, high = _Sales.PRICE_TESTS[0], _Sales.PRICE_TESTS[-1]
        out[name] = round(float(np.log(tickets(high) / tickets(low)) / np.log(high / low)), 3)
    return out


class _Sales:
    """Allocate each day's purchases to events on sale, honouring capacity and moving prices."""

    PRICE_TESTS = np.array([0.85, 0.93, 1.0, 1.07, 1.15])
    BOOKING_DAYS = 12.0  # e-folding time of the booking curve
    ON_SALE_BURST = 0.06  # extra attraction in the first days on sale
    RETRIES = 3

    def __init__(self, rng: np.random.Generator, events: _Events, purchases: _Purchases):
        self.rng, self.ev, self.buy = rng, events, purchases
        weeks = int((events.start_day - events.on_sale_day).max()) // 7 + 1
        self.tests = rng.choice(self.PRICE_TESTS, size=(events.capacity.size, weeks))

    def run(self) -> _Sold:
        day = self.buy.day
        n = day.size
        out = _Sold(
            event=np.full(n, -1),
            tickets=np.zeros(n, dtype=np.int64),
            unit_price=np.zeros(n, dtype=np.int64),
            per_event=np.zeros(self.ev.capacity.size, dtype=np.int64),
        )
        bounds = np.searchsorted(day, np.arange(day.max() + 2))
        for d in range(day.max() + 1):
            pending = np.arange(bounds[d], bounds[d + 1])
            for _ in range(self.RETRIES):  # a purchase that meets a full event tries another
                if pending.size == 0:
                    break
                pending = self._allocate(d, pending, out)
        return out

    def price_multiplier(self, ev: np.ndarray, d: int, sold: np.ndarray) -> np.ndarray:
        """List price / base price of events ``ev`` on day ``d``."""
        through = sold[ev] / self.ev.capacity[ev]
        mult = self.tests[ev, (d - self.ev.on_sale_day[ev]) // 7]
        mult = mult * np.where(through >= 0.85, 1.2, np.where(through >= 0.6, 1.1, 1.0))
        last_minute = (self.ev.start_day[ev] - d <= 10) & (through < 0.4)
        return mult * np.where(last_minute, 0.85, 1.0)

    def _allocate(self, d: int, purchases: np.ndarray, out: _Sold) -> np.ndarray:
        """Serve ``purchases`` of day ``d``; return those that found their event full."""
        ev_, sold = self.ev, out.per_event
        active = np.flatnonzero((ev_.on_sale_day < d) & (ev_.start_day > d) & (sold < ev_.capacity))
        if active.size == 0:
            return purchases[:0]
        mult = self.price_multiplier(active, d, sold)
        days_left = (ev_.start_day[active] - d).astype(float)
        burst = np.where(d - ev_.on_sale_day[active] <= 3, self.ON_SALE_BURST, 0.0)
        weight = ev_.popularity[active] * (np.exp(-days_left / self.BOOKING_DAYS) + burst + 0.01)
        weight *= mult ** (ev_.elasticity[active] + 1.0)
        pick = self.rng.choice(active.size, purchases.size, p=weight / weight.sum())
        ev = active[pick]
        list_price = _round_to_50(ev_.base_price[ev] * mult[pick])
        unit = np.maximum(
            _round_to_50(list_price * TICKET_TYPE_PRICE[self.buy.tier[purchases]]), 50
        )
        want = self.buy.spend[purchases] / unit
        qty = np.floor(want) + (self.rng.random(purchases.size) < want - np.floor(want))
        qty = np.clip(qty, 1, MAX_TICKETS_PER_ORDER).astype(np.int64)
        # first come, first served within the day: earlier purchases take the seats
        by_event = np.argsort(ev, kind="stable")
        q = qty[by_event]
        ahead = _segment_cumsum(q, _run_lengths(ev[by_event])) - q
        got = np.clip(ev_.capacity[ev[by_event]] - sold[ev[by_event]] - ahead, 0, q)
        served = by_event[got > 0]
        out.event[purchases[served]] = ev[served]
        out.tickets[purchases[served]] = got[got > 0]
        out.unit_price[purchases[served]] = unit[served]
        np.add.at(sold, ev[served], got[got > 0])
        return np.sort(purchases[by_event[got == 0]])


def _assemble(rng, spec, index, clock, purchases: _Purchases, events: _Events, sold: _Sold):
    tenant_id = ids.uuid4(rng, 1)[0]
    n_cust = spec.sizes.customers_per_tenant
    venue_ids = ids.uuid4(rng, events.venue_capacity.size)
    event_ids = ids.uuid4(rng, events.capacity.size)
    customer_ids = ids.uuid4(rng, n_cust)
    start_ms, on_sale_ms = _event_times(spec, events)
    kept = np.flatnonzero(sold.event >= 0)
    o_ms = purchases.ms[kept]
    o_event = sold.event[kept]
    o_channel = rng.choice(len(CHANNELS), kept.size, p=CHANNEL_SHARE)
    order_ids = ids.uuid7(rng, o_ms)
    first_ms = np.full(n_cust, np.iinfo(np.int64).max)
    np.minimum.at(first_ms, purchases.customer, purchases.ms)

    tenants = pl.DataFrame(
        {
            "tenant_id": [tenant_id],
            "name": [TENANT_NAMES[index % len(TENANT_NAMES)]],
            "created_at": _ts(clock.midnight_ms[:1] - 400 * MS_PER_DAY),
        }
    )
    city = [CITIES[tz][i % len(CITIES[tz])] for i, tz in enumerate(events.venue_tz)]
    venues = pl.DataFrame(
        {
            "tenant_id": tenant_id,
            "venue_id": venue_ids,
            "name": [f"{c} {VENUE_KINDS[i % len(VENUE_KINDS)]}" for i, c in enumerate(city)],
            "city": city,
            "timezone": events.venue_tz,
            "capacity": events.venue_capacity,
        }
    )
    event_frame = pl.DataFrame(
        {
            "tenant_id": tenant_id,
            "event_id": event_ids,
            "venue_id": venue_ids.gather(events.venue),
            "name": _event_names(rng, events.category),
            "category": np.array(CATEGORIES)[events.category],
            "on_sale_at": _ts(on_sale_ms),
            "starts_at": _ts(start_ms),
            "capacity": events.capacity,
            "base_price_cents": events.base_price,
        }
    )
    customers = _customers(rng, tenant_id, customer_ids, first_ms)
    orders = pl.DataFrame(
        {
            "tenant_id": tenant_id,
            "order_id": order_ids,
            "customer_id": customer_ids.gather(purchases.customer[kept]),
            "channel": np.array(CHANNELS)[o_channel],
            "created_at": _ts(o_ms),
        }
    )
    tickets = _tickets(
        rng,
        tenant_id,
        orders=(order_ids, o_ms, o_channel, o_event, sold.tickets[kept], sold.unit_price[kept]),
        tier=purchases.tier[kept],
        event_ids=event_ids,
        start_ms=start_ms,
        end_ms=clock.end_ms,
    )
    touches = _touches(
        rng,
        tenant_id,
        customer_ids,
        purchases=(purchases.customer[kept], o_ms, events.category[o_event]),
        first_ms=first_ms,
        end_ms=clock.end_ms,
    )
    truth = pl.DataFrame(
        {
            "tenant_id": tenant_id,
            "customer_id": customer_ids,
            "purchase_rate_per_day": purchases.rate,
            "dropout_probability": purchases.dropout,
            "spend_rate": purchases.spend_rate,
            "alive_at_end": purchases.alive_at_end,
        }
    )
    stats = {
        "customers": n_cust,
        "purchases_generated": purchases.day.size,
        "orders": kept.size,
        "orders_lost_to_capacity": purchases.day.size - kept.size,
        "tickets": tickets.height,
        "events": events.capacity.size,
        "sold_out_events": int((sold.per_event >= events.capacity).sum()),
        "refunded_tickets": int((tickets["status"] == "refunded").sum()),
        "campaign_touches": touches.height,
        "realized_elasticity": realized_elasticity(purchases, events),
    }
    tables = {
        "tenants": tenants,
        "venues": venues,
        "events": event_frame,
        "customers": customers,
        "orders": orders,
        "tickets": tickets,
        "campaign_touches": touches,
    }
    return TenantWorld(tenant_id=tenant_id, tables=tables, truth=truth, stats=stats)


def _event_times(spec: WorldSpec, events: _Events) -> tuple[np.ndarray, np.ndarray]:
    """Start and on-sale instants (UTC ms), at local times of each venue's zone: evenings,
    family matinees, on sale at 10:00."""
    start_ms = np.empty(events.capacity.size, dtype=np.int64)
    on_sale_ms = np.empty(events.capacity.size, dtype=np.int64)
    weekday = (spec.start.weekday() + events.start_day) % 7
    evening = np.where(weekday >= 4, 20 * 3600, 19.5 * 3600)
    matinee = np.where(weekday == 6, 14 * 3600, 11 * 3600)
    starts = np.where(events.category == CATEGORIES.index("family"), matinee, evening)
    for v, tz in enumerate(events.venue_tz):
        mask = events.venue == v
        clock = _Clock(spec.start, spec.history_days, tz, first_day=-120)
        start_ms[mask] = clock.at(events.start_day[mask], starts[mask])
        on_sale_ms[mask] = clock.at(events.on_sale_day[mask], np.full(mask.sum(), 10 * 3600))
    return start_ms, on_sale_ms


def _customers(rng, tenant_id: str, customer_ids: pl.Series, first_ms: np.ndarray) -> pl.DataFrame:
    n = first_ms.size
    names = pl.Series(FIRST).gather(rng.integers(0, len(FIRST), n)) + " "
    names = names + pl.Series(LAST).gather(rng.integers(0, len(LAST), n))
    number = pl.Series(np.arange(n)).cast(pl.String)
    return pl.DataFrame(
        {
            "tenant_id": tenant_id,
            "customer_id": customer_ids,
            "email": names.str.to_lowercase().str.replace(" ", ".") + "." + number + "@example.org",
            "full_name": names,
            "created_at": _ts(first_ms - rng.integers(0, 20 * MS_PER_DAY, n)),
        }
    )


def _tickets(rng, tenant_id, *, orders, tier, event_ids, start_ms, end_ms) -> pl.DataFrame:
    order_ids, o_ms, o_channel, o_event, o_qty, o_price = orders
    t_order = np.repeat(np.arange(o_qty.size), o_qty)
    n = t_order.size
    price = o_price[t_order]
    channel = o_channel[t_order]
    fee = np.select(
        [channel == CHANNELS.index("box_office"), channel == CHANNELS.index("partner")],
        [0, np.round(price * 0.12) + 200],
        np.round(price * 0.10) + 150,
    ).astype(np.int64)
    sold_ms = o_ms[t_order]
    event_start = start_ms[o_event]
    # refunds: whole orders, between the sale and the event (or the end of the data)
    refunded_order = rng.random(o_qty.size) < REFUND_RATE
    window = np.minimum(event_start, end_ms) - o_ms
    refund_ms = (o_ms + rng.beta(1, 2, o_qty.size) * window).astype(np.int64)[t_order]
    refunded = refunded_order[t_order]
    # scans: whole orders turn up minutes before the start, unless they are no-shows
    shows = (rng.random(o_qty.size) >= NO_SHOW_RATE)[t_order]
    scanned = (event_start[t_order] < end_ms) & shows & ~refunded
    scan_ms = event_start[t_order] - rng.integers(5 * 60_000, 90 * 60_000, n)
    scan_ms = np.maximum(scan_ms, sold_ms + 60_000)
    status = np.where(refunded, "refunded", np.where(scanned, "scanned", "sold"))
    return pl.DataFrame(
        {
            "tenant_id": tenant_id,
            "ticket_id": ids.uuid7(rng, sold_ms),
            "order_id": order_ids.gather(t_order),
            "event_id": event_ids.gather(o_event[t_order]),
            "price_cents": price.astype(np.int64),
            "fee_cents": fee,
            "ticket_type": np.array(TICKET_TYPES)[tier[t_order]],
            "sold_at": _ts(sold_ms),
            "status": status,
            "refunded_at": _where(refunded, _ts(refund_ms)),
            "scanned_at": _where(scanned, _ts(scan_ms)),
        }
    )


def _touches(rng, tenant_id, customer_ids, *, purchases, first_ms, end_ms) -> pl.DataFrame:
    """Campaign touches: 0–n in the days before a purchase (55 % of purchases have some), and
    touches that lead nowhere, spread between a customer's first purchase and the end."""
    p_cust, p_ms, p_cat = purchases
    n_before = np.where(rng.random(p_ms.size) < 0.55, 1 + rng.poisson(1.0, p_ms.size), 0)
    owner = np.repeat(np.arange(p_ms.size), n_before)
    lag = np.minimum(rng.exponential(3 * MS_PER_DAY, owner.size), 30 * MS_PER_DAY)
    before_ms = p_ms[owner] - lag.astype(np.int64)
    stray = np.repeat(np.arange(first_ms.size), rng.poisson(1.0, first_ms.size))
    stray_ms = first_ms[stray] + (rng.random(stray.size) * (end_ms - first_ms[stray])).astype(
        np.int64
    )
    cust = np.concatenate([p_cust[owner], stray])
    ms = np.concatenate([before_ms, stray_ms])
    cat = np.concatenate([p_cat[owner], rng.integers(0, len(CATEGORIES), stray.size)])
    channel = rng.choice(len(TOUCH_CHANNELS), ms.size, p=TOUCH_SHARE)
    order = np.argsort(ms, kind="stable")
    cust, ms, cat, channel = cust[order], ms[order], cat[order], channel[order]
    month = _ts(ms).dt.strftime("%Y%m")
    return pl.DataFrame(
        {
            "tenant_id": tenant_id,
            "touch_id": ids.uuid7(rng, ms),
            "customer_id": customer_ids.gather(cust),
            "channel": np.array(TOUCH_CHANNELS)[channel],
            "campaign": pl.Series(np.array(CATEGORIES)[cat]) + "-" + month,
            "touched_at": _ts(ms),
        }
    )


def _event_names(rng, category: np.ndarray) -> list[str]:
    a = rng.integers(0, len(ACTS), category.size)
    b = rng.integers(0, len(NOUNS), category.size)
    return [
        EVENT_NAME[CATEGORIES[c]].format(a=ACTS[i], b=NOUNS[j])
        for c, i, j in zip(category, a, b, strict=True)
    ]


def _segment_cumsum(values: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Cumulative sums restarting at each segment (consecutive segments of ``lengths``)."""
    if values.size == 0:
        return values
    total = np.cumsum(values)
    starts = np.cumsum(lengths) - lengths
    before = np.where(starts > 0, total[np.maximum(starts - 1, 0)], 0)
    return total - np.repeat(before, lengths)


def _run_lengths(sorted_keys: np.ndarray) -> np.ndarray:
    """Lengths of the runs of equal keys in a sorted array."""
    if sorted_keys.size == 0:
        return np.zeros(0, dtype=np.int64)
    edges = np.flatnonzero(np.diff(sorted_keys)) + 1
    return np.diff(np.concatenate([[0], edges, [sorted_keys.size]]))


def _round_to_50(cents: np.ndarray) -> np.ndarray:
    return np.round(cents / 50) * 50


def _ts(ms: np.ndarray) -> pl.Series:
    series = pl.Series(np.asarray(ms, dtype=np.int64)).cast(pl.Datetime("ms"))
    return series.dt.replace_time_zone("UTC")


def _where(mask: np.ndarray, values: pl.Series) -> pl.Series:
    return pl.select(pl.when(pl.Series(mask)).then(values)).to_series().alias(values.name)
