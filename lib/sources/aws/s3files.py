"""S3 objects in and out: ``s3://`` URIs, one object's bytes, and S3 errors named by their IAM action.

S3 answers with operation names (``ListObjectsV2``, ``HeadObject``) that are not IAM actions
(``s3:ListBucket``, ``s3:GetObject``), with bare HTTP codes for HEAD requests (``403``, ``404``) and
with redirects for a bucket in another region; :func:`s3_error` turns each into a message that names
the bucket/key and what is missing.
"""

from __future__ import annotations

import io
import urllib.parse
from typing import TYPE_CHECKING, Final

import boto3
import botocore.exceptions as bexc

from lib.errors import DataSourceError, InputError
from lib.sources.aws import session as aws

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

#: IAM action behind each S3 operation we call (S3's operation names are not IAM action names).
S3_ACTIONS: Final = {
    "ListObjectsV2": "s3:ListBucket",
    "ListObjects": "s3:ListBucket",
    "HeadBucket": "s3:ListBucket",
    "GetObject": "s3:GetObject",
    "HeadObject": "s3:GetObject",
    "PutObject": "s3:PutObject",
}
#: Codes S3 uses when the bucket lives in another region than the request was signed for.
WRONG_REGION_CODES: Final = frozenset(
    {"PermanentRedirect", "AuthorizationHeaderMalformed", "IllegalLocationConstraintException", "301"}
)
MISSING_KEY_CODES: Final = frozenset({"NoSuchKey", "404", "NotFound"})


class NamedBytes(io.BytesIO):
    """Bytes with a ``name`` (an S3 key or URI), so the file readers' messages say which object."""

    def __init__(self, data: bytes, name: str) -> None:
        super().__init__(data)
        self.name = name


def parse_s3_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/key/prefix`` → ``("bucket", "key/prefix")`` (the key may be empty).

    Raises
    ------
    InputError
        If ``uri`` is not an ``s3://bucket[/key]`` URI.
    """
    parsed = urllib.parse.urlsplit(uri.strip())
    if parsed.scheme != "s3" or not parsed.netloc:
        raise InputError(f"{uri!r} is not an S3 URI.", hint="Use the form s3://bucket/path/to/object.")
    return parsed.netloc, parsed.path.lstrip("/")


def is_s3_uri(value: str) -> bool:
    """True for ``s3://…`` strings."""
    return value.strip().lower().startswith("s3://")


def s3_error(
    err: bexc.ClientError, *, bucket: str, key: str = "", region: str | None = None, what: str = ""
) -> DataSourceError:
    """The user-facing error for a failed S3 call on ``bucket``/``key``.

    Access denied names the IAM action (``s3:ListBucket`` for listings, ``s3:GetObject`` for
    reads) and the resource; a bucket in another region names that region when S3 says it
    (``x-amz-bucket-region``); a missing bucket or key is named. Anything else goes through
    :func:`lib.sources.aws.session.translate_client_error`.
    """
    code = aws.error_code(err)
    operation = getattr(err, "operation_name", "") or ""
    resource = f"s3://{bucket}/{key}"
    doing = f" while {what}" if what else ""
    if code in aws.ACCESS_DENIED_CODES or code == "403":
        action = S3_ACTIONS.get(operation, f"s3:{operation or 'GetObject'}")
        listing = action == "s3:ListBucket"
        arn = f"arn:aws:s3:::{bucket}" if listing else f"arn:aws:s3:::{bucket}/{key}*"
        kms = "" if listing else " (a KMS-encrypted object also needs kms:Decrypt on its key)"
        return DataSourceError(
            f"Access denied: these credentials lack the IAM permission {action} on {resource}.",
            hint=f"Ask your AWS administrator to allow {action} on {arn}{kms}, or switch to a profile "
            "that has it.",
        )
    if code in WRONG_REGION_CODES:
        headers = err.response.get("ResponseMetadata", {}).get("HTTPHeaders", {})
        actual = headers.get("x-amz-bucket-region") or err.response.get("Error", {}).get("Region")
        where = f"region {actual}" if actual else "another region"
        return DataSourceError(
            f"The bucket {bucket} is in {where}, not in {region or 'the session region'}{doing}.",
            hint=f"Use --region {actual} (or a session in that region)."
            if actual
            else "Use the bucket's region (see its properties in the S3 console).",
        )
    if code == "NoSuchBucket":
        return DataSourceError(
            f"The bucket {bucket} does not exist{doing}.", hint="Check the S3 URI (and the account)."
        )
    if code in MISSING_KEY_CODES:
        return DataSourceError(f"{resource} does not exist{doing}.", hint="Check the S3 URI.")
    if code.isdigit() and code.startswith("5"):
        # A bare status code: no readable S3 error came back (botocore turns a 200 whose body is cut
        # off or not XML into such a 500, S3's own errors have names like InternalError).
        return aws.AnswerError(
            f"S3 {operation or 'the request'} on {resource} got HTTP {code} without a readable S3 "
            f"answer{doing}: the body was cut off or not XML, so nothing from it was used.",
            hint="Retry; if it persists, check the endpoint URL and any proxy in between.",
        )
    return aws.translate_client_error(err, "s3", region=region, what=what or None)


