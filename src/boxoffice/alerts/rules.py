"""Alert rules as code: ``alerts.yaml`` (``docs/alerts.md``), read and checked before anything
runs. A file that is not right is refused whole, with its file, line, rule and field named::

    alerts.yaml, line 14: rule refund-wave: sensitivity: a number in (0.5, 0.999], got 2

The file has ``channels`` (where notifications go), ``defaults`` (fields every rule gets unless
it sets them), ``rules``, and ``tenants``: per tenant (its id or its name), more channels, more
rules (one named like a default rule replaces it for that tenant) and ``disable`` (default
rules that tenant does not want).
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from boxoffice.alerts.metrics import METRICS, SCOPES

KINDS = ("threshold", "change", "anomaly", "freshness", "operational")
CADENCES = ("daily", "intraday")
AGAINST = ("previous_period", "same_weekday_last_week")
FRESHNESS_OF = ("sales", "run", "events")
CONDITIONS = ("run_failed", "dead_letters", "reconciliation")
DIRECTIONS = ("both", "above", "below")
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
_ENV = re.compile(r"^[A-Z_][A-Z0-9_]*$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class RulesError(ValueError):
    """The rules file is not right; the message names the file, line, rule and field."""


@dataclass(frozen=True)
class Channel:
    """Where notifications go: ``email`` to addresses (over the SMTP server of
    ``BOXOFFICE_SMTP_URL``), or ``webhook`` to the URL in the environment variable ``url_env``
    (JSON, or Slack's ``{"text": …}`` with ``format: slack``)."""

    name: str
    type: str
    to: tuple[str, ...] = ()
    url_env: str | None = None
    format: str = "json"


@dataclass(frozen=True)
class Rule:
    """One rule (fields by kind: ``docs/alerts.md``). ``pending`` is the file's ``for``: the
    evaluations in a row the condition must hold, at the rule's cadence, before it fires."""

    name: str
    kind: str
    metric: str | None = None
    scope: str = "tenant"
    window: int = 1  # days
    above: float | None = None
    below: float | None = None
    against: str = "previous_period"
    sensitivity: float = 0.95
    direction: str = "both"
    robust: bool = False  # an anomaly model's history has its outliers pulled in first
    min_volume: float = 0
    of: str | None = None
    older_than_hours: float | None = None
    condition: str | None = None
    cadence: str = "daily"
    pending: int = 1
    notify: tuple[str, ...] = ()
    renotify_hours: float | None = None
    description: str = ""
    line: int = 0  # where the rule starts in its file

    @property
    def per_evaluation(self) -> bool:
        """Judged on every evaluation, not once per date: what it watches (a run, the
        notification queue) changes within a day."""
        return self.condition in ("run_failed", "delivery_failed")


@dataclass(frozen=True)
class Delivery:
    """How notifications are delivered: each attempt gives up after ``timeout_seconds``, one
    evaluation spends at most ``max_seconds`` delivering (what is left stays queued for the
    next), and a channel with a notification still undelivered after ``failing_after``
    attempts fires the built-in ``delivery-failing`` alert."""

    timeout_seconds: float = 10
    max_seconds: float = 60
    failing_after: int = 3


# every tenant has it: a channel whose deliveries keep failing, told through the others
DELIVERY_FAILING = Rule(
    name="delivery-failing",
    kind="operational",
    condition="delivery_failed",
    scope="channel",
    description="notifications to this channel keep failing",
)


@dataclass(frozen=True)
class TenantRules:
    channels: dict[str, Channel]
    rules: tuple[Rule, ...]
    disable: tuple[str, ...]


@dataclass(frozen=True)
class RuleSet:
    path: Path
    channels: dict[str, Channel]
    rules: tuple[Rule, ...]
    tenants: dict[str, TenantRules]  # tenant id or name → its own section
    delivery: Delivery = Delivery()

    def for_tenant(self, tenant_id: str, name: str = "") -> tuple[tuple[Rule, ...], dict]:
        """The rules and channels of one tenant: the defaults without its disabled rules, its
        own rules replacing default rules of the same name, and the built-in
        :data:`DELIVERY_FAILING`."""
        own = self.tenants.get(str(tenant_id)) or self.tenants.get(name)
        if own is None:
            return (*self.rules, DELIVERY_FAILING), self.channels
        replaced = {r.name for r in own.rules} | set(own.disable)
        rules = tuple(r for r in self.rules if r.name not in replaced) + own.rules
        return (*rules, DELIVERY_FAILING), {**self.channels, **own.channels}


# the fields of each kind besides the common ones, with their checks
_COMMON = {"name", "kind", "cadence", "for", "notify", "renotify_hours", "description"}
_BY_KIND = {
    "threshold": {"metric", "scope", "window", "above", "below", "min_volume"},
    "change": {"metric", "scope", "window", "above", "below", "against", "min_volume"},
    "anomaly": {"metric", "scope", "window", "sensitivity", "direction", "robust", "min_volume"},
    "freshness": {"of", "older_than_hours"},
    "operational": {"condition", "above"},
}
_DEFAULTS = {"cadence", "for", "notify", "renotify_hours"}


class _Located(dict):
    """A YAML mapping that remembers its line and each key's line."""

    line: int
    lines: dict[str, int]


class _Loader(yaml.SafeLoader):
    pass


def _mapping(loader: _Loader, node: yaml.MappingNode) -> _Located:
    loader.flatten_mapping(node)
    value = _Located()
    value.line, value.lines = node.start_mark.line + 1, {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in value:
            raise yaml.constructor.ConstructorError(
                None, None, f"{key!r} given twice", key_node.start_mark
            )
        value[key] = loader.construct_object(value_node, deep=True)
        value.lines[key] = key_node.start_mark.line + 1
    return value


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def read_rules(path: Path) -> RuleSet:
    """The rules of ``path``; :class:`RulesError` names what is wrong and where."""
    path = Path(path)
    return _Reader(path).rule_set(load_located(path, RulesError, "the rules"))


def load_located(path: Path, error: type[ValueError], what: str) -> Any:
    """The YAML document of ``path`` with each mapping a :class:`_Located` (an empty file is an
    empty mapping); ``error`` says what is wrong with the file, and where."""
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)  # a SafeLoader
    except OSError as exc:
        raise error(f"{path}: cannot read {what} ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise error(f"{path}: not UTF-8 text") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f", line {mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise error(f"{path}{where}: not YAML ({problem})") from None
    return _empty(1) if data is None else data


class _Reader:
    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, line: int, what: str, rule: str | None = None) -> None:
        who = f"rule {rule}: " if rule else ""
        raise RulesError(f"{self.path}, line {line}: {who}{what}")

    def mapping(self, value: Any, line: int, what: str, allowed: set[str], rule=None) -> _Located:
        if not isinstance(value, _Located):
            self.fail(line, f"{what}: a mapping", rule)
        if unknown := sorted(set(value) - allowed, key=str):
            key = unknown[0]
            self.fail(
                value.lines[key],
                f"{key}: not a field of {what} ({', '.join(sorted(allowed))})",
                rule,
            )
        return value

    def rule_set(self, data: Any) -> RuleSet:
        top = self.mapping(
            data, 1, "the rules file", {"channels", "defaults", "delivery", "rules", "tenants"}
        )
        defaults = self.mapping(
            top.get("defaults", _empty(top.line)),
            top.lines.get("defaults", 1),
            "defaults",
            _DEFAULTS,
        )
        channels = self.channels(top, top.lines.get("channels", 1))
        rules = self.rules(top, defaults, channels)
        tenants = {}
        given = top.get("tenants", _empty(top.line))
        given = self.mapping(given, top.lines.get("tenants", 1), "tenants", set(given or {}))
        for tenant, section in given.items():
            line = given.lines[tenant]
            what = f"tenants.{tenant}"
            section = self.mapping(section, line, what, {"channels", "rules", "disable"})
            mine = self.channels(section, line, f"{what}.")
            names = {r.name for r in rules}
            disable = section.get("disable", [])
            if not isinstance(disable, list) or not all(isinstance(d, str) for d in disable):
                self.fail(section.lines.get("disable", line), f"{what}.disable: a list of rules")
            if missing := [d for d in disable if d not in names]:
                self.fail(section.lines["disable"], f"{what}.disable: no default rule {missing[0]}")
            tenants[str(tenant)] = TenantRules(
                mine,
                self.rules(section, defaults, {**channels, **mine}, f"{what}."),
                tuple(disable),
            )
        return RuleSet(self.path, channels, rules, tenants, self.delivery(top))

    def delivery(self, top: _Located) -> Delivery:
        line = top.lines.get("delivery", 1)
        given = self.mapping(top.get("delivery", _empty(line)), line, "delivery", _DELIVERY_FIELDS)
        values = {}
        for key, (check, what) in _DELIVERY_CHECKS.items():
            if key in given:
                if not check(given[key]):
                    self.fail(given.lines[key], f"delivery.{key}: {what}, got {given[key]!r}")
                values[key] = given[key]
        return Delivery(**values)

    def channels(self, parent: _Located, line: int, prefix: str = "") -> dict[str, Channel]:
        given = parent.get("channels", _empty(line))
        given = self.mapping(
            given, parent.lines.get("channels", line), f"{prefix}channels", set(given or {})
        )
        out = {}
        for name, spec in given.items():
            at, what = given.lines[name], f"{prefix}channels.{name}"
            if not isinstance(name, str) or not _NAME.match(name):
                self.fail(at, f"{what}: a channel name is lower case letters, digits, - and _")
            spec = self.mapping(spec, at, what, {"type", "to", "url_env", "format"})
            kind = spec.get("type")
            if kind == "email":
                to = spec.get("to")
                if isinstance(to, str):
                    to = [to]
                if (
                    not isinstance(to, list)
                    or not to
                    or not all(isinstance(a, str) and _EMAIL.match(a) for a in to)
                ):
                    self.fail(spec.lines.get("to", at), f"{what}.to: one or more e-mail addresses")
                if extra := sorted(set(spec) & {"url_env", "format"}):
                    self.fail(
                        spec.lines[extra[0]], f"{what}.{extra[0]}: not a field of an email channel"
                    )
                out[name] = Channel(name, "email", to=tuple(to))
            elif kind == "webhook":
                env = spec.get("url_env")
                if not isinstance(env, str) or not _ENV.match(env):
                    self.fail(
                        spec.lines.get("url_env", at),
                        f"{what}.url_env: the environment variable holding the URL (A_NAME);"
                        " a URL may hold a secret, so it is never written in the file",
                    )
                fmt = spec.get("format", "json")
                if fmt not in ("json", "slack"):
                    self.fail(spec.lines["format"], f"{what}.format: json or slack, got {fmt!r}")
                if "to" in spec:
                    self.fail(spec.lines["to"], f"{what}.to: not a field of a webhook channel")
                out[name] = Channel(name, "webhook", url_env=env, format=fmt)
            else:
                self.fail(
                    spec.lines.get("type", at), f"{what}.type: email or webhook, got {kind!r}"
                )
        return out

    def rules(
        self, parent: _Located, defaults: _Located, channels: dict, prefix: str = ""
    ) -> tuple[Rule, ...]:
        given = parent.get("rules", [])
        line = parent.lines.get("rules", parent.line)
        if not isinstance(given, list):
            self.fail(line, f"{prefix}rules: a list of rules")
        out: list[Rule] = []
        for spec in given:
            rule = self.rule(spec, line, defaults, channels, prefix)
            if any(r.name == rule.name for r in out):
                self.fail(rule.line, f"{prefix}rules: a second rule named {rule.name}")
            out.append(rule)
        return tuple(out)

    def rule(self, spec: Any, line: int, defaults: _Located, channels: dict, prefix: str) -> Rule:
        if not isinstance(spec, _Located):
            self.fail(line, f"{prefix}rules: each rule is a mapping with name and kind")
        name = spec.get("name")
        if not isinstance(name, str) or not _NAME.match(name):
            self.fail(spec.line, "name: lower case letters, digits, - and _ (at most 63)")
        if name == DELIVERY_FAILING.name:
            self.fail(spec.line, f"name: {name} is built in (every tenant has it)")
        kind = spec.get("kind")
        if kind not in KINDS:
            self.fail(
                spec.lines.get("kind", spec.line),
                f"kind: one of {', '.join(KINDS)}, got {kind!r}",
                name,
            )
        self.mapping(spec, spec.line, f"a {kind} rule", _COMMON | _BY_KIND[kind], name)

        def at(key: str) -> int:
            return spec.lines.get(key, defaults.lines.get(key, spec.line))

        def field(key: str, check, what: str, default=None):
            value = spec.get(key, defaults.get(key, default) if key in _DEFAULTS else default)
            if value is not None and not check(value):
                self.fail(at(key), f"{key}: {what}, got {value!r}", name)
            return value

        def choice(key: str, choices, default=None):
            return field(
                key, lambda v: isinstance(v, str) and v in choices, _one_of(choices), default
            )

        number = lambda v: isinstance(v, int | float) and not isinstance(v, bool)  # noqa: E731
        whole = lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 1  # noqa: E731
        values: dict[str, Any] = {"name": name, "kind": kind, "line": spec.line}
        values["cadence"] = choice("cadence", CADENCES, "daily")
        values["pending"] = field("for", whole, "a whole number of evaluations ≥ 1", 1)
        notify = field(
            "notify", lambda v: isinstance(v, list | str), "a channel or a list of channels", []
        )
        notify = [notify] if isinstance(notify, str) else notify
        if unknown := [c for c in notify if c not in channels]:
            known = ", ".join(sorted(channels)) or "none"
            self.fail(at("notify"), f"notify: no channel {unknown[0]!r} (channels: {known})", name)
        values["notify"] = tuple(notify)
        values["renotify_hours"] = field(
            "renotify_hours", lambda v: number(v) and v > 0, "hours > 0"
        )
        values["description"] = field("description", lambda v: isinstance(v, str), "text", "")
        if kind in ("threshold", "change", "anomaly"):
            metric = choice("metric", METRICS)
            if metric is None:
                self.fail(spec.line, "metric: required", name)
            scope = choice("scope", SCOPES, "tenant")
            if scope not in METRICS[metric].scopes:
                allowed = ", ".join(METRICS[metric].scopes)
                self.fail(
                    at("scope"), f"scope: {metric} is measured per {allowed}, not {scope}", name
                )
            if kind not in METRICS[metric].kinds:
                judged_by = " or ".join(METRICS[metric].kinds)
                self.fail(at("kind"), f"kind: {metric} is judged by {judged_by} rules", name)
            values |= {"metric": metric, "scope": scope}
        if kind in ("threshold", "change", "anomaly"):
            values["window"] = field("window", whole, "a whole number of days ≥ 1", 1)
        if kind in ("threshold", "change"):
            values["above"] = field("above", number, "a number")
            values["below"] = field("below", number, "a number")
            if values["above"] is None and values["below"] is None:
                self.fail(spec.line, "above or below: at least one", name)
        if kind == "change":
            values["against"] = choice("against", AGAINST, "previous_period")
        if kind in ("threshold", "change", "anomaly"):
            values["min_volume"] = field(
                "min_volume", lambda v: number(v) and v >= 0, "a number ≥ 0", 0
            )
        if kind == "anomaly":
            values["sensitivity"] = field(
                "sensitivity",
                lambda v: number(v) and 0.5 < v <= 0.999,
                "a number in (0.5, 0.999]",
                0.95,
            )
            values["direction"] = choice("direction", DIRECTIONS, "both")
            values["robust"] = field(
                "robust", lambda v: isinstance(v, bool), "true or false", False
            )
        if kind == "freshness":
            values["of"] = choice("of", FRESHNESS_OF)
            values["older_than_hours"] = field(
                "older_than_hours", lambda v: number(v) and v > 0, "hours > 0"
            )
            for key in ("of", "older_than_hours"):
                if values[key] is None:
                    self.fail(spec.line, f"{key}: required", name)
        if kind == "operational":
            values["condition"] = choice("condition", CONDITIONS)
            if values["condition"] is None:
                self.fail(spec.line, "condition: required", name)
            values["above"] = field("above", lambda v: number(v) and v >= 0, "a number ≥ 0")
            if values["condition"] == "dead_letters" and values["above"] is None:
                self.fail(spec.line, "above: required for dead_letters (how many in a day)", name)
        values["description"] = values["description"] or _described(values)
        return Rule(**{k: v for k, v in values.items() if k in _RULE_FIELDS})


_RULE_FIELDS = {f.name for f in dataclasses.fields(Rule)}


def _seconds(most: float):
    return lambda v: isinstance(v, int | float) and not isinstance(v, bool) and 0 < v <= most


_DELIVERY_CHECKS = {
    "timeout_seconds": (_seconds(120), "seconds in (0, 120]"),
    "max_seconds": (_seconds(3600), "seconds in (0, 3600]"),
    "failing_after": (
        lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 1,
        "a whole number of attempts ≥ 1",
    ),
}
_DELIVERY_FIELDS = set(_DELIVERY_CHECKS)


def _bounds(values: dict, unit: str) -> str:
    parts = [f"above {values['above']:g}" if values["above"] is not None else ""]
    parts.append(f"below {values['below']:g}" if values["below"] is not None else "")
    return f"{values['metric']} {' or '.join(p for p in parts if p)} {unit}"


def _described(values: dict) -> str:
    """A rule's one line for people when the file gives none."""
    if values["kind"] in ("threshold", "change"):
        unit = "percent" if values["kind"] == "change" else METRICS[values["metric"]].unit
        return _bounds(values, unit)
    if values["kind"] == "anomaly":
        side = {"both": "outside", "above": "above", "below": "below"}[values["direction"]]
        days = f" over {values['window']} days" if values["window"] > 1 else ""
        return (
            f"{values['metric']}{days} {side} the {100 * values['sensitivity']:g} % prediction"
            " interval of its own seasonal model"
        )
    if values["kind"] == "freshness":
        return f"the newest {values['of']} older than {values['older_than_hours']:g} hours"
    return {
        "run_failed": "a pipeline run failed",
        "dead_letters": f"more than {values.get('above') or 0:g} rejected behaviour events a day",
        "reconciliation": "the ingest reconciliation flagged the day",
    }.get(values.get("condition"), "")


def _one_of(choices) -> str:
    return f"one of {', '.join(choices)}"


def _empty(line: int) -> _Located:
    empty = _Located()
    empty.line, empty.lines = line, {}
    return empty
