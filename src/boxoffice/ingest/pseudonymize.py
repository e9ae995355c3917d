"""Privacy before storage: what of an event's ``data`` may be kept, and in which form.

- ``customer_id`` → ``customer_key`` = HMAC-SHA256(secret, id), the key used everywhere
  (:mod:`boxoffice.privacy`), so events join the customer tables without the raw id;
- ``ip`` → its network: IPv4 truncated to /24, IPv6 to /48 (the practice of Google Analytics'
  IP anonymization and of the EDPB's guidance on pseudonymized logs);
- ``user_agent`` → a keyed hash (16 hex digits): equal agents stay comparable, the string is gone;
- ``email``, ``name``, ``phone`` → removed;
- free text (``url``, ``referrer``, ``query``, and anything else that is not an identifier) has
  e-mail addresses, phone numbers and IPv4 addresses masked, found in the text as a browser
  decodes it (percent-escapes, double encoding, ``+`` for a space) and masked in the form it
  was sent (:func:`mask_value`).

:func:`mask_text` applies the masking to a line that could not even be parsed, for the dead letter.
"""

from __future__ import annotations

import hmac
import ipaddress
import re
from typing import Any

REMOVED = ("email", "name", "phone")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
NUMBER = re.compile(
    r"(?<![\w.-])\+?\d(?:[ ().-]{0,2}\d){8,14}(?![\w-])"  # phone number: 9-15 digits
    r"|(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w.])"  # IPv4 address
)
SEVERAL_DIGITS = re.compile(r"\d.*\d.*\d.*\d")  # cheap test: too few digits, no number to mask
PII_MEMBER = re.compile(  # "email": "...", "ip": "...", ... inside unparseable text
    r'("(?:email|name|phone|ip|user_agent|customer_id)"\s*:\s*)"(?:[^"\\]|\\.)*"'
)
IPV4 = re.compile(r"(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})", re.ASCII)
PERCENT_RUN = re.compile(r"(?:%[0-9A-Fa-f]{2})+")
DECODE_ROUNDS = 3
CACHE_LIMIT = 200_000
MAX_DEPTH = 100  # of a dead letter's payload


class InvalidIP(ValueError):
    pass


def truncate_ip(value: str) -> str:
    """The /24 network of an IPv4 address or the /48 of an IPv6 one, as an address string."""
    if (dotted := IPV4.fullmatch(value)) and max(map(int, dotted.groups())) < 256:
        return f"{dotted[1]}.{dotted[2]}.{dotted[3]}.0"
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        raise InvalidIP("not an IPv4 or IPv6 address") from None
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False).network_address)


def _find(text: str) -> list[tuple[int, int]]:
    spans = [m.span() for m in EMAIL.finditer(text)] if "@" in text else []
    if SEVERAL_DIGITS.search(text):
        spans += [m.span() for m in NUMBER.finditer(text)]
    return spans


def _utf8_length(lead: int) -> int:
    return 1 if lead < 0x80 else 2 if lead >> 5 == 6 else 3 if lead >> 4 == 14 else 4


def _percent_decoded(text: str, starts: list[int], ends: list[int]):
    """``text`` with its %XX escapes decoded as UTF-8 (an escape that is not part of a valid
    UTF-8 sequence stays as it is), and where each decoded character was in the input."""
    out, out_starts, out_ends, done = [], [], [], 0
    for run in PERCENT_RUN.finditer(text):
        for i in range(done, run.start()):
            out.append(text[i])
            out_starts.append(starts[i])
            out_ends.append(ends[i])
        data, at = bytes.fromhex(run.group().replace("%", "")), run.start()
        k = 0
        while k < len(data):
            size = _utf8_length(data[k])
            try:
                char = data[k : k + size].decode()
            except UnicodeDecodeError:
                char, size = text[at + 3 * k : at + 3 * k + 3], 1  # kept as three characters
                out.extend(char)
                out_starts.extend(starts[at + 3 * k : at + 3 * k + 3])
                out_ends.extend(ends[at + 3 * k : at + 3 * k + 3])
            else:
                out.append(char)
                out_starts.append(starts[at + 3 * k])
                out_ends.append(ends[at + 3 * (k + size) - 1])
            k += size
        done = run.end()
    for i in range(done, len(text)):
        out.append(text[i])
        out_starts.append(starts[i])
        out_ends.append(ends[i])
    return "".join(out), out_starts, out_ends


