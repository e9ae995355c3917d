-- Marquee, a ticketing platform whose schema is not boxoffice's source contract: money in
-- numeric dollars, times in the hall's local time without a zone, its own spellings of
-- channels, tiers, genres and states, and no orders table (a purchase id on each seat).
-- examples/marquee/mapping.yaml reads it as the contract's tables.
create schema marquee;

create table marquee.organizations (
    org_id uuid primary key,
    org_name text not null,
    joined_utc timestamp not null,              -- UTC, without a zone
    updated_at timestamptz not null default now()
);

create table marquee.halls (
    org_id uuid not null references marquee.organizations,
    hall_id uuid not null,
    hall_name text not null,
    town text not null,
    tz text not null,                           -- an IANA zone: the hall's local time
    seats integer not null,
    updated_at timestamptz not null default now(),
    primary key (org_id, hall_id)
);

create table marquee.shows (
    org_id uuid not null,
    show_id uuid not null,
    hall_id uuid not null,
    title text not null,
    genre text not null,                        -- Concert, Sport, Theater, Comedy, Family
    sales_open timestamp not null,              -- the hall's local time
    curtain timestamp not null,                 -- the hall's local time
    seats integer not null,
    list_price numeric(12, 2) not null,         -- dollars
    updated_at timestamptz not null default now(),
    primary key (org_id, show_id),
    foreign key (org_id, hall_id) references marquee.halls
);

create table marquee.patrons (
    org_id uuid not null references marquee.organizations,
    patron_id uuid not null,
    email text not null,
    display_name text not null,
    joined_utc timestamp not null,              -- UTC, without a zone
    updated_at timestamptz not null default now(),
    primary key (org_id, patron_id)
);

create table marquee.seats (
    org_id uuid not null,
    seat_ticket_id uuid not null,
    purchase_id uuid not null,                  -- one purchase: boxoffice's order
    patron_id uuid not null,
    sold_via text not null,                     -- WEB, APP, COUNTER, RESELLER
    show_id uuid not null,
    price numeric(12, 2) not null,              -- dollars
    fee numeric(12, 2) not null,                -- dollars
    tier text not null,                         -- GA, PREMIUM, VIP, CONCESSION
    bought timestamp not null,                  -- the hall's local time
    state text not null,                        -- ISSUED, REFUNDED, ADMITTED
    refunded timestamp,                         -- the hall's local time
    admitted timestamp,                         -- the hall's local time
    updated_at timestamptz not null default now(),
    primary key (org_id, seat_ticket_id),
    foreign key (org_id, show_id) references marquee.shows,
    foreign key (org_id, patron_id) references marquee.patrons
);

-- seats deleted on the platform (a void): boxoffice deletes them too
create table marquee.voided_seats (
    org_id uuid not null,
    seat_ticket_id uuid not null,
    voided_at timestamptz not null default now(),
    primary key (org_id, seat_ticket_id)
);

create table marquee.touches (
    org_id uuid not null,
    touch_id uuid not null,
    patron_id uuid not null,
    medium text not null,
    campaign text not null,
    touched_utc timestamptz not null,
    primary key (org_id, touch_id)
);
