"""One local Spark session (``local[2]``) for the whole test session; Java 17 comes from ``make java``."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.paths import ROOT


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """A small local SparkSession whose Python workers import this checkout's ``lib``."""
    if shutil.which("java") is None:
        pytest.fail("Java is missing: run `make java` (Debian's openjdk-17-jre-headless).")
    from pyspark.sql import SparkSession

    os.environ["PYTHONPATH"] = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(
        os.pathsep
    )
    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
    session = (
        SparkSession.builder.master("local[2]")
        .appName("driftwatch-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.driver.memory", "768m")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    try:
        yield session
    finally:
        session.stop()
