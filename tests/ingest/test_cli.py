"""``boxoffice ingest`` and ``boxoffice retention`` from the command line, including a process
killed mid-batch."""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from boxoffice import warehouse
from boxoffice.cli import main
from boxoffice.ingest import landing
from tests.ingest.conftest import TENANT_A, event, ndjson, rows


def _cli(*args, **kwargs):
    return CliRunner().invoke(main, list(args), catch_exceptions=False, **kwargs)


def test_ingest_files_and_stdin_print_exact_counts_as_json(db, tmp_path):
    good = tmp_path / "a.ndjson"
    good.write_bytes(ndjson(event(id="1"), event(id="2"), event(id="1"), b"{oops"))
    result = _cli("ingest", str(good), "-", "--json", input=ndjson(event(id="2"), event(id="3")))
    assert result.exit_code == 0, result.output
    first, second = json.loads(result.output)
    assert {
        k: first[k] for k in ("input_name", "received", "stored", "duplicates", "rejected")
    } == {
        "input_name": str(good),
        "received": 4,
        "stored": 2,
        "duplicates": 1,
        "rejected": 1,
    }
    assert first["rejections"] == {"(line): json": 1}
    assert (second["input_name"], second["stored"], second["duplicates"]) == ("<stdin>", 1, 1)


def test_human_output_names_the_rejection_reasons(db, tmp_path):
    path = tmp_path / "b.ndjson"
    path.write_bytes(ndjson(event(), event("add_to_cart", quantity=0)))
    result = _cli("ingest", str(path))
    assert result.exit_code == 0
    assert "2 received = 1 stored + 0 duplicates + 1 rejected" in result.output
    assert "rejected 1 × data.quantity: minimum" in result.output


def test_a_missing_file_is_one_clear_error(db, tmp_path):
    result = CliRunner().invoke(main, ["ingest", str(tmp_path / "nope.ndjson")])
    assert result.exit_code == 1
    assert "nope.ndjson" in result.output and "Traceback" not in result.output
    assert rows("select count(*) from raw.ingest_batches") == [(0,)]


def test_files_and_landing_together_is_a_usage_error(db, tmp_path):
    assert CliRunner().invoke(main, ["ingest", "x", "--landing"]).exit_code == 2
    assert CliRunner().invoke(main, ["ingest"]).exit_code == 2


def test_landing_picks_up_only_new_content(db, tmp_path, monkeypatch):
    monkeypatch.setenv("BOXOFFICE_LANDING_DIR", str(tmp_path))
    (tmp_path / "day1.ndjson").write_bytes(ndjson(event(id="1")))
    (tmp_path / "day2.ndjson.part").write_bytes(ndjson(event(id="2")))  # still being written
    (tmp_path / ".hidden.ndjson").write_bytes(ndjson(event(id="3")))
    assert [p.name for p in landing.pending(tmp_path)] == ["day1.ndjson"]
    first = json.loads(_cli("ingest", "--landing", "--json").output)
    assert [r["stored"] for r in first] == [1]
    (tmp_path / "copy-of-day1.ndjson").write_bytes((tmp_path / "day1.ndjson").read_bytes())
    (tmp_path / "day2.ndjson.part").rename(tmp_path / "day2.ndjson")
    second = json.loads(_cli("ingest", "--landing", "--json").output)
    assert [(r["input_name"], r["stored"]) for r in second] == [(str(tmp_path / "day2.ndjson"), 1)]
    assert _cli("ingest", "--landing").output.strip() == "no new files in the landing folder"


def test_retention_command(db):
    _cli("ingest", "-", input=ndjson(event(time="2020-01-05T00:00:00Z")))
    dry = _cli("retention", "--older-than", "30", "--dry-run")
    assert dry.output.splitlines()[0] == "would drop raw.events_2020_01 (1 events)"
    done = json.loads(_cli("retention", "--older-than", "30", "--json").output)["raw"]
    assert done["dropped"] == [{"partition": "events_2020_01", "rows": 1}]
    assert done["events_before"].startswith("2020-02-01T00:00:00")
    assert CliRunner().invoke(main, ["retention", "--older-than", "0"]).exit_code == 2


def _state() -> list:
    return [
        rows("select source, event_id, type, occurred_at, payload from raw.events order by 1, 2"),
        rows("select line_number, field, rule, reason, payload from raw.dead_letter order by 1"),
        rows("select tenant_id, day, type, events from raw.event_day_counts order by 1, 2, 3"),
        rows("select received, stored, duplicates, rejected, input_sha256 from raw.ingest_batches"),
    ]


