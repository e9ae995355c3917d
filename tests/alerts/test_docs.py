"""The alert metrics' definitions in docs/metrics.md are those in code, and the example rules
file of docs/alerts.md is one the reader accepts."""

import re
from pathlib import Path

from boxoffice.alerts.metrics import METRICS
from boxoffice.alerts.rules import read_rules

DOCS = Path(__file__).parents[2] / "docs"


def test_every_alert_metric_is_documented_with_its_definition():
    text = (DOCS / "metrics.md").read_text().split("## Alert metrics", 1)[1]
    documented = {
        m[1]: (m[2], m[3], m[4])
        for m in re.finditer(r"^\| `(\w+)` \| (\w+) \| ([\w, ]+) \| (.+) \|$", text, re.M)
    }
    assert documented == {
        m.name: (m.unit, ", ".join(m.scopes), m.definition) for m in METRICS.values()
    }
    listed = re.findall(r"`(\w+)`", (DOCS / "alerts.md").read_text().split("The metrics (")[1])
    assert set(METRICS) <= set(listed)


def test_the_example_file_in_the_docs_is_a_file_the_reader_accepts(tmp_path):
    text = (DOCS / "alerts.md").read_text().split("## The file", 1)[1]
    example = text.split("```yaml\n", 1)[1].split("```", 1)[0]
    (tmp_path / "alerts.yaml").write_text(example)
    rules = read_rules(tmp_path / "alerts.yaml")
    names = [r.name for r in rules.rules]
    assert names[:3] == ["tickets-drop", "slow-seller", "conversion-low"]
    own, channels = rules.for_tenant("00000000-0000-4000-8000-000000000000", "Harbor Arts")
    assert "harbor" in channels
    assert [r.below for r in own if r.name == "tickets-drop"] == [-30]
