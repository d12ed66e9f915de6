"""The Model Monitor demo: real-shaped artifacts shipped in lib/demo/data/model_monitor."""

from __future__ import annotations

from pathlib import Path
from typing import Final

from lib.analysis.monitor_checks import MonitorArtifacts, load_artifacts

#: Demo artifacts shipped with the app (copies of the shared samples; see its README).
DEMO_DIR: Final = Path(__file__).resolve().parent / "data" / "model_monitor"


DEMO_CAPTURE_FILES: Final = ("data_capture_sample.jsonl", "capture_mixed.jsonl")


def demo_artifacts() -> MonitorArtifacts:
    """The demo artifacts shipped in ``lib/demo/data/model_monitor`` (a capture with a few bad
    records, its baseline statistics and constraints), so the page shows something on first open."""
    files = [DEMO_DIR / name for name in DEMO_CAPTURE_FILES]
    art = load_artifacts(files, DEMO_DIR / "statistics.json", DEMO_DIR / "constraints.json",
                         capture_label=", ".join(DEMO_CAPTURE_FILES))  # fmt: skip
    return MonitorArtifacts(art.capture, art.baseline, art.constraints, art.capture_label, is_demo=True)
