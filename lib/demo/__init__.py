"""Demo data: the training-runs fortnight, the drift tables, endpoint latency and Model Monitor artifacts."""

from lib.demo.training import DEMO_DESCRIPTION, DEMO_METRICS, DEMO_SEED, DEMO_START, demo_jobs, demo_metrics

__all__ = ["DEMO_DESCRIPTION", "DEMO_METRICS", "DEMO_SEED", "DEMO_START", "demo_jobs", "demo_metrics"]
