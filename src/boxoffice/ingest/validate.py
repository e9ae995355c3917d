"""Fail-closed validation of CloudEvents 1.0 (structured JSON mode) against versioned schemas.

An event is valid when its envelope matches ``schemas/envelope.json`` and its ``data`` matches
``schemas/<schemaversion>/<type>.json`` (``v1`` when the event names no version), merged with
the version's ``_common.json`` properties. Both reject properties they do not list, so an
unknown field — possibly unknown personal data — never reaches storage. On top of the schemas:
``time`` must be RFC 3339 with an offset (section 5.6), a real instant, and at most a day in the
future.

Content PostgreSQL cannot hold is decided here too, per line: a string or member name holding
the NUL character (the escape ``\\u0000``; ``text`` and ``jsonb`` refuse it) is rejected, rule
``no-nul`` (:func:`check_nul`). Everything else that cannot be stored never decodes: invalid
UTF-8, raw control characters, lone surrogates (``\\ud800``), numbers beyond a double
(``1e400``) and nesting deeper than 1024 are rejected by the JSON decoder, rule ``json``.

Every rejection names the field (a dotted path like ``data.quantity``) and the rule it broke, so
a dead letter says exactly why it is there.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import fastjsonschema

DEFAULT_VERSION = "v1"
MAX_FUTURE = dt.timedelta(days=1)
RFC3339 = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:[Zz]|[+-]\d{2}:\d{2})\Z"
)


@dataclass(frozen=True)
class Rejection(Exception):
    """Why an input line is not a valid event: ``field`` broke ``rule``."""

    field: str
    rule: str
    detail: str

    @property
    def reason(self) -> str:
        return f"{self.field}: {self.rule}: {self.detail}"

    def __str__(self) -> str:
        return self.reason

    def __reduce__(self):  # pickled back from parsing processes; the fields are frozen
        return Rejection, (self.field, self.rule, self.detail)


def parse_time(value: str) -> dt.datetime:
    """An RFC 3339 timestamp as an aware UTC datetime (fractions beyond microseconds dropped)."""
    if not RFC3339.match(value):
        raise ValueError("not an RFC 3339 date-time with an offset")
    text = value.upper()
    if "." in text:  # fromisoformat takes at most 6 fractional digits on 3.11
        head, tail = text.split(".", 1)
        digits = re.match(r"\d+", tail).group()
        text = f"{head}.{digits[:6].ljust(6, '0')}{tail[len(digits) :]}"
    return dt.datetime.fromisoformat(text).astimezone(dt.UTC)


# the shape; whether the date exists is checked once, when validate() parses it
FORMATS = {
    "date-time": RFC3339.pattern,
    "uuid": r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\Z",
}


def _load(*parts: str) -> dict:
    return json.loads(resources.files("boxoffice.ingest").joinpath("schemas", *parts).read_text())


@cache
def envelope_validator():
    return fastjsonschema.compile(_load("envelope.json"), formats=FORMATS)


@cache
def data_validator(version: str, event_type: str):
    """The compiled schema of ``data`` for one type and version; ``None`` if there is none."""
    try:
        common, schema = _load(version, "_common.json"), _load(version, f"{event_type}.json")
    except (FileNotFoundError, NotADirectoryError):
        return None
    schema = {
        "$schema": "http://json-schema.org/draft-07/schema#",
        **schema,
        "properties": {**common["properties"], **schema.get("properties", {})},
        "additionalProperties": False,
    }
    return fastjsonschema.compile(schema, formats=FORMATS)


def _rejection(exc: fastjsonschema.JsonSchemaValueException, *root: str) -> Rejection:
    path = [*root, *(str(p) for p in exc.path[1:])]
    value = exc.value
    if exc.rule == "required" and isinstance(value, dict):
        missing = [k for k in exc.rule_definition if k not in value]
        return Rejection(".".join([*path, missing[0]]), "required", "missing")
    if exc.rule == "additionalProperties" and isinstance(value, dict):
        known = exc.definition.get("properties", {})
        extra = sorted(k for k in value if k not in known)
        return Rejection(".".join([*path, extra[0]]), "unknown-field", "not in the schema")
    field = ".".join(path) or "(event)"
    detail = exc.message.split(" ", 1)[1] if " " in exc.message else exc.message
    return Rejection(field, exc.rule, detail)


def check_nul(event: Any) -> None:
    """Reject an event holding the NUL character in any string or member name (PostgreSQL
    stores it neither in ``text`` nor in ``jsonb``). Only lines whose bytes contain the escape
    ``\\u0000`` need the check: JSON can carry the character no other way."""
    stack = [("", event)]
    while stack:  # not recursive: decoded JSON nests up to 1024 deep
        path, value = stack.pop()
        if isinstance(value, str) and "\x00" in value:
            shown = path.replace("\x00", "\\u0000") or "(event)"
            raise Rejection(shown, "no-nul", "holds the NUL character (\\u0000)")
        if isinstance(value, dict | list):
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in reversed(list(items)):  # popped in order: the first is reported
                here = f"{path}.{key}" if path else str(key)
                if isinstance(key, str) and "\x00" in key:
                    stack.append((here, key))  # the name itself is reported
                stack.append((here, item))


def validate(event: Any, *, now: dt.datetime) -> tuple[str, dt.datetime]:
    """Check one decoded event; return its schema version and its time in UTC.

    Raises :class:`Rejection` naming the first field that fails and the rule it breaks.
    """
    if not isinstance(event, dict):
        raise Rejection("(event)", "type", f"must be a JSON object, not {type(event).__name__}")
    try:
        envelope_validator()(event)
    except fastjsonschema.JsonSchemaValueException as exc:
        raise _rejection(exc) from None
    version = event.get("schemaversion", DEFAULT_VERSION)
    validator = data_validator(version, event["type"])
    if validator is None:
        raise Rejection(
            "schemaversion", "known-version", f"no {version} schema for {event['type']}"
        )
    try:
        validator(event["data"])
    except fastjsonschema.JsonSchemaValueException as exc:
        raise _rejection(exc, "data") from None
    try:
        occurred = parse_time(event["time"])
    except (ValueError, OverflowError):  # OverflowError: offset beyond year 1 or 9999
        raise Rejection("time", "format", f"{event['time']} is not a real date-time") from None
    if occurred - now > MAX_FUTURE:
        raise Rejection("time", "not-in-future", f"{event['time']} is more than a day ahead")
    return version, occurred
