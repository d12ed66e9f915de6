"""Demo data, one churn model throughout (``story``): its training runs, drift tables, endpoint latency
and Model Monitor artifacts."""

from lib.demo.story import DEMO_ENDPOINT, DEMO_STORY
from lib.demo.training import DEMO_DESCRIPTION, DEMO_METRICS, DEMO_SEED, DEMO_START, demo_jobs, demo_metrics

__all__ = [
    "DEMO_DESCRIPTION",
    "DEMO_ENDPOINT",
    "DEMO_METRICS",
    "DEMO_SEED",
    "DEMO_START",
    "DEMO_STORY",
    "demo_jobs",
    "demo_metrics",
]
