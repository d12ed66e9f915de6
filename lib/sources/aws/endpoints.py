"""SageMaker endpoints and where their data capture goes (ListEndpoints + DescribeEndpoint[Config])."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import boto3
import pandas as pd

from lib.errors import DataSourceError
from lib.sources.aws import session as aws
from lib.sources.aws.common import utc_or_none

if TYPE_CHECKING:
    from mypy_boto3_sagemaker import SageMakerClient

#: Columns of :func:`list_endpoints`, in order.
ENDPOINT_COLUMNS: Final = (
    "endpoint",
    "status",
    "variants",
    "capture_enabled",
    "capture_destination",
    "capture_options",
    "sampling_percentage",
    "created",
    "last_modified",
)


@dataclass(frozen=True)
class CaptureConfig:
    """An endpoint's data capture settings, merged from DescribeEndpoint and DescribeEndpointConfig."""

    endpoint: str
    status: str
    variants: tuple[str, ...]
    enabled: bool
    destination: str | None
    options: tuple[str, ...]  # "Input" / "Output"
    sampling_percentage: float | None
    created: Any = None
    last_modified: Any = None


def describe_capture(sm: SageMakerClient, endpoint: str, *, region: str | None = None) -> CaptureConfig:
    """Data capture settings of one endpoint.

    DescribeEndpoint's ``DataCaptureConfig`` (a summary: destination, enabled, sampling) is used
    first; DescribeEndpointConfig's ``DataCaptureConfig`` fills what it lacks (always the capture
    options, and everything when the endpoint has no summary). When DescribeEndpointConfig is
    denied, the endpoint's own summary is kept and the options are left empty.

    Raises
    ------
    DataSourceError
        If DescribeEndpoint fails (names ``sagemaker:DescribeEndpoint`` when denied).
    """
    with aws.aws_errors("sagemaker", region=region, what=f"describing endpoint {endpoint}"):
        desc = sm.describe_endpoint(EndpointName=endpoint)
    summary: dict[str, Any] = dict(desc.get("DataCaptureConfig") or {})
    config: dict[str, Any] = {}
    config_name = desc.get("EndpointConfigName")
    if config_name and (not summary or summary.get("EnableCapture", True)):
        try:
            with aws.aws_errors("sagemaker", region=region, what=f"describing endpoint config {config_name}"):
                config = dict(sm.describe_endpoint_config(EndpointConfigName=config_name))
        except DataSourceError:
            if not summary:
                raise
    config_capture: dict[str, Any] = dict(config.get("DataCaptureConfig") or {})
    merged = {**config_capture, **summary}
    options = tuple(
        str(o.get("CaptureMode")) for o in config_capture.get("CaptureOptions") or () if o.get("CaptureMode")
    )
    sampling = merged.get("CurrentSamplingPercentage", merged.get("InitialSamplingPercentage"))
    destination = merged.get("DestinationS3Uri")
    return CaptureConfig(
        endpoint=endpoint,
        status=str(desc.get("EndpointStatus", "")),
        variants=tuple(str(v["VariantName"]) for v in desc.get("ProductionVariants") or ()),
        enabled=bool(merged.get("EnableCapture", bool(merged))) and destination is not None,
        destination=str(destination).rstrip("/") if destination else None,
        options=options,
        sampling_percentage=None if sampling is None else float(sampling),
        created=desc.get("CreationTime"),
        last_modified=desc.get("LastModifiedTime"),
    )


def list_endpoints(
    session: boto3.Session, *, name_contains: str | None = None, endpoint_url: str | None = None
) -> pd.DataFrame:
    """SageMaker endpoints with their data capture settings.

    Parameters
    ----------
    session
        From :func:`lib.make_session`.
    name_contains
        Only endpoints whose name contains this text (ListEndpoints ``NameContains``).
    endpoint_url
        One endpoint URL for SageMaker (moto, LocalStack); default: boto3's resolution.

    Returns
    -------
    pandas.DataFrame
        One row per endpoint, newest first, columns :data:`ENDPOINT_COLUMNS`: ``variants`` is a
        comma-separated list, ``capture_destination`` the ``s3://`` prefix (None without
        capture), ``capture_options`` ``"Input"``, ``"Output"`` or ``"Input,Output"``,
        ``created``/``last_modified`` UTC. An endpoint that could not be described keeps its name
        and status; ``frame.attrs["warnings"]`` says why.

    Raises
    ------
    DataSourceError
        If ListEndpoints fails (names ``sagemaker:ListEndpoints`` when denied).
    """
    sm = aws.make_client(session, "sagemaker", endpoint_url)
    region = session.region_name
    summaries: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"SortBy": "CreationTime", "SortOrder": "Descending"}
    if name_contains:
        kwargs["NameContains"] = name_contains
    with aws.aws_errors("sagemaker", region=region, what="listing endpoints"):
        for page in sm.get_paginator("list_endpoints").paginate(**kwargs):
            summaries.extend(dict(s) for s in page.get("Endpoints", []))
    rows: list[dict[str, Any]] = []
    warnings: list[str] = []
    for s in summaries:
        name = str(s["EndpointName"])
        try:
            cap = describe_capture(sm, name, region=region)
        except aws.ACTION_ENDED:
            raise
        except DataSourceError as err:
            warnings.append(f"{name}: {err}")
            cap = CaptureConfig(name, str(s.get("EndpointStatus", "")), (), False, None, (), None)
        rows.append(
            {
                "endpoint": name,
                "status": cap.status or str(s.get("EndpointStatus", "")),
                "variants": ",".join(cap.variants),
                "capture_enabled": cap.enabled,
                "capture_destination": cap.destination,
                "capture_options": ",".join(cap.options),
                "sampling_percentage": cap.sampling_percentage,
                "created": utc_or_none(cap.created or s.get("CreationTime")),
                "last_modified": utc_or_none(cap.last_modified or s.get("LastModifiedTime")),
            }
        )
    frame = pd.DataFrame(rows, columns=list(ENDPOINT_COLUMNS))
    for col in ("created", "last_modified"):
        frame[col] = pd.to_datetime(frame[col], utc=True)
    frame["capture_enabled"] = frame["capture_enabled"].astype("bool")
    frame["sampling_percentage"] = frame["sampling_percentage"].astype("float64")
    frame.attrs["warnings"] = warnings
    return frame
