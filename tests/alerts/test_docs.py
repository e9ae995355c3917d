"""The alert metrics' definitions in docs/metrics.md are those in code."""

import re
from pathlib import Path

from boxoffice.alerts.metrics import METRICS

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
