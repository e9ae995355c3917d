"""Charts that summarise many rows carry the summary, not the rows."""

import numpy as np
import plotly.io as pio
import polars as pl

from boxoffice.reports import charts


def test_clv_histogram_is_binned_before_it_is_drawn():
    # 0, 1, 1, 3 and 10 currency units (and a customer without a value) in 5 bins of width 2
    values = pl.DataFrame({"clv_12m": [0, 100, 100, 300, 1000, None]})
    [bars] = charts.clv_distribution(values, bins=5).data
    assert bars.type == "bar"
    assert list(bars.x) == [1, 3, 5, 7, 9] and list(bars.width) == [2] * 5
    assert list(bars.y) == [3, 1, 0, 0, 1]  # 10, the maximum, counts in the last bin
    assert [list(pair) for pair in bars.customdata] == [[0, 2], [2, 4], [4, 6], [6, 8], [8, 10]]


def test_clv_histogram_size_does_not_grow_with_the_customers():
    rng = np.random.default_rng(1)
    many = pl.DataFrame({"clv_12m": rng.gamma(1.5, 4000, 50_000).round()})
    figure = charts.clv_distribution(many)
    assert sum(figure.data[0].y) == 50_000
    assert len(pio.to_json(figure)) < 20_000  # 60 bars; the raw values were ~1 MB


def test_histogram_of_one_value_and_of_none():
    edges, counts = charts.histogram(pl.Series([5.0, 5.0]), bins=2)
    assert list(edges) == [4.5, 5.0, 5.5] and list(counts) == [0, 2]
    edges, counts = charts.histogram(pl.Series([], dtype=pl.Float64), bins=3)
    assert list(counts) == [0]
