"""``boxoffice pricing list|approve|reject|export`` against the approval tests' recommendations."""

from __future__ import annotations

import datetime as dt
import json

import polars as pl
import pytest
from click.testing import CliRunner

from boxoffice.cli import main
from boxoffice.warehouse import pricing as wp
from tests.pricing.test_approvals import E1, E2, A, recs


@pytest.fixture
def published(migrated_db):
    """Two pending recommendations of today's run (the command decides as of today)."""
    today = dt.date.today()
    wp.publish_recommendations(recs(E1, E2), tenant=A, as_of=today, valid_days=7)
    return {e: wp.recommendation_id(A, e, today) for e in (E1, E2)}


def cli(*args: str):
    return CliRunner().invoke(main, ["pricing", *args], catch_exceptions=False)


def test_list_approve_reject_and_export(published, monkeypatch, tmp_path):
    monkeypatch.setenv("BOXOFFICE_TENANT", A)
    listing = cli("list")
    assert listing.exit_code == 0, listing.output
    assert published[E1] in listing.output and "50.00 →     55.00" in listing.output
    approved = cli("approve", published[E1], "--by", "Ana", "--note", "weekend push")
    assert approved.exit_code == 0, approved.output
    assert approved.output.strip() == f"{published[E1]} approved by Ana: 50.00 → 55.00"
    again = cli("approve", published[E1], "--by", "Bo")
    assert again.exit_code == 1 and "already approved" in again.output
    assert cli("reject", published[E2], "--by", "Bo").exit_code == 0
    rows = [
        json.loads(line) for line in cli("list", "--status", "all", "--json").output.splitlines()
    ]
    assert {(r["event_id"], r["status"]) for r in rows} == {(E1, "approved"), (E2, "rejected")}
    out = tmp_path / "approved.csv"
    assert cli("export", "--out", str(out)).exit_code == 0
    assert pl.read_csv(out).select("event_id", "price_cents").rows() == [(E1, 5500)]


def test_usage_errors(published, monkeypatch):
    monkeypatch.delenv("BOXOFFICE_TENANT", raising=False)
    assert cli("list").exit_code == 2  # which tenant?
    assert cli("list", "--tenant", "nope").exit_code == 2
    assert cli("approve", published[E1], "--tenant", A).exit_code == 2  # --by is required
    unknown = cli("approve", "00000000-0000-4000-8000-000000000000", "--by", "x", "--tenant", A)
    assert unknown.exit_code == 1 and "no such recommendation" in unknown.output
