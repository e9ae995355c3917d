"""Generate one tenant's ticketing world, vectorised with numpy, deterministic for a seed.

The story, in the order the code tells it:

1. **Customers buy on their own clock** (BG/NBD): customer *i* makes a first purchase at a time
   drawn over the history (more later: the customer base grows), then repeats as a Poisson
   process with rate λᵢ ~ Gamma(r, α) and, after every purchase, drops out with probability
   pᵢ ~ Beta(a, b). Each purchase intends to spend zᵢⱼ ~ Gamma(p, νᵢ), νᵢ ~ Gamma(q, γ).
2. **Calendar**: purchase times live in "operational days" that are warped onto the calendar by a
   weekly pattern and a local hour-of-day profile — weekly seasonality without changing the
   number of purchases the BG/NBD process makes.
3. **Events** are scheduled where the demand is (a lead time after purchases), at the tenant's
   venues, with a category, a capacity and a base price; they go on sale weeks before.
4. **Day by day**, each day's purchases choose among the events on sale with probability
   ∝ popularity × booking curve (rising toward the event) × (price / base)^(ε + 1); a purchase
   buys round(z / price) tickets (stochastically rounded, 1 to 8), so tickets sold respond to
   price with total elasticity ε per category. Capacity is never exceeded (a purchase that
   finds its event full tries other events; one that finds none is lost and counted). Prices
   move: weekly price tests (exogenous, so elasticity is identifiable), +10 %/+20 % steps
   at 60 %/85 % sell-through, −15 % in the last 10 days when under 40 % sold.
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

REGIONS = [
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
    "Northwind Live",
    "Harbor Arts",
    "Summit Sports",
    "Lantern Stages",
    "Riverbend Music",
    "Copper Hall Group",
    "Bluebird Events",
    "Meridian Venues",
]
VENUE_KINDS = ["Arena", "Music Hall", "Theatre", "Amphitheatre", "Club", "Pavilion"]
CATEGORIES = ["concert", "sports", "theatre", "comedy", "family"]
CATEGORY_SHARE = [0.35, 0.2, 0.2, 0.15, 0.1]
CATEGORY_PRICE_CENTS = [6500, 5000, 7000, 3500, 3000]
TICKET_TYPES = ["standard", "premium", "vip", "concession"]
TICKET_TYPE_SHARE = [0.72, 0.15, 0.05, 0.08]
TICKET_TYPE_PRICE = np.array([1.0, 1.6, 2.8, 0.7])
CHANNELS = ["web", "mobile", "box_office", "partner"]
CHANNEL_SHARE = [0.48, 0.32, 0.1, 0.1]
TOUCH_CHANNELS = ["email", "social", "search", "display", "affiliate"]
TOUCH_SHARE = [0.3, 0.25, 0.25, 0.1, 0.1]
FIRST = [
    "Ada",
    "Ben",
    "Chloe",
    "Dev",
    "Elena",
    "Farid",
    "Grace",
    "Hugo",
    "Iris",
    "Jonas",
    "Kira",
    "Liam",
    "Maya",
    "Noah",
    "Olga",
    "Pablo",
    "Quinn",
    "Rosa",
    "Sam",
    "Tara",
    "Umar",
    "Vera",
    "Wen",
    "Ximena",
    "Yusuf",
    "Zoe",
]
LAST = [
    "Abbott",
    "Brennan",
    "Costa",
    "Dubois",
    "Eriksen",
    "Fischer",
    "Garcia",
    "Haddad",
    "Ito",
    "Jensen",
    "Kowalski",
    "Lopez",
    "Moreau",
    "Nakamura",
    "Okafor",
    "Patel",
    "Quispe",
    "Rossi",
    "Schmidt",
    "Tanaka",
    "Usman",
    "Varga",
    "Walsh",
    "Xu",
    "Yilmaz",
    "Zhang",
]
ACTS = [
    "Velvet",
    "Neon",
    "Harbor",
    "Paper",
    "Golden",
    "Midnight",
    "Wild",
    "Silver",
    "Echo",
    "Static",
]
NOUNS = ["Foxes", "Lanterns", "Rivers", "Kites", "Owls", "Engines", "Tides", "Comets", "Pines"]
WEEKLY = np.array([0.92, 1.12, 1.0, 1.02, 1.12, 0.98, 0.84])  # Monday … Sunday
HOURLY = np.array(
    [
        0.3,
        0.15,
        0.08,
        0.05,
        0.05,
        0.1,
        0.3,
        0.6,
        0.9,
        1.1,
        1.2,
        1.4,
        1.7,
        1.6,
        1.3,
        1.2,
        1.2,
        1.4,
        1.7,
        2.0,
        2.2,
        2.0,
        1.5,
        0.8,
    ]
)
EVENTS_PER_TENANT = 360
FUTURE_DAYS = 150  # events are scheduled up to this far past the end of the history
MAX_TICKETS_PER_ORDER = 8
REFUND_RATE = 0.03
NO_SHOW_RATE = 0.06
MS_PER_DAY = 86_400_000


@dataclass
class TenantWorld:
    tenant_id: str
    tables: dict[str, pl.DataFrame]  # source table name → rows, in load order
    truth: pl.DataFrame  # one row per customer: the latent parameters it was drawn with
    stats: dict[str, int]


def generate_tenant(spec: WorldSpec, index: int) -> TenantWorld:
    """Generate tenant number ``index`` of the world described by ``spec``."""
    rng = np.random.default_rng([spec.seed, index])
    sizes = spec.sizes
    tz_names = REGIONS[index % len(REGIONS)]
    home_tz = tz_names[0]
    n_days = spec.history_days + FUTURE_DAYS
    clock = _Clock(spec.start, n_days, home_tz)
    tenant_id = ids.uuid4(rng, 1)[0]
    created_ms = clock.midnight_ms[0] - 400 * MS_PER_DAY

    # 1. customers and their purchases (BG/NBD + Gamma-Gamma), in operational days
    n_cust = sizes.customers_per_tenant
    bg, gg = spec.truth.bgnbd, spec.truth.gamma_gamma
    horizon = float(spec.history_days)
    birth = horizon * (np.sqrt(1 + 3 * rng.random(n_cust)) - 1)  # density ∝ 1 + t/H: growth
    lam = rng.gamma(bg.r, 1 / bg.alpha, n_cust)
    drop_p = rng.beta(bg.a, bg.b, n_cust)
    nu = rng.gamma(gg.q, 1 / gg.gamma, n_cust)
    repeats_before_dropout = rng.geometric(drop_p) - 1
    expected = lam * (horizon - birth)
    cap = np.ceil(expected + 6 * np.sqrt(expected) + 10).astype(np.int64)
    k = np.minimum(repeats_before_dropout, cap)
    owner = np.repeat(np.arange(n_cust), k)
    gaps = rng.exponential(1.0, owner.size) / lam[owner]
    t_rep = birth[owner] + _segment_cumsum(gaps, k)
    in_window = t_rep < horizon
    purchase_cust = np.concatenate([np.arange(n_cust), owner[in_window]])
    purchase_t = np.concatenate([birth, t_rep[in_window]])
    order = np.argsort(purchase_t, kind="stable")
    purchase_cust, purchase_t = purchase_cust[order], purchase_t[order]
    repeats_in_window = np.bincount(owner[in_window], minlength=n_cust)
    alive_at_end = repeats_before_dropout > repeats_in_window
    n_orders = purchase_t.size
    spend = rng.gamma(gg.p, 1 / nu[purchase_cust]) * 100  # intended spend, cents
    day, order_ms = clock.place(purchase_t, rng)
    tier = rng.choice(len(TICKET_TYPES), n_orders, p=TICKET_TYPE_SHARE)

    # 2. venues and events, scheduled where the demand will be
    n_venues = sizes.venues_per_tenant
    venue_tz = [tz_names[i % len(tz_names)] for i in range(n_venues)]
    typical_price = np.dot(CATEGORY_SHARE, CATEGORY_PRICE_CENTS) * TICKET_TYPE_PRICE[tier].mean()
    expected_tickets = np.clip(spend / typical_price, 1, MAX_TICKETS_PER_ORDER).sum()
    start_weight = _event_start_weights(day, spec.history_days, n_days)
    budget = expected_tickets / 0.62 * start_weight.sum() / start_weight[: spec.history_days].sum()
    # a fixed number of events per tenant, venues sized to seat the budget: enough overlap for
    # booking curves to show (a purchase chooses among the events on sale that day)
    n_events = int(EVENTS_PER_TENANT * start_weight.sum() / start_weight[: spec.history_days].sum())
    ev_venue = rng.integers(0, n_venues, n_events)
    ev_share = rng.uniform(0.6, 1.0, n_events)  # of the venue's seats used by the event
    venue_size = rng.lognormal(0, 0.5, n_venues)
    venue_cap = np.maximum(venue_size * budget / (venue_size[ev_venue] * ev_share).sum(), 150)
    venue_cap = venue_cap.astype(np.int64)
    ev_cap = np.maximum((venue_cap[ev_venue] * ev_share).astype(np.int64), 1)
    ev_start_day = rng.choice(n_days, n_events, p=start_weight / start_weight.sum())
    ev_on_sale_day = ev_start_day - 21 - rng.exponential(45, n_events).astype(int)
    ev_on_sale_day = np.maximum(ev_on_sale_day, -90)
    ev_cat = rng.choice(len(CATEGORIES), n_events, p=CATEGORY_SHARE)
    ev_base = np.round(
        np.array(CATEGORY_PRICE_CENTS)[ev_cat] * rng.lognormal(0, 0.3, n_events), -2
    ).astype(np.int64)
    ev_pop = rng.lognormal(0, 0.7, n_events)
    ev_elast = np.array([spec.truth.elasticity[c] for c in CATEGORIES])[ev_cat]

    # 3. the sales, day by day
    sale = _Sales(
        rng, ev_on_sale_day, ev_start_day, ev_cap, ev_base, ev_pop, ev_elast, spend, tier
    ).run(day)
    kept = sale.event >= 0

    # 4. frames
    venue_ids = ids.uuid4(rng, n_venues)
    event_ids = ids.uuid4(rng, n_events)
    customer_ids = ids.uuid4(rng, n_cust)
    venues = pl.DataFrame(
        {
            "tenant_id": tenant_id,
            "venue_id": venue_ids,
            "name": [
                f"{CITIES[tz][i % len(CITIES[tz])]} {VENUE_KINDS[i % len(VENUE_KINDS)]}"
                for i, tz in enumerate(venue_tz)
            ],
            "city": [CITIES[tz][i % len(CITIES[tz])] for i, tz in enumerate(venue_tz)],
            "timezone": venue_tz,
            "capacity": venue_cap,
        }
    )
    start_ms = np.empty(n_events, dtype=np.int64)
    on_sale_ms = np.empty(n_events, dtype=np.int64)
    for v in range(n_venues):  # event times are local to the venue
        mask = ev_venue == v
        vclock = _Clock(spec.start, n_days, venue_tz[v], first_day=-120)
        start_ms[mask] = vclock.at(
            ev_start_day[mask], _start_seconds(ev_start_day[mask], ev_cat[mask], spec.start)
        )
        on_sale_ms[mask] = vclock.at(ev_on_sale_day[mask], np.full(mask.sum(), 10 * 3600))
    events = pl.DataFrame(
        {
            "tenant_id": tenant_id,
            "event_id": event_ids,
            "venue_id": venue_ids.gather(ev_venue),
            "name": _event_names(rng, ev_cat),
            "category": np.array(CATEGORIES)[ev_cat],
            "on_sale_at": _ts(on_sale_ms),
            "starts_at": _ts(start_ms),
            "capacity": ev_cap,
            "base_price_cents": ev_base,
        }
    )
    first_order_ms = np.full(n_cust, np.iinfo(np.int64).max)
    np.minimum.at(first_order_ms, purchase_cust, order_ms)
    first = rng.integers(0, len(FIRST), n_cust)
    last = rng.integers(0, len(LAST), n_cust)
    full_names = pl.Series(FIRST).gather(first) + " " + pl.Series(LAST).gather(last)
    customers = pl.DataFrame(
        {
            "tenant_id": tenant_id,
            "customer_id": customer_ids,
            "email": full_names.str.to_lowercase().str.replace(" ", ".")
            + "."
            + pl.Series(np.arange(n_cust)).cast(pl.String)
            + "@example.org",
            "full_name": full_names,
            "created_at": _ts(first_order_ms - rng.integers(0, 20 * MS_PER_DAY, n_cust)),
        }
    )
    o_idx = np.flatnonzero(kept)
    o_ms = order_ms[o_idx]
    o_channel = rng.choice(len(CHANNELS), o_idx.size, p=CHANNEL_SHARE)
    order_ids = ids.uuid7(rng, o_ms)
    orders = pl.DataFrame(
        {
            "tenant_id": tenant_id,
            "order_id": order_ids,
            "customer_id": customer_ids.gather(purchase_cust[o_idx]),
            "channel": np.array(CHANNELS)[o_channel],
            "created_at": _ts(o_ms),
        }
    )
    tickets = _tickets(
        rng,
        tenant_id,
        order_ids,
        o_ms,
        o_channel,
        sale.event[o_idx],
        sale.tickets[o_idx],
        sale.unit_price[o_idx],
        tier[o_idx],
        event_ids,
        start_ms,
        clock.end_ms,
    )
    touches = _touches(
        rng,
        tenant_id,
        customer_ids,
        purchase_cust[o_idx],
        o_ms,
        ev_cat[sale.event[o_idx]],
        first_order_ms,
        clock.end_ms,
    )
    tenants = pl.DataFrame(
        {
            "tenant_id": [tenant_id],
            "name": [TENANT_NAMES[index % len(TENANT_NAMES)]],
            "created_at": _ts(np.array([created_ms])),
        }
    )
    truth = pl.DataFrame(
        {
            "tenant_id": tenant_id,
            "customer_id": customer_ids,
            "purchase_rate_per_day": lam,
            "dropout_probability": drop_p,
            "spend_rate": nu,
            "alive_at_end": alive_at_end,
        }
    )
    stats = {
        "customers": n_cust,
        "purchases_generated": n_orders,
        "orders": o_idx.size,
        "orders_lost_to_capacity": n_orders - o_idx.size,
        "tickets": tickets.height,
        "events": n_events,
        "sold_out_events": int((sale.sold >= ev_cap).sum()),
        "refunded_tickets": int((tickets["status"] == "refunded").sum()),
        "campaign_touches": touches.height,
    }
    tables = {
        "tenants": tenants,
        "venues": venues,
        "events": events,
        "customers": customers,
        "orders": orders,
        "tickets": tickets,
        "campaign_touches": touches,
    }
    return TenantWorld(tenant_id=tenant_id, tables=tables, truth=truth, stats=stats)


class _Clock:
    """Local calendar days of one time zone, as UTC milliseconds of each local midnight."""

    def __init__(self, start: dt.date, n_days: int, tz: str, first_day: int = 0):
        zone = ZoneInfo(tz)
        self.first_day = first_day
        days = [start + dt.timedelta(days=d) for d in range(first_day, n_days + 1)]
        self.midnight_ms = np.array(
            [int(dt.datetime.combine(d, dt.time(), zone).timestamp() * 1000) for d in days]
        )
        self.weekday = np.array([d.weekday() for d in days])
        self.history_days = n_days - FUTURE_DAYS
        self.end_ms = self.midnight_ms[self.history_days - first_day]  # data ends here

    def at(self, day: np.ndarray, seconds: np.ndarray) -> np.ndarray:
        return self.midnight_ms[day - self.first_day] + (seconds * 1000).astype(np.int64)

    def place(self, t: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Warp operational days ``t`` onto calendar days (weekly pattern) and local times of
        day (hourly profile); return (day index, UTC ms)."""
        weights = WEEKLY[self.weekday[: self.history_days]] / WEEKLY.mean()
        bounds = np.concatenate([[0.0], np.cumsum(weights)])
        scaled = t * bounds[-1] / self.history_days
        day = np.clip(np.searchsorted(bounds, scaled, side="right") - 1, 0, self.history_days - 1)
        frac = np.clip((scaled - bounds[day]) / weights[day], 0, 1 - 1e-9)
        hour_cdf = np.concatenate([[0.0], np.cumsum(HOURLY) / HOURLY.sum()])
        hour = np.searchsorted(hour_cdf, frac, side="right") - 1
        within = (frac - hour_cdf[hour]) / (hour_cdf[hour + 1] - hour_cdf[hour])
        seconds = (hour + within) * 3600 + rng.random(t.size) * 1e-3
        return day, self.at(day, seconds)


