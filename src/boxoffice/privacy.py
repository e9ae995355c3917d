"""Pseudonymous customer keys: ``customer_key = HMAC-SHA256(secret, customer_id)`` as hex.

Customers appear outside the ``source`` schema only as this key (``docs/architecture.md``).
It is stable across runs (the secret does not rotate) and cannot be reversed without the
secret.

PostgreSQL has ``sha256`` built in but no HMAC without the pgcrypto extension, which the
embedded server lacks; HMAC is built from the hash exactly as RFC 2104 defines it,

    HMAC(K, m) = H((K' ⊕ opad) ‖ H((K' ⊕ ipad) ‖ m)),

with the two padded keys computed here and passed to SQL as bound parameters ``:ipad`` and
``:opad`` — the secret is never formatted into SQL text:

    encode(sha256(:opad || sha256(:ipad || convert_to(customer_id::text, 'UTF8'))), 'hex')

:func:`customer_key` is the Python reference that SQL must match (tests check they do).
"""

from __future__ import annotations

import hashlib
import hmac

from boxoffice import config

BLOCK = 64  # SHA-256 block size in bytes


def customer_key(customer_id: str, key: bytes | None = None) -> str:
    secret = config.pii_key() if key is None else key
    return hmac.new(secret, str(customer_id).encode(), hashlib.sha256).hexdigest()


def hmac_pads(key: bytes | None = None) -> dict[str, bytes]:
    """The RFC 2104 inner and outer padded keys, as SQL parameters ``ipad`` and ``opad``."""
    secret = config.pii_key() if key is None else key
    if len(secret) > BLOCK:
        secret = hashlib.sha256(secret).digest()
    secret = secret.ljust(BLOCK, b"\0")
    return {
        "ipad": bytes(b ^ 0x36 for b in secret),
        "opad": bytes(b ^ 0x5C for b in secret),
    }
