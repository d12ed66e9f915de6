"""``pyarrow.fs.S3FileSystem`` from the app's boto3 session: the one place datasets meet AWS credentials."""

from __future__ import annotations

import urllib.parse

import boto3
import botocore.exceptions as bexc
from pyarrow import fs as pafs

from lib.errors import DataSourceError
from lib.sources.aws.session import check_endpoint_url, default_endpoint_url, make_session


def s3_filesystem(
    session: boto3.Session | None = None, *, endpoint_url: str | None = None
) -> pafs.S3FileSystem:
    """An Arrow S3 filesystem with the session's credentials, region and endpoint.

    Parameters
    ----------
    session : boto3.Session, optional
        The app's session (profile, region); default: :func:`~lib.sources.aws.session.make_session`
        with the default chain.
    endpoint_url : str, optional
        A custom endpoint (LocalStack, a test server); default ``AWS_ENDPOINT_URL``.

    Raises
    ------
    DataSourceError
        If no credentials can be found.
    """
    session = session or make_session(None, None)
    url = check_endpoint_url(endpoint_url if endpoint_url is not None else default_endpoint_url())
    try:
        credentials = session.get_credentials()
    except bexc.BotoCoreError as err:
        raise DataSourceError(f"Could not read AWS credentials: {err}") from err
    if credentials is None:
        raise DataSourceError(
            "No AWS credentials found for reading S3 datasets.",
            hint="Set a profile in the sidebar or configure the default AWS credential chain.",
        )
    frozen = credentials.get_frozen_credentials()
    options: dict[str, object] = {
        "access_key": frozen.access_key,
        "secret_key": frozen.secret_key,
        "session_token": frozen.token,
        "region": session.region_name or "us-east-1",
    }
    if url:
        parts = urllib.parse.urlsplit(url)
        options["endpoint_override"] = parts.netloc
        options["scheme"] = parts.scheme
        options["allow_bucket_creation"] = False
    return pafs.S3FileSystem(**options)
