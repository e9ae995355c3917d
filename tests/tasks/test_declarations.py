"""The task declarations are the pipeline's one description of its data flow: pipeline.yaml's
edges, inputs and overrides must agree with them, and so must the SQL the tasks run."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
import yaml

from boxoffice import tasks
from boxoffice.warehouse import facts, schema

ROOT = Path(__file__).resolve().parents[2]
SPEC = {t["name"]: t for t in yaml.safe_load((ROOT / "pipeline.yaml").read_text())["tasks"]}
NAMES = sorted(tasks.TASKS)


def test_pipeline_yaml_has_every_task_and_nothing_else():
    assert sorted(SPEC) == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_upstream_is_the_writers_of_what_a_task_reads(name):
    task = tasks.TASKS[name]
    assert set(SPEC[name].get("upstream", [])) == tasks.upstream_of(task)


def test_the_edges_by_hand():
    # rfm reads customer_days (sales-aggregates); customer-value the scores rfm stores;
    # pricing the forecasts and the event facts; report the funnel (ingest), attribution, the
    # customers' scores and values, the price recommendations and the alert states
    assert tasks.upstream_of(tasks.TASKS["customer-value"]) == {"rfm"}
    assert tasks.upstream_of(tasks.TASKS["pricing"]) == {"sales-aggregates", "demand-forecast"}
    assert tasks.upstream_of(tasks.TASKS["report"]) == {
        "ingest",
        "sales-aggregates",
        "attribution",
        "demand-forecast",
        "rfm",
        "customer-value",
        "pricing",
        "alerts",
    }
    assert tasks.inputs_of(tasks.TASKS["report"]) == {"reports"}  # reports.yaml
    assert tasks.upstream_of(tasks.TASKS["attribution"]) == set()  # it reads source only
    assert tasks.upstream_of(tasks.TASKS["alerts"]) == {"ingest", "sales-aggregates"}
    assert tasks.inputs_of(tasks.TASKS["alerts"]) == {"rules", "source"}  # venue names


@pytest.mark.parametrize("name", NAMES)
def test_inputs_are_the_fingerprints_of_what_it_reads_from_outside(name):
    given = SPEC[name]["params"].get("inputs", {})
    assert set(given) == tasks.inputs_of(tasks.TASKS[name])
    expected = {
        "landing": "{{landing_state}}",
        "source": "{{source_changes}}",
        "rules": "{{rules_state}}",
        "reports": "{{reports_state}}",
    }
    assert given == {k: expected[k] for k in given}


@pytest.mark.parametrize("name", NAMES)
def test_every_parameter_has_one_default_and_yaml_overrides_only_known_ones(name):
    task = tasks.TASKS[name]
    fields = dataclasses.fields(task.params)
    assert all(f.default is not dataclasses.MISSING for f in fields)
    overrides = SPEC[name]["params"].get("overrides", {})
    assert set(overrides) <= {f.name for f in fields}
    assert task.configure(overrides) == task.params(**overrides)
    for f in fields:  # pipeline.yaml may override any of them (its value as YAML reads it)
        value = yaml.safe_load(yaml.safe_dump({f.name: f.default}))
        assert task.configure(value) == task.params()
    # the notebook repeats no default: its parameters are the run's, not the task's
    source = (ROOT / SPEC[name]["source"]).read_text()
    cell = source.split('tags=["parameters"]')[1].split("# %%")[0]
    assert set(re.findall(r"^(\w+) = None", cell, re.M)) == {
        "upstream", "product", "as_of", "tenants", "inputs", "overrides"
    }  # fmt: skip


def test_every_per_run_partition_has_one_writing_task():
    assert sorted(t.name for t in tasks.partitioned()) == sorted(t.name for t in schema.PER_RUN)
    assert len(tasks.partitioned()) == len(schema.PER_RUN)


def referenced(sql: str) -> set[str]:
    return set(re.findall(r"\b(?:from|join|into)\s+((?:source|raw|analytics)\.\w+)", sql))


def test_the_sql_tasks_declare_every_table_their_sql_touches():
    for task in tasks.TASKS.values():
        if task.queries is None:
            continue
        for query in task.queries(task.params()):
            assert referenced(query.sql) <= {*task.reads, *task.changes}, task.name
    refresh = set().union(*(referenced(sql) for _, sql in facts.REFRESH))
    aggregates = tasks.TASKS["sales-aggregates"]
    assert refresh <= {*aggregates.reads, *aggregates.changes}
    assert {t for t in refresh if t.startswith("analytics.")} <= set(aggregates.loads)
