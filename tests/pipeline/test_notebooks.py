"""Pipeline notebooks stay thin sources: a parameters cell, no injected cells, no outputs."""

import ast
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


def imported(source: str) -> set[str]:
    """What a notebook's code imports: ``a.b`` for ``import a.b``, ``a.b.c`` for ``from a.b
    import c``."""
    tree = ast.parse(source)
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            found |= {f"{node.module}.{a.name}" for a in node.names}
    return found


def test_notebooks_import_only_the_entry_points():
    # logic lives in the package: a pipeline notebook calls its task and draws with the
    # report charts; a dashboard notebook builds its page object
    allowed = {
        "notebooks": ("boxoffice.tasks", "boxoffice.reports", "IPython.", "polars", "pathlib."),
        "dashboards": ("boxoffice.dashboards", "voila.utils"),
    }
    for folder, prefixes in allowed.items():
        for path in sorted((ROOT / folder).glob("*.*")):
            if path.suffix == ".ipynb":
                code = jupytext.read(path)
                source = "\n".join(c.source for c in code.cells if c.cell_type == "code")
            else:
                source = path.read_text()
            for module in imported(source):
                assert module.startswith(prefixes), (path.name, module)
            assert imported(source), path.name
