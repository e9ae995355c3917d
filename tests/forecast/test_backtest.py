"""Rolling-origin backtests: MASE, WAPE and coverage computed by hand."""

from __future__ import annotations

import numpy as np
import pytest

from boxoffice.forecast.backtest import backtest_series

WEEK = np.array([0.0, 5.0, 10.0, 20.0, 40.0, 60.0, 30.0])


def trend_and_week(days: int) -> np.ndarray:
    t = np.arange(days)
    return 100 + t + WEEK[t % 7]


def test_a_short_history_backtests_its_seasonal_naive_fallback_by_hand():
    """28 days, one origin at day 21 (too short for ETS): the forecast repeats the last week,
    which is 7 below every actual (the trend adds 1 a day); the in-sample seasonal naive error
    is 7 too, so MASE = 7 / 7 = 1; σ = 7, so both intervals (± 1.28·7, ± 1.96·7) hold the
    actuals."""
    y = trend_and_week(28)
    result = backtest_series(y, horizon=7, origins=1)
    test = y[21:]
    assert result["model"] == "seasonal naive" and result["origins"] == 1
    assert result["mase"] == pytest.approx(1.0) and result["naive_mase"] == pytest.approx(1.0)
    assert result["wape"] == pytest.approx(49 / test.sum())
    assert result["coverage_80"] == result["coverage_95"] == 1.0


def test_ets_continues_trend_and_season_where_seasonal_naive_falls_behind():
    """Two weeks ahead the seasonal naive forecast is 7 behind in the first week and 14 in the
    second: MASE (7 + 14) / 2 / 7 = 1.5 exactly. The trend model is nearly exact."""
    y = trend_and_week(140)
    result = backtest_series(y, horizon=14, origins=3, step=7)
    assert result["origins"] == 3
    assert result["naive_mase"] == pytest.approx(1.5)
    assert result["mase"] < 0.1 and result["wape"] < 0.01


def test_origins_without_two_weeks_of_training_are_skipped():
    assert backtest_series(trend_and_week(20), horizon=7, origins=3)["origins"] == 0
    with pytest.raises(ValueError, match="≥ 1"):
        backtest_series(trend_and_week(60), horizon=0)