def read_body(s3: S3Client, bucket: str, key: str, *, region: str | None = None) -> bytes:
    """The whole object ``s3://bucket/key`` (GetObject; a body shorter than announced is an error).

    Raises
    ------
    DataSourceError
        Access denied, missing object, wrong region, throttling, a truncated or timed-out read.
    """
    uri = f"s3://{bucket}/{key}"
    with aws.aws_errors("s3", region=region, what=f"reading {uri}"):  # other botocore errors
        return _read_body(s3, bucket, key, uri, region)


def _read_body(s3: S3Client, bucket: str, key: str, uri: str, region: str | None) -> bytes:
    try:
        resp = s3.get_object(Bucket=bucket, Key=key)
        return resp["Body"].read()
    except bexc.ClientError as err:
        raise s3_error(err, bucket=bucket, key=key, region=region, what=f"reading {uri}") from err
    except bexc.IncompleteReadError as err:
        got, expected = err.kwargs.get("actual_bytes"), err.kwargs.get("expected_bytes")
        raise DataSourceError(
            f"{uri} was cut off: {got} of {expected} bytes arrived.",
            hint="Retry; a network proxy or an object still being written can truncate reads.",
        ) from err
    except bexc.ResponseStreamingError as err:
        raise DataSourceError(
            f"{uri}: the connection broke while reading the object.", hint="Retry in a moment."
        ) from err


def read_s3_object(session: boto3.Session, uri: str, *, endpoint_url: str | None = None) -> bytes:
    """The bytes of one S3 object.

    Parameters
    ----------
    session
        From :func:`lib.make_session`.
    uri
        ``s3://bucket/key``.
    endpoint_url
        An S3-compatible endpoint (moto, LocalStack); default: boto3's resolution.

    Returns
    -------
    bytes

    Raises
    ------
    InputError
        If ``uri`` is not an S3 URI.
    DataSourceError
        As :func:`read_body` (the message names the URI and, when denied, ``s3:GetObject``).
    """
    bucket, key = parse_s3_uri(uri)
    if not key or key.endswith("/"):
        raise InputError(f"{uri} names a folder, not an object.", hint="Give the full key of the file.")
    s3 = aws.make_client(session, "s3", endpoint_url)
    return read_body(s3, bucket, key, region=session.region_name)


def write_s3_object(
    session: boto3.Session,
    uri: str,
    data: bytes,
    *,
    content_type: str = "application/octet-stream",
    endpoint_url: str | None = None,
) -> None:
    """Write ``data`` to ``s3://bucket/key`` (PutObject; replaces an existing object).

    Raises
    ------
    InputError
        If ``uri`` is not an S3 URI of an object.
    DataSourceError
        Access denied (names ``s3:PutObject``), missing bucket, wrong region, throttling.
    """
    bucket, key = parse_s3_uri(uri)
    if not key or key.endswith("/"):
        raise InputError(f"{uri} names a folder, not an object.", hint="Give the full key to write.")
    s3 = aws.make_client(session, "s3", endpoint_url)
    region = session.region_name
    with aws.aws_errors("s3", region=region, what=f"writing {uri}"):
        try:
            s3.put_object(Bucket=bucket, Key=key, Body=data, ContentType=content_type)
        except bexc.ClientError as err:
            raise s3_error(err, bucket=bucket, key=key, region=region, what=f"writing {uri}") from err
