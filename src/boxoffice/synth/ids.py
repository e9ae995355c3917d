"""Deterministic UUIDs, generated in bulk from a numpy Generator.

``uuid4`` gives random identifiers for reference data; ``uuid7`` gives time-ordered ones
(RFC 9562: 48-bit Unix milliseconds, then random bits) for orders, tickets and touches, the way
modern platforms mint them — which also keeps B-tree inserts local during bulk loads.
"""

from __future__ import annotations

import binascii

import numpy as np
import polars as pl


def _as_series(raw: np.ndarray) -> pl.Series:
    hexed = np.frombuffer(binascii.hexlify(raw.tobytes()), dtype="S32")
    return pl.Series(hexed).cast(pl.String)


def _stamp(raw: np.ndarray, version: int) -> np.ndarray:
    raw[:, 6] = (raw[:, 6] & 0x0F) | (version << 4)
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    return raw


def _random_bytes(rng: np.random.Generator, n: int) -> np.ndarray:
    return np.frombuffer(rng.bytes(16 * n), dtype=np.uint8).reshape(n, 16).copy()


def uuid4(rng: np.random.Generator, n: int) -> pl.Series:
    """``n`` random (version 4) UUIDs as 32-digit hex strings."""
    return _as_series(_stamp(_random_bytes(rng, n), 4))


def uuid7(rng: np.random.Generator, unix_ms: np.ndarray) -> pl.Series:
    """Time-ordered (version 7) UUIDs, one per Unix-millisecond timestamp."""
    raw = _random_bytes(rng, len(unix_ms))
    raw[:, :6] = np.asarray(unix_ms, dtype=">u8").view(np.uint8).reshape(-1, 8)[:, 2:]
    return _as_series(_stamp(raw, 7))
