"""Pure Altair chart builders (no Streamlit, no ``configure_*``), one module per topic."""

from lib.charts.drift import (
    DRIFT_COLORS,
    DRIFT_SIDES,
    drift_heatmap,
    drift_importance,
    drift_overlay,
    prediction_performance,
)
from lib.charts.runs import (
    DETAIL_HEIGHT,
    FADED,
    MAX_CHART_POINTS,
    OVERVIEW_HEIGHT,
    accuracy_over_time,
    final_values,
    runs_overlay,
)
from lib.charts.timing import (
    PERCENTILE_DASH,
    WINDOW_COLORS,
    baseline_vs_current,
    cost_bars,
    latency_percentiles,
    phase_bars,
    series_drift,
)

__all__ = [
    "DETAIL_HEIGHT",
    "DRIFT_COLORS",
    "DRIFT_SIDES",
    "FADED",
    "MAX_CHART_POINTS",
    "OVERVIEW_HEIGHT",
    "PERCENTILE_DASH",
    "WINDOW_COLORS",
    "accuracy_over_time",
    "baseline_vs_current",
    "cost_bars",
    "drift_heatmap",
    "drift_importance",
    "drift_overlay",
    "final_values",
    "latency_percentiles",
    "phase_bars",
    "prediction_performance",
    "runs_overlay",
    "series_drift",
]
