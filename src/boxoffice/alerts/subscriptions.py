"""Report packs as configuration: ``reports.yaml`` (``docs/reports.md``) gives each tenant's
money, reporting time zone and paper, and who is sent its pack when. Like ``alerts.yaml`` it is
read and checked whole before anything is rendered or sent, and a file that is not right is
refused with its line, subscription and field::

    reports.yaml, line 12: subscription weekly-pack: cadence: daily, weekly on a weekday or
    monthly on a day (1-31), got 'fortnightly'

- ``defaults``: ``currency`` (ISO 4217 code, ``USD``), ``timezone`` (IANA name, ``UTC``) and
  ``paper`` (``A4`` or ``Letter``) of every tenant; ``tenants``: per tenant (its id or its
  name), its own.
- ``delivery.attach_up_to_mb``: an e-mail carries the pack's files while together they are at
  most this size (10 MB), else a link to each.
- ``subscriptions``: each a ``name``, a ``tenant`` (id or name), ``to`` (e-mail addresses, or
  channels of ``alerts.yaml``: an e-mail channel's addresses get the mail, a webhook the
  links), a ``cadence`` (``daily``, ``weekly on monday`` …, ``monthly on 1`` …; a day past a
  month's end is its last day) in its ``timezone`` (the tenant's by default), ``formats``
  (``pdf``, ``xlsx``, ``link``: the link to the HTML page behind the dashboards' login) and
  ``days``, the period the pack covers: the days ending the day before delivery.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from boxoffice.alerts import notify
from boxoffice.alerts.rules import _EMAIL, _NAME, Channel, RuleSet, _empty, _Located, load_located

WEEKDAYS = tuple(day.lower() for day in calendar.day_name)  # monday … sunday
FORMATS = ("pdf", "xlsx", "link")
PAPERS = ("A4", "Letter")
DEFAULT_DAYS = {"daily": 1, "weekly": 7, "monthly": 30}
_CADENCE = re.compile(r"^(daily|weekly on ([a-z]+)|monthly on (\d{1,2}))$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
ADDRESSES = "(addresses)"  # the channel of the addresses a subscription names itself


class SettingsError(ValueError):
    """``reports.yaml`` is not right; the message names the file, line, entry and field."""


@dataclass(frozen=True)
class TenantSettings:
    currency: str = "USD"
    timezone: str = "UTC"
    paper: str = "A4"


@dataclass(frozen=True)
class Cadence:
    """When a pack goes: ``every`` day, week (on ``day``, Monday 0) or month (on ``day``)."""

    every: str
    day: int | None = None

    def delivers_on(self, day: dt.date) -> bool:
        if self.every == "daily":
            return True
        if self.every == "weekly":
            return day.weekday() == self.day
        return day.day == min(self.day, calendar.monthrange(day.year, day.month)[1])

    def latest(self, today: dt.date) -> dt.date:
        """The newest delivery day on or before ``today``."""
        day = today
        while not self.delivers_on(day):
            day -= dt.timedelta(days=1)
        return day

    def __str__(self) -> str:
        if self.every == "daily":
            return "daily"
        on = WEEKDAYS[self.day] if self.every == "weekly" else str(self.day)
        return f"{self.every} on {on}"


@dataclass(frozen=True)
class Subscription:
    name: str
    tenant: str  # the tenant's id or name, as the file gives it
    to: tuple[str, ...]  # e-mail addresses and channels of alerts.yaml
    cadence: Cadence
    timezone: str | None  # None: the tenant's reporting time zone
    formats: tuple[str, ...]
    days: int
    line: int = 0

    def due(self, now: dt.datetime, timezone: str) -> tuple[dt.date, dt.date]:
        """The delivery due at ``now`` (the newest delivery day up to today in the
        subscription's time zone) and the run date its pack ends on (the day before)."""
        today = now.astimezone(zoneinfo.ZoneInfo(self.timezone or timezone)).date()
        day = self.cadence.latest(today)
        return day, day - dt.timedelta(days=1)


@dataclass(frozen=True)
class ReportSettings:
    path: Path
    defaults: TenantSettings
    tenants: dict[str, TenantSettings]  # tenant id or name → its own settings
    subscriptions: tuple[Subscription, ...]
    attach_up_to_bytes: int = 10 * 10**6  # megabytes of 10⁶ bytes

    def for_tenant(self, tenant_id: str, name: str = "") -> TenantSettings:
        return self.tenants.get(str(tenant_id)) or self.tenants.get(name) or self.defaults

    def subscriptions_of(self, tenant_id: str, name: str = "") -> tuple[Subscription, ...]:
        return tuple(s for s in self.subscriptions if s.tenant in (str(tenant_id), name))


def read_settings(
    path: Path,
    *,
    tenants: Mapping[str, str] | None = None,
    rules: RuleSet | None = None,
) -> ReportSettings:
    """The settings of ``path`` (all defaults when there is no file). With ``tenants`` (the
    warehouse's, id → name) every tenant named must be one of them; with ``rules`` every
    recipient that is not an address must be a channel of that tenant in ``alerts.yaml``."""
    path = Path(path)
    data = load_located(path, SettingsError, "the report settings") if path.exists() else None
    reader = _Reader(path, tenants, rules)
    return reader.settings(_empty(1) if data is None else data)


class _Reader:
    def __init__(self, path: Path, tenants: Mapping[str, str] | None, rules: RuleSet | None):
        self.path, self.known, self.rules = path, tenants, rules

    def fail(self, line: int, what: str, entry: str | None = None) -> None:
        who = f"subscription {entry}: " if entry else ""
        raise SettingsError(f"{self.path}, line {line}: {who}{what}")

    def mapping(self, value: Any, line: int, what: str, allowed: set[str], entry=None):
        if not isinstance(value, _Located):
            self.fail(line, f"{what}: a mapping", entry)
        if unknown := sorted(set(value) - allowed, key=str):
            key = unknown[0]
            fields = ", ".join(sorted(allowed))
            self.fail(value.lines[key], f"{key}: not a field of {what} ({fields})", entry)
        return value

    def section(self, top: _Located, key: str, allowed: set[str] | None = None) -> _Located:
        line = top.lines.get(key, top.line)
        given = top.get(key, _empty(line))
        return self.mapping(given, line, key, set(given or {}) if allowed is None else allowed)

    def settings(self, data: Any) -> ReportSettings:
        top = self.mapping(
            data, 1, "the report settings", {"defaults", "tenants", "delivery", "subscriptions"}
        )
        defaults = self.tenant_settings(self.section(top, "defaults"), "defaults", TenantSettings())
        tenants = {}
        given = self.section(top, "tenants")
        for tenant, spec in given.items():
            what = f"tenants.{tenant}"
            self.tenant_id(str(tenant), given.lines[tenant], what)
            spec = self.mapping(spec, given.lines[tenant], what, set(_TENANT_FIELDS))
            tenants[str(tenant)] = self.tenant_settings(spec, what, defaults)
        delivery = self.section(top, "delivery", {"attach_up_to_mb"})
        limit = delivery.get("attach_up_to_mb", 10)
        if not _number(limit) or not 0 < limit <= 100:
            self.fail(delivery.lines.get("attach_up_to_mb", 1), f"attach_up_to_mb: megabytes in"
                      f" (0, 100], got {limit!r}")  # fmt: skip
        subscriptions: list[Subscription] = []
        listed = top.get("subscriptions", [])
        line = top.lines.get("subscriptions", 1)
        if not isinstance(listed, list):
            self.fail(line, "subscriptions: a list of subscriptions")
        for spec in listed:
            subscription = self.subscription(spec, line)
            if any(s.name == subscription.name for s in subscriptions):
                self.fail(subscription.line, f"subscriptions: a second one named {spec['name']}")
            subscriptions.append(subscription)
        return ReportSettings(
            self.path, defaults, tenants, tuple(subscriptions), int(limit * 10**6)
        )

    def tenant_settings(self, spec: _Located, what: str, base: TenantSettings) -> TenantSettings:
        self.mapping(spec, spec.line, what, set(_TENANT_FIELDS))
        values = {}
        for key, (check, expected) in _TENANT_FIELDS.items():
            if key in spec:
                if not check(spec[key]):
                    self.fail(spec.lines[key], f"{what}.{key}: {expected}, got {spec[key]!r}")
                values[key] = spec[key]
        return TenantSettings(**{**base.__dict__, **values})

    def tenant_id(self, tenant: str, line: int, what: str, entry=None) -> None:
        if (
            self.known is not None
            and tenant not in self.known
            and tenant not in set(self.known.values())
        ):
            self.fail(line, f"{what}: no tenant {tenant!r} (a tenant's id or name)", entry)

    def subscription(self, spec: Any, line: int) -> Subscription:
        if not isinstance(spec, _Located):
            self.fail(line, "subscriptions: each is a mapping with name, tenant, to and cadence")
        name = spec.get("name")
        if not isinstance(name, str) or not _NAME.match(name):
            self.fail(spec.line, "name: lower case letters, digits, - and _ (at most 63)")
        self.mapping(spec, spec.line, "a subscription", _SUBSCRIPTION_FIELDS, name)

        def at(key: str) -> int:
            return spec.lines.get(key, spec.line)

        for key in ("tenant", "to", "cadence"):
            if key not in spec:
                self.fail(spec.line, f"{key}: required", name)
        tenant = spec["tenant"]
        if not isinstance(tenant, str) or not tenant:
            self.fail(at("tenant"), f"tenant: a tenant's id or name, got {tenant!r}", name)
        self.tenant_id(tenant, at("tenant"), "tenant", name)
        to = [spec["to"]] if isinstance(spec["to"], str) else spec["to"]
        if not isinstance(to, list) or not to or not all(isinstance(t, str) for t in to):
            self.fail(at("to"), "to: one or more e-mail addresses or channels", name)
        for recipient in to:
            if not _EMAIL.match(recipient):
                self.channel(recipient, tenant, at("to"), name)
        cadence = spec["cadence"]
        matched = _CADENCE.match(cadence) if isinstance(cadence, str) else None
        weekday, monthday = (matched.group(2), matched.group(3)) if matched else (None, None)
        if (
            matched is None
            or (weekday is not None and weekday not in WEEKDAYS)
            or (monthday is not None and not 1 <= int(monthday) <= 31)
        ):
            self.fail(
                at("cadence"),
                f"cadence: daily, weekly on a weekday or monthly on a day (1-31), got {cadence!r}",
                name,
            )
        every = cadence.split()[0]
        day = WEEKDAYS.index(weekday) if weekday else int(monthday) if monthday else None
        timezone = spec.get("timezone")
        if timezone is not None and not _zone(timezone):
            self.fail(at("timezone"), f"timezone: an IANA time zone, got {timezone!r}", name)
        formats = spec.get("formats", ["pdf", "xlsx"])
        formats = [formats] if isinstance(formats, str) else formats
        if not isinstance(formats, list) or not formats or not set(formats) <= set(FORMATS):
            self.fail(
                at("formats"), f"formats: some of {', '.join(FORMATS)}, got {formats!r}", name
            )
        days = spec.get("days", DEFAULT_DAYS[every])
        if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= 366:
            self.fail(at("days"), f"days: the days the pack covers (1-366), got {days!r}", name)
        return Subscription(
            name=name,
            tenant=tenant,
            to=tuple(to),
            cadence=Cadence(every, day),
            timezone=timezone,
            formats=tuple(dict.fromkeys(formats)),
            days=days,
            line=spec.line,
        )

    def channel(self, recipient: str, tenant: str, line: int, entry: str) -> None:
        if self.rules is None:
            if not _NAME.match(recipient):
                self.fail(line, f"to: {recipient!r} is neither an address nor a channel", entry)
            return
        tenant_id = tenant
        if self.known is not None and tenant not in self.known:
            tenant_id = next(i for i, n in self.known.items() if n == tenant)
        _, channels = self.rules.for_tenant(tenant_id, (self.known or {}).get(tenant_id, ""))
        if recipient not in channels:
            known = ", ".join(sorted(channels)) or "none"
            self.fail(
                line,
                f"to: {recipient!r} is neither an address nor a channel of alerts.yaml ({known})",
                entry,
            )


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _zone(name: Any) -> bool:
    if not isinstance(name, str) or not name:
        return False
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True


_TENANT_FIELDS = {
    "currency": (lambda v: isinstance(v, str) and bool(_CURRENCY.match(v)),
                 "a three-letter ISO 4217 code (EUR)"),
    "timezone": (_zone, "an IANA time zone (Europe/Paris)"),
    "paper": (lambda v: v in PAPERS, "A4 or Letter"),
}  # fmt: skip
_SUBSCRIPTION_FIELDS = {"name", "tenant", "to", "cadence", "timezone", "formats", "days"}


# ----------------------------------------------------------------------------- messages
def key(subscription: Subscription, as_of: dt.date) -> str:
    """What makes a subscription's messages of one period once: its name and the run date."""
    return f"subscription:{subscription.name}|{as_of}"


def pack(
    subscription: Subscription,
    tenant: tuple[str, str],
    as_of: dt.date,
    files: Mapping[str, str],
    sizes: Mapping[str, int],
    *,
    limit: int,
) -> dict:
    """The message carrying a pack: ``files`` (format → path under the reports root) of
    ``sizes`` bytes. The PDF and workbook the subscription asks for are attached while
    together at most ``limit`` bytes, else linked; the HTML page is linked when it asks for
    ``link``. Links become URLs when the message is sent (``BOXOFFICE_REPORTS_URL``)."""
    wanted = [f for f in ("pdf", "xlsx") if f in subscription.formats]
    total = sum(sizes[f] for f in wanted)
    too_big = total > limit
    attach = [] if too_big else [files[f] for f in wanted]
    links = {f: files[f] for f in wanted} if too_big else {}
    if "link" in subscription.formats:
        links["html"] = files["html"]
    start = as_of - dt.timedelta(days=subscription.days - 1)
    who = tenant[1] or tenant[0]
    lines = [
        f"{who}: the report pack {subscription.name}, the {subscription.days} days {start} to"
        f" {as_of} (the run of {as_of}).",
    ]
    if attach:
        lines.append(
            "Attached: "
            + ", ".join(f"{Path(files[f]).name} ({sizes[f] / 1000:,.0f} kB)" for f in wanted)
            + "."
        )
    if too_big:
        lines.append(
            f"Its files are {total / 10**6:.1f} MB together, more than the"
            f" {limit / 10**6:g} MB a mail carries here: they are linked below."
        )
    message = _message(subscription, tenant, as_of, "pack", lines)
    shared = {f: files[f] for f in wanted} | ({"html": files["html"]} if "html" in links else {})
    message["payload"] |= {"files": shared, "attach": attach, "links": links}
    return message


def delayed(subscription: Subscription, tenant: tuple[str, str], as_of: dt.date) -> dict:
    """The short notice sent instead of a pack whose run has not completed."""
    lines = [
        f"{tenant[1] or tenant[0]}: the report pack {subscription.name} of the run of {as_of}"
        " is delayed: that run has not completed.",
        "It will be sent when the run has completed; no older pack is sent in its place.",
    ]
    return _message(subscription, tenant, as_of, "delayed", lines)


def _message(
    subscription: Subscription, tenant: tuple[str, str], as_of: dt.date, event: str, lines
) -> dict:
    who = tenant[1] or tenant[0]
    what = "report pack" if event == "pack" else "report pack delayed"
    subject = f"[boxoffice] {who}: {what} {subscription.name} ({as_of})"
    body = "\n".join(lines) + "\n"
    start = as_of - dt.timedelta(days=subscription.days - 1)
    payload = {
        "kind": "report-pack",
        "event": event,
        "subscription": subscription.name,
        "tenant": {"id": tenant[0], "name": tenant[1]},
        "as_of": as_of.isoformat(),
        "period": {"start": start.isoformat(), "end": as_of.isoformat()},
        "subject": subject,
        "text": body,
    }
    return {
        "rule": f"subscription:{subscription.name}",
        "event": event,
        "evaluated": as_of,
        "scope_keys": [tenant[0]],
        "subject": subject,
        "body": body,
        "payload": payload,
    }


def addressed(
    message: dict, key: str, subscription: Subscription, channels: dict[str, Channel]
) -> list[dict]:
    """``message`` once per recipient: each address the subscription names (channel
    :data:`ADDRESSES`), each address of an e-mail channel it names, each webhook it names —
    an address named twice gets it once."""
    rows: dict[str, dict] = {}
    for recipient in subscription.to:
        if recipient in channels:
            named = notify.addressed(message, key, (recipient,), channels)
        else:
            named = [message | {"key": key, "channel": ADDRESSES, "recipient": recipient}]
        rows |= {r["recipient"]: r for r in named if r["recipient"] not in rows}
    return list(rows.values())
