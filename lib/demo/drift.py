"""Deterministic demo data, so the drift pages show something on first open.

The inputs and outputs of the churn model that ``churn-endpoint`` serves (see ``lib.demo.story``):
reference = its first four weeks of traffic, April 2024; current = 1-14 May 2024.

Built in: ``income`` drifts upwards more and more over the current weeks and gains
missing values; ``basket_value`` widens; ``is_mobile`` rises; ``plan`` gets an unseen category
(``"trial"``); ``age``, ``tenure_months``, ``sessions_per_week`` and ``country`` stay stable.
The model's ``churn_score`` shifts with its inputs, and the realised ``churned`` label follows a
changed relationship (concept drift), so accuracy falls over the current weeks.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import pandas as pd

DEMO_ROLES: Final = {"prediction": "churn_score", "label": "churned", "timestamp": "event_time"}
#: The model's inputs, in the order the endpoint takes them (the Model Monitor demo's features too).
DEMO_FEATURES: Final = (
    "age", "income", "tenure_months", "sessions_per_week", "basket_value", "plan", "country", "is_mobile",
)  # fmt: skip
_COUNTRIES: Final = ["US", "DE", "FR", "GB", "IN"]


def demo_reference(n: int = 3000, seed: int = 20240401) -> pd.DataFrame:
    """Reference demo table (April 2024), deterministic for a given ``n`` and ``seed``."""
    return _make(n, seed, current=False)


def demo_current(n: int = 3000, seed: int = 20240501) -> pd.DataFrame:
    """Current demo table (first two weeks of May 2024), with the drift described above."""
    return _make(n, seed, current=True)


def _make(n: int, seed: int, *, current: bool) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2024-05-01" if current else "2024-04-01", tz="UTC")
    span_s = (14 if current else 28) * 86_400
    offsets = np.sort(rng.uniform(0, span_s, n))
    progress = offsets / span_s if current else np.zeros(n)  # 0 → 1 across the current weeks
    age = np.clip(rng.normal(41, 12, n), 18, 90).round().astype(np.int64)
    income = rng.lognormal(10.8 + 0.35 * progress, 0.45, n).round(-2)
    income[rng.random(n) < (0.08 if current else 0.01)] = np.nan
    tenure = rng.integers(0, 121, n)
    sessions = rng.poisson(3.0, n)
    basket = rng.gamma(2.0, 30.0 * (1.3 if current else 1.0), n).round(2)
    plans = ["basic", "pro", "enterprise", "trial"]
    plan_p = [0.46, 0.30, 0.10, 0.14] if current else [0.6, 0.3, 0.1, 0.0]
    plan = rng.choice(plans, size=n, p=plan_p)
    country = rng.choice(_COUNTRIES, size=n, p=[0.4, 0.2, 0.15, 0.15, 0.1])
    is_mobile = rng.random(n) < (0.55 if current else 0.4)
    z_income = (np.log(np.nan_to_num(income, nan=np.exp(10.8))) - 10.8) / 0.45
    logit = -1.0 - 0.02 * (tenure - 60) + 0.5 * z_income + 0.4 * (sessions < 2) + 0.3 * (plan == "basic")
    score = 1 / (1 + np.exp(-logit))
    # Reality drifts away from the model: in May, mobile users churn far more than it expects.
    true_logit = logit + (progress * (3.0 * is_mobile - 1.5) if current else 0.0)
    churned = (rng.random(n) < 1 / (1 + np.exp(-true_logit))).astype(np.int64)
    return pd.DataFrame(
        {
            "customer_id": [f"C{seed % 1000:03d}{i:06d}" for i in range(n)],
            "event_time": start + pd.to_timedelta(np.round(offsets), unit="s"),
            "age": age,
            "income": income,
            "tenure_months": tenure,
            "sessions_per_week": sessions,
            "basket_value": basket,
            "plan": pd.Series(plan, dtype="str"),
            "country": pd.Series(country, dtype="str"),
            "is_mobile": is_mobile,
            "churn_score": score.round(4),
            "churned": churned,
        }
    )