def test_killed_mid_batch_leaves_nothing_and_a_rerun_equals_an_uninterrupted_run(
    db, tmp_path, make_database, monkeypatch
):
    lines = []
    for i in range(120_000):
        lines.append(event(id=str(i % 100_000), time=f"2026-10-{1 + i % 28:02d}T12:00:00Z"))
        if i % 1000 == 0:
            lines.append(b'{"broken": ')
    path = tmp_path / "big.ndjson"
    path.write_bytes(ndjson(*lines))
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "boxoffice.cli", "-v", "ingest", str(path)]
    process = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)
    for line in process.stderr:  # wait until chunks are in the database, uncommitted
        if "40000 lines read" in line:
            break
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL
    for table in ("raw.events", "raw.event_ids", "raw.dead_letter", "raw.ingest_batches"):
        assert rows(f"select count(*) from {table}") == [(0,)], table

    rerun = _cli("ingest", str(path), "--json")
    [counts] = json.loads(rerun.output)
    assert (counts["received"], counts["stored"], counts["duplicates"], counts["rejected"]) == (
        120_120,
        100_000,
        20_000,
        120,
    )
    interrupted = _state()
    monkeypatch.setenv("BOXOFFICE_DATABASE_URL", make_database())
    _cli("db", "upgrade")
    with warehouse.connect("owner") as conn:
        conn.execute(
            sa.text("insert into source.tenants values (:t, 'Alpha', now())"), {"t": TENANT_A}
        )
    _cli("ingest", str(path))
    assert _state() == interrupted


def test_help_states_the_blank_line_rule():
    text = " ".join(CliRunner().invoke(main, ["ingest", "--help"]).output.split())
    assert "Every non-blank line is received" in text
    assert "Blank lines (only ASCII whitespace) are skipped and not counted" in text


def _corrupt_gzip(kind: str) -> bytes:
    # mtime=0: the same bytes whenever it is called (gzip's header holds the time)
    whole = gzip.compress(ndjson(*(event(id=f"c{i}") for i in range(200))), mtime=0)
    if kind == "truncated":
        return whole[: len(whole) // 2]
    return whole[:10] + bytes(b ^ 0x5A for b in whole[10:40]) + whole[40:]  # a damaged block


@pytest.mark.parametrize("kind", ["truncated", "damaged"])
def test_a_corrupt_gzip_file_is_one_clear_error_and_stores_nothing(db, tmp_path, kind):
    path = tmp_path / "bad.ndjson.gz"
    path.write_bytes(_corrupt_gzip(kind))
    result = CliRunner().invoke(main, ["ingest", str(path)])
    assert result.exit_code == 1
    [line] = result.output.splitlines()
    assert line.startswith(f"error: {path}: corrupt gzip file (")
    assert line.endswith("); nothing stored")
    for table in ("raw.events", "raw.event_ids", "raw.dead_letter", "raw.ingest_batches"):
        assert rows(f"select count(*) from {table}") == [(0,)], table


def test_landing_sets_a_corrupt_file_aside_and_ingests_the_others(db, tmp_path, monkeypatch):
    monkeypatch.setenv("BOXOFFICE_LANDING_DIR", str(tmp_path))
    (tmp_path / "a.ndjson.gz").write_bytes(gzip.compress(ndjson(event(id="a1"), event(id="a2"))))
    (tmp_path / "b.ndjson.gz").write_bytes(_corrupt_gzip("truncated"))
    (tmp_path / "c.ndjson").write_bytes(ndjson(event(id="c1")))
    result = CliRunner().invoke(main, ["ingest", "--landing", "--json"])
    assert result.exit_code == 0, result.output
    [first, second] = json.loads(result.stdout)
    assert [(r["input_name"], r["stored"]) for r in (first, second)] == [
        (str(tmp_path / "a.ndjson.gz"), 2),
        (str(tmp_path / "c.ndjson"), 1),
    ]
    aside = tmp_path / "rejected" / "b.ndjson.gz"
    reason = (tmp_path / "rejected" / "b.ndjson.gz.reason").read_text()
    assert reason.startswith(f"{tmp_path / 'b.ndjson.gz'}: corrupt gzip file (")
    assert f"set aside {aside}: {reason.strip()}" in result.stderr
    assert aside.read_bytes() == _corrupt_gzip("truncated")
    assert not (tmp_path / "b.ndjson.gz").exists()
    assert rows("select event_id from raw.events order by 1") == [("a1",), ("a2",), ("c1",)]
    assert rows("select count(*) from raw.ingest_batches") == [(2,)]
    # the next run does not trip over it again; a repaired file put back is ingested
    assert _cli("ingest", "--landing").output.strip() == "no new files in the landing folder"
    (tmp_path / "b.ndjson.gz").write_bytes(gzip.compress(ndjson(event(id="b1"))))
    assert [r["stored"] for r in json.loads(_cli("ingest", "--landing", "--json").output)] == [1]
