"""Pipeline notebooks stay thin sources: a parameters cell, no injected cells, no outputs."""

from pathlib import Path

import jupytext
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.py"))


def test_every_pipeline_task_has_its_notebook():
    spec = yaml.safe_load((ROOT / "pipeline.yaml").read_text())
    sources = {ROOT / t["source"] for t in spec["tasks"]}
    assert sources == set(NOTEBOOKS)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_has_a_parameters_cell_and_no_injected_one(path):
    nb = jupytext.read(path)
    tags = [set(c.metadata.get("tags", [])) for c in nb.cells]
    assert sum("parameters" in t for t in tags) == 1
    assert not any("injected-parameters" in t for t in tags), "run `ploomber nb --remove`"


def test_dashboards_are_committed_without_outputs():
    import nbformat

    for path in (ROOT / "dashboards").glob("*.ipynb"):
        nb = nbformat.read(path, 4)
        assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), path.name