@dataclass
class _SaleResult:
    event: np.ndarray  # per purchase: event index, or -1 when lost
    tickets: np.ndarray
    unit_price: np.ndarray
    sold: np.ndarray  # per event


class _Sales:
    """Allocate each day's purchases to events on sale, honouring capacity and moving prices."""

    PRICE_TESTS = np.array([0.85, 0.93, 1.0, 1.07, 1.15])
    BOOKING_DAYS = 12.0

    def __init__(self, rng, on_sale, start, cap, base, pop, elast, spend, tier):
        self.rng, self.on_sale, self.start, self.cap = rng, on_sale, start, cap
        self.base, self.pop, self.exponent = base, pop, elast + 1.0
        self.spend, self.tier = spend, tier
        weeks = int((start - on_sale).max()) // 7 + 1
        self.tests = rng.choice(self.PRICE_TESTS, size=(cap.size, weeks))

    def price_multiplier(self, ev: np.ndarray, d: int, sold: np.ndarray) -> np.ndarray:
        through = sold[ev] / self.cap[ev]
        mult = self.tests[ev, (d - self.on_sale[ev]) // 7]
        mult = mult * np.where(through >= 0.85, 1.2, np.where(through >= 0.6, 1.1, 1.0))
        last_minute = (self.start[ev] - d <= 10) & (through < 0.4)
        return mult * np.where(last_minute, 0.85, 1.0)

    def run(self, day: np.ndarray) -> _SaleResult:
        n = day.size
        result = _SaleResult(
            event=np.full(n, -1),
            tickets=np.zeros(n, dtype=np.int64),
            unit_price=np.zeros(n, dtype=np.int64),
            sold=np.zeros(self.cap.size, dtype=np.int64),
        )
        bounds = np.searchsorted(day, np.arange(day.max() + 2))
        for d in range(day.max() + 1):
            pending = np.arange(bounds[d], bounds[d + 1])
            for _ in range(3):  # a purchase that meets a full event tries again elsewhere
                if pending.size == 0:
                    break
                pending = self._allocate(d, pending, result)
        return result

    def _allocate(self, d: int, purchases: np.ndarray, out: _SaleResult) -> np.ndarray:
        rng, sold = self.rng, out.sold
        active = np.flatnonzero((self.on_sale < d) & (self.start > d) & (sold < self.cap))
        if active.size == 0:
            return purchases[:0]
        mult = self.price_multiplier(active, d, sold)
        days_left = (self.start[active] - d).astype(float)
        burst = np.where(d - self.on_sale[active] <= 3, 0.06, 0.0)
        w = self.pop[active] * (np.exp(-days_left / self.BOOKING_DAYS) + burst + 0.01)
        w *= mult ** self.exponent[active]
        pick = rng.choice(active.size, purchases.size, p=w / w.sum())
        ev = active[pick]
        list_price = np.round(self.base[ev] * mult[pick] / 50) * 50
        unit = np.maximum(
            np.round(list_price * TICKET_TYPE_PRICE[self.tier[purchases]] / 50) * 50, 50
        )
        want = self.spend[purchases] / unit
        qty = np.floor(want) + (rng.random(purchases.size) < want - np.floor(want))
        qty = np.clip(qty, 1, MAX_TICKETS_PER_ORDER).astype(np.int64)
        # first come, first served within the day: earlier purchases take the seats
        by_event = np.argsort(ev, kind="stable")
        q = qty[by_event]
        ahead = _segment_cumsum(q, _run_lengths(ev[by_event])) - q
        room = self.cap[ev[by_event]] - sold[ev[by_event]] - ahead
        got = np.clip(room, 0, qty[by_event])
        served = by_event[got > 0]
        out.event[purchases[served]] = ev[served]
        out.tickets[purchases[served]] = got[got > 0]
        out.unit_price[purchases[served]] = unit[served]
        np.add.at(sold, ev[served], got[got > 0])
        return np.sort(purchases[by_event[got == 0]])


def _segment_cumsum(values: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Cumulative sums restarting at each segment (consecutive segments of ``lengths``)."""
    if values.size == 0:
        return values
    total = np.cumsum(values)
    starts = np.cumsum(lengths) - lengths
    before = np.where(starts > 0, total[np.maximum(starts - 1, 0)], 0)
    return total - np.repeat(before, lengths)


def _run_lengths(sorted_keys: np.ndarray) -> np.ndarray:
    edges = np.flatnonzero(np.diff(sorted_keys)) + 1
    return np.diff(np.concatenate([[0], edges, [sorted_keys.size]]))


def _event_start_weights(purchase_day: np.ndarray, history_days: int, n_days: int) -> np.ndarray:
    """Where events start: where purchases are, a booking lead later; the last two months'
    purchase rate carries on into the future."""
    rate = np.bincount(purchase_day, minlength=history_days).astype(float)
    rate = np.convolve(rate, np.ones(28) / 28, mode="same")
    future = np.full(n_days - history_days, rate[-60:-14].mean())
    lead = 25
    return np.concatenate([np.zeros(lead), rate, future])[:n_days] + 1e-9


def _start_seconds(day: np.ndarray, cat: np.ndarray, start: dt.date) -> np.ndarray:
    weekday = (start.weekday() + day) % 7
    evening = np.where(weekday >= 4, 20 * 3600, 19.5 * 3600)
    matinee = np.where(weekday == 6, 14 * 3600, 11 * 3600)
    return np.where(cat == CATEGORIES.index("family"), matinee, evening)


def _event_names(rng, cat: np.ndarray) -> list[str]:
    a = rng.integers(0, len(ACTS), cat.size)
    b = rng.integers(0, len(NOUNS), cat.size)
    fmt = {
        "concert": "{a} {b} live",
        "sports": "{a} {b} vs the Visitors",
        "theatre": "The {a} {b}",
        "comedy": "{a} Comedy Night",
        "family": "{b} on Ice",
    }
    return [
        fmt[CATEGORIES[c]].format(a=ACTS[i], b=NOUNS[j]) for c, i, j in zip(cat, a, b, strict=True)
    ]


def _ts(ms: np.ndarray) -> pl.Series:
    return (
        pl.Series(np.asarray(ms, dtype=np.int64))
        .cast(pl.Datetime("ms"))
        .dt.replace_time_zone("UTC")
    )


def _where(mask: np.ndarray, values: pl.Series) -> pl.Series:
    return pl.select(pl.when(pl.Series(mask)).then(values)).to_series().alias(values.name)


def _tickets(
    rng,
    tenant_id,
    order_ids,
    o_ms,
    o_channel,
    o_event,
    o_qty,
    o_price,
    o_tier,
    event_ids,
    start_ms,
    end_ms,
) -> pl.DataFrame:
    n = int(o_qty.sum())
    t_order = np.repeat(np.arange(o_qty.size), o_qty)
    price = o_price[t_order]
    channel = o_channel[t_order]
    fee = np.select(
        [channel == CHANNELS.index("box_office"), channel == CHANNELS.index("partner")],
        [0, np.round(price * 0.12) + 200],
        np.round(price * 0.10) + 150,
    ).astype(np.int64)
    sold_ms = o_ms[t_order]
    ev_start = start_ms[o_event]
    # refunds: whole orders, between the sale and the event (or the end of the data)
    refund_order = rng.random(o_qty.size) < REFUND_RATE
    window = np.minimum(ev_start, end_ms) - o_ms
    refund_ms_o = o_ms + (rng.beta(1, 2, o_qty.size) * window).astype(np.int64)
    refunded = refund_order[t_order]
    # scans: whole orders turn up, minutes before the start, unless they are no-shows
    past = ev_start[t_order] < end_ms
    show_order = rng.random(o_qty.size) >= NO_SHOW_RATE
    scanned = past & show_order[t_order] & ~refunded
    scan_ms = ev_start[t_order] - rng.integers(5 * 60_000, 90 * 60_000, n)
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
            "ticket_type": np.array(TICKET_TYPES)[o_tier[t_order]],
            "sold_at": _ts(sold_ms),
            "status": status,
            "refunded_at": _where(refunded, _ts(refund_ms_o[t_order])),
            "scanned_at": _where(scanned, _ts(scan_ms)),
        }
    )


def _touches(rng, tenant_id, customer_ids, o_cust, o_ms, o_cat, first_ms, end_ms) -> pl.DataFrame:
    # touches before purchases (attributable) …
    n_before = np.where(rng.random(o_ms.size) < 0.55, 1 + rng.poisson(1.0, o_ms.size), 0)
    t_owner = np.repeat(np.arange(o_ms.size), n_before)
    before_ms = o_ms[t_owner] - np.minimum(
        rng.exponential(3 * MS_PER_DAY, t_owner.size), 30 * MS_PER_DAY
    ).astype(np.int64)
    # … and touches that lead nowhere
    n_cust = customer_ids.len()
    n_noise = rng.poisson(1.0, n_cust)
    noise_owner = np.repeat(np.arange(n_cust), n_noise)
    span = end_ms - first_ms[noise_owner]
    noise_ms = first_ms[noise_owner] + (rng.random(noise_owner.size) * span).astype(np.int64)
    cust = np.concatenate([o_cust[t_owner], noise_owner])
    ms = np.concatenate([before_ms, noise_ms])
    cat = np.concatenate([o_cat[t_owner], rng.integers(0, len(CATEGORIES), noise_owner.size)])
    channel = rng.choice(len(TOUCH_CHANNELS), ms.size, p=TOUCH_SHARE)
    order = np.argsort(ms, kind="stable")
    cust, ms, cat, channel = cust[order], ms[order], cat[order], channel[order]
    month = pl.Series(ms).cast(pl.Datetime("ms")).dt.strftime("%Y%m")
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