def mask_value(text: str) -> str:
    """Mask e-mail addresses, phone numbers and IPv4 addresses in free text.

    They are looked for as a browser would decode the text: %XX escapes (either case, as UTF-8)
    decoded up to ``DECODE_ROUNDS`` times (double encoding), and ``+`` read both as itself and
    as a space (form encoding). What matched is masked in the text as it was given, escapes and
    all, so a URL keeps its form."""
    if "%" not in text and "+" not in text:  # the common case: nothing encoded
        if "@" in text:
            text = EMAIL.sub("[masked]", text)
        if SEVERAL_DIGITS.search(text):
            text = NUMBER.sub("[masked]", text)
        return text
    decoded, starts, ends = text, list(range(len(text))), list(range(1, len(text) + 1))
    for _ in range(DECODE_ROUNDS):
        if not PERCENT_RUN.search(decoded):
            break
        decoded, starts, ends = _percent_decoded(decoded, starts, ends)
    spaced = "".join(  # a "+" of the input read as a space
        " " if c == "+" and ends[i] - starts[i] == 1 else c for i, c in enumerate(decoded)
    )
    found = _find(decoded) + (_find(spaced) if spaced != decoded else [])
    if not found:
        return text
    masked, done = [], 0
    for start, end in sorted((starts[a], ends[b - 1]) for a, b in found):
        if start >= done:
            masked.append(text[done:start] + "[masked]")
        done = max(done, end)  # overlapping matches extend the masked part
    return "".join(masked) + text[done:]


def mask_text(text: str) -> str:
    """Mask PII in text that may not be valid JSON (a dead letter's payload)."""
    return mask_value(PII_MEMBER.sub(r'\1"[masked]"', text))


def _cached(cache: dict[str, str], key: str, compute) -> str:
    """``compute(key)``, remembered in ``cache``; emptied past ``CACHE_LIMIT`` entries, so memory
    stays flat however long the input."""
    if (value := cache.get(key)) is None:
        if len(cache) > CACHE_LIMIT:
            cache.clear()
        value = cache[key] = compute(key)
    return value


class Pseudonymizer:
    """Applies the rules above with one secret; caches keys so repeated ids cost one lookup."""

    def __init__(self, secret: bytes):
        self._secret = secret
        self._keys: dict[str, str] = {}
        self._agents: dict[str, str] = {}
        self._networks: dict[str, str] = {}

    def _hmac(self, value: str) -> str:
        return hmac.digest(self._secret, value.encode(), "sha256").hex()

    def customer_key(self, customer_id: str) -> str:
        return _cached(self._keys, customer_id, self._hmac)

    def agent_hash(self, agent: str) -> str:
        return _cached(self._agents, agent, lambda a: self._hmac("ua:" + a)[:16])

    def network(self, ip: str) -> str:
        """:func:`truncate_ip`, once per address (a session's events share theirs)."""
        return _cached(self._networks, ip, truncate_ip)

    def data(self, data: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
        """Return the storable copy of ``data`` and the customer key (if it named a customer).

        Raises :class:`InvalidIP` when ``ip`` is not an address (the event is then rejected).
        """
        clean: dict[str, Any] = {}
        customer_key = None
        for name, value in data.items():
            if name in REMOVED:
                continue
            if name == "customer_id":
                customer_key = self.customer_key(value)
            elif name == "ip":
                clean["ip_network"] = self.network(value)
            elif name == "user_agent":
                clean["user_agent_hash"] = self.agent_hash(value)
            elif isinstance(value, str) and not name.endswith("_id"):
                clean[name] = mask_value(value)
            else:
                clean[name] = value
        return clean, customer_key

    def best_effort(self, event: Any, depth: int = 0) -> Any:
        """An invalid event made safe for the dead letter: its ``data`` pseudonymized where it
        can be, every other string masked, anything nested deeper than ``MAX_DEPTH`` cut off
        (the JSON encoder refuses deeper)."""
        if isinstance(event, dict | list) and depth == MAX_DEPTH:
            return "[nested too deep]"
        if isinstance(event, dict):
            out = {}
            for name, value in event.items():
                if name in REMOVED or name in ("ip", "user_agent", "customer_id"):
                    out[name] = "[masked]"
                else:
                    out[name] = self.best_effort(value, depth + 1)
            return out
        if isinstance(event, list):
            return [self.best_effort(v, depth + 1) for v in event]
        if isinstance(event, str):
            return mask_text(event)
        return event
