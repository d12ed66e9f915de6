"""The one story every demo tells: the churn classifier, trained in March 2024, served in April and May.

Training runs (Training runs, Timing & cost) -> the last run's model serves ``churn-endpoint`` from
1 April 2024 -> its April traffic is the drift reference, 1-14 May 2024 the current data (Input and
Prediction drift), its latency 6-8 May (Timing & cost) and a Model Monitor capture of 6 May checked
against a baseline of the April traffic (Model Monitor).
"""

from __future__ import annotations

from typing import Final

#: The endpoint that serves the demo's churn model (latency, drift and Model Monitor demos).
DEMO_ENDPOINT: Final = "churn-endpoint"
#: Its one production variant.
DEMO_VARIANT: Final = "AllTraffic"

#: One sentence naming the story, for the pages' demo notes.
DEMO_STORY: Final = (
    f"All demos follow one synthetic churn model: its twelve training runs (4-13 March 2024), then "
    f"`{DEMO_ENDPOINT}` serving the last run's model, with April 2024 traffic as the drift reference "
    "and 1-14 May 2024 as current data (endpoint latency 6-8 May, a Model Monitor capture on 6 May)."
)
