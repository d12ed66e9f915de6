"""AWS sessions, clients and error translation shared by the live sources.

Credentials only ever come from boto3's standard chain (environment, shared config/credentials files,
SSO, container/instance roles). Nothing here accepts, stores, logs or formats a credential: error
messages are built from the error *code*, the operation and the region, and AWS's own message text is
passed through :func:`redact` before it is shown.
"""

from __future__ import annotations

import functools
import json
import os
import re
import threading
import time
import urllib.parse
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Literal, overload

import boto3
import botocore.exceptions as bexc
import botocore.parsers
from botocore.config import Config

from lib.errors import AppError, DataSourceError, InputError

if TYPE_CHECKING:  # the stubs are dev-only (requirements-dev.in): never imported at runtime
    from botocore.client import BaseClient
    from botocore.model import OperationModel
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_logs import CloudWatchLogsClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sagemaker import SageMakerClient
    from mypy_boto3_sts import STSClient

#: The services the live sources call (IAM prefixes, as boto3 names them).
ServiceName = Literal["sagemaker", "cloudwatch", "logs", "s3", "sts"]

#: Adaptive client-side rate limiting + retries on throttling/transient errors, before we give up.
RETRY_CONFIG: Final = Config(
    retries={"mode": "adaptive", "max_attempts": 10}, connect_timeout=10, read_timeout=60
)

#: Error codes AWS uses for throttling across the services we call (botocore ``_retry.json``).
THROTTLING_CODES: Final = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "LimitExceededException",
        "ProvisionedThroughputExceededException",
        "SlowDown",
        "EC2ThrottledException",
        "BandwidthLimitExceeded",
        "PriorRequestNotComplete",
    }
)
EXPIRED_CODES: Final = frozenset(
    {"ExpiredToken", "ExpiredTokenException", "RequestExpired", "TokenRefreshRequired"}
)
INVALID_CREDENTIAL_CODES: Final = frozenset(
    {
        "InvalidClientTokenId",
        "UnrecognizedClientException",
        "SignatureDoesNotMatch",
        "InvalidSignatureException",
        "IncompleteSignature",
        "AuthFailure",
        "MissingAuthenticationToken",
    }
)
#: For the connect check (STS GetCallerIdentity): fail in seconds, not after ten backed-off retries,
#: so a mistyped endpoint or a dead LocalStack is reported while the user is still looking.
CONNECT_CONFIG: Final = Config(
    retries={"mode": "standard", "max_attempts": 2}, connect_timeout=5, read_timeout=20
)

ACCESS_DENIED_CODES: Final = frozenset(
    {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "UnauthorizedAccess"}
)

# AWS access key ids, and long base64-ish runs (secret keys are 40 chars, session tokens hundreds).
_KEY_ID = re.compile(r"\b(?:AKIA|ASIA|AIDA|AROA|ABIA|ACCA)[A-Z0-9]{12,}\b")
_LONG_TOKEN = re.compile(r"[A-Za-z0-9+/=]{32,}")
_ACTION_IN_MESSAGE = re.compile(r"perform:\s*([a-z0-9-]+:[A-Za-z0-9]+)")


#: Longest single wait for a connection and for an answer, whatever the deadline (as RETRY_CONFIG).
MAX_CONNECT_TIMEOUT: Final = 10.0
MAX_READ_TIMEOUT: Final = 60.0
MAX_ATTEMPTS: Final = 10

_HTML = re.compile(rb"^\s*(?:<!doctype\s+html|<html)", re.IGNORECASE)
_JSON_PROTOCOLS: Final = frozenset({"json", "rest-json"})
_XML_PROTOCOLS: Final = frozenset({"rest-xml", "query", "ec2"})


class AnswerError(DataSourceError):
    """No usable answer: the endpoint could not be reached, did not answer in time, or sent a body
    that is not an AWS answer. A team deployment shows one message for all of these, so the
    errors cannot be used to probe which hosts and ports exist (``lib.ui.auth``)."""


class BadAnswerError(AnswerError):
    """A 2xx answer whose body is empty, HTML, truncated or not what the protocol promises."""

    def __init__(self, service: str, operation: str, what: str) -> None:
        super().__init__(
            f"{service} {operation} answered with {what} (HTTP 200): that is not an AWS answer, so "
            "nothing from it was used.",
            hint="A proxy, captive portal or a server that is not AWS may be answering: check the "
            "endpoint URL and the network, then retry.",
        )
        self.service = service
        self.operation = operation


class ActionTimeoutError(AnswerError):
    """The overall deadline of a user action passed."""


class ActionCancelledError(DataSourceError):
    """The user action was cancelled (:meth:`Deadline.cancel`)."""


#: The errors that end a whole user action: loops that turn one failed call into a warning and go on
#: re-raise these (the next calls would only time out or be cancelled too).
ACTION_ENDED: Final = (ActionTimeoutError, ActionCancelledError)


class Deadline:
    """One overall time budget for a user action (Connect, Find, Load ...), shared by its AWS calls.

    Bound to a session (:func:`make_session`), it shapes every client :func:`make_client` makes
    from it: connect/read timeouts and the number of attempts come from the time left, each HTTP
    attempt first calls :meth:`check` (so a hanging endpoint costs at most the deadline plus one
    read timeout, never ten minute-long retries), and a call that fails after the deadline is
    reported as :class:`ActionTimeoutError` ("Find jobs timed out after 60 s").

    ``on_check`` runs at every check made in the thread that created the deadline (not in worker
    threads): a UI uses it to show the time left and to notice a Stop press between calls.
    ``max_wait`` caps the wait for one answer (the read timeout), so such a check comes at least
    that often even when an endpoint hangs.
    """

    def __init__(
        self,
        seconds: float,
        action: str,
        *,
        on_check: Callable[[Deadline], None] | None = None,
        max_wait: float = MAX_READ_TIMEOUT,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not seconds > 0:
            raise InputError(f"A deadline must be positive, not {seconds!r} s.")
        self.seconds = float(seconds)
        self.action = action
        self.on_check = on_check
        self.max_wait = min(float(max_wait), MAX_READ_TIMEOUT)
        self._clock = clock
        self._start = clock()
        self._cancelled = threading.Event()
        self._owner = threading.get_ident()
        self._lock = threading.Lock()
        self.attempts = 0  # HTTP attempts sent under this deadline (all clients, all threads)

    def elapsed(self) -> float:
        """Seconds since the action started."""
        return self._clock() - self._start

    def remaining(self) -> float:
        """Seconds left (0 once the deadline has passed)."""
        return max(self.seconds - self.elapsed(), 0.0)

    def cancel(self) -> None:
        """Make the next :meth:`check` (in any thread) raise :class:`ActionCancelledError`."""
        self._cancelled.set()

    def timed_out(self) -> ActionTimeoutError:
        """The error for this deadline having passed."""
        return ActionTimeoutError(
            f"{self.action} timed out after {self.seconds:g} s: AWS (or the endpoint) did not give a "
            "usable answer in time, so nothing from it was used.",
            hint="Retry in a moment; if it persists, check the endpoint URL and the network, or ask "
            "for less at once.",
        )

    def check(self) -> None:
        """Raise if the action was cancelled or its time is up; else give ``on_check`` its turn.

        Raises
        ------
        ActionCancelledError, ActionTimeoutError
        """
        if self._cancelled.is_set():
            raise ActionCancelledError(f"{self.action} was cancelled; nothing from it was kept.")
        if self.remaining() <= 0:
            raise self.timed_out()
        if self.on_check is not None and threading.get_ident() == self._owner:
            self.on_check(self)

    def client_config(self) -> Config:
        """Timeouts and attempts for a client made now: every attempt fits in the time left.

        Half the time left per read (1 s to ``max_wait``) and as many attempts as fit (1-10): a
        hanging endpoint costs about the deadline (twice half of it, or more attempts of ``max_wait``)
        instead of ten full read timeouts; with a long deadline this is :data:`RETRY_CONFIG`.
        """
        left = max(self.remaining(), 0.1)
        read = min(self.max_wait, max(1.0, left / 2))
        connect = min(MAX_CONNECT_TIMEOUT, max(1.0, left / 4))
        attempts = max(1, min(MAX_ATTEMPTS, round(left / read)))
        return Config(
            connect_timeout=connect,
            read_timeout=read,
            retries={"mode": "adaptive", "total_max_attempts": attempts},
        )

    def _before_send(self, **_: Any) -> None:
        # botocore's "before-send" hook: runs before each HTTP attempt, retries included; must
        # return None (a value would be taken as the HTTP response).
        self.check()
        with self._lock:
            self.attempts += 1

    def _after_call_error(self, exception: BaseException, **_: Any) -> None:
        # botocore's "after-call-error" hook: a call that failed once the time was up, or whose
        # attempts (sized to fill the time left) all timed out, is this deadline's timeout.
        if isinstance(exception, AppError):
            return
        if self.remaining() <= 0 or isinstance(exception, bexc.ReadTimeoutError | bexc.ConnectTimeoutError):
            raise self.timed_out() from exception


class Session(boto3.Session):
    """A boto3 session that carries the :class:`Deadline` of the user action it serves."""

    deadline: Deadline | None = None


def session_deadline(session: boto3.Session) -> Deadline | None:
    """The deadline bound to ``session`` by :func:`make_session` (None for any other session)."""
    return session.deadline if isinstance(session, Session) else None


def check_answer(operation_model: OperationModel, response_dict: dict[str, Any], **_: Any) -> None:
    """botocore "before-parse" hook: refuse a 2xx body that cannot be a complete AWS answer.

    botocore itself parses an empty JSON/XML body as ``{}`` and an unparseable JSON body as
    ``{"message": body}``: a proxy's HTML page or a cut-off answer would read as "0 jobs" or a
    missing series. Streaming bodies (S3 GetObject) are checked by their length instead
    (:func:`lib.sources.aws.s3files.read_body`).

    Raises
    ------
    BadAnswerError
        Naming the service and the action (operation).
    """
    status = int(response_dict.get("status_code") or 0)
    body = response_dict.get("body")
    if not 200 <= status < 300 or operation_model.has_streaming_output or not isinstance(body, bytes):
        return
    service_model = operation_model.service_model
    service, operation = service_model.service_name, operation_model.name
    output = operation_model.output_shape
    body_members = output is not None and any(
        m.serialization.get("location") is None for m in getattr(output, "members", {}).values()
    )
    if _HTML.match(body[:512]):
        raise BadAnswerError(service, operation, "an HTML page")
    if not body.strip():
        if body_members:
            raise BadAnswerError(service, operation, "an empty body")
        return
    protocol = service_model.resolved_protocol
    if protocol in _JSON_PROTOCOLS:
        try:
            parsed = json.loads(body)
        except ValueError:
            raise BadAnswerError(service, operation, "a body that is cut off or not JSON") from None
        if not isinstance(parsed, dict):
            raise BadAnswerError(service, operation, "a JSON body that is not an object")
    elif protocol in _XML_PROTOCOLS:
        try:
            root = ET.fromstring(body)  # botocore parses the same bytes with the same parser next
        except ET.ParseError:
            raise BadAnswerError(service, operation, "a body that is cut off or not XML") from None
        tag = root.tag.rsplit("}", 1)[-1]
        if tag.lower() == "html" or (protocol == "query" and tag != f"{operation}Response"):
            raise BadAnswerError(service, operation, f"an XML document <{tag}> that is not its answer")
    elif protocol == "smithy-rpc-v2-cbor" and body[0] >> 5 != 5:  # CBOR major type 5: a map
        raise BadAnswerError(service, operation, "a body that is not a CBOR map")


@dataclass(frozen=True)
class Identity:
    """Who the credentials belong to (STS GetCallerIdentity): safe to show, holds no secret."""

    account: str
    arn: str
    user_id: str


def redact(text: str) -> str:
    """Remove anything that looks like an access key id or a secret/token from ``text``."""
    return _LONG_TOKEN.sub("[redacted]", _KEY_ID.sub("[redacted]", text))


def list_profiles() -> list[str]:
    """Profile names from the user's AWS config and credentials files (``default`` first).

    Raises
    ------
    DataSourceError
        If a config file cannot be parsed.
    """
    try:
        names = set(boto3.Session().available_profiles)
    except bexc.BotoCoreError as err:
        raise _translate_botocore(err, region=None) from err
    return sorted(names, key=lambda n: (n != "default", n))


def default_region(profile: str | None = None) -> str | None:
    """The region to preselect: ``AWS_REGION``, else ``AWS_DEFAULT_REGION``, else the profile's own.

    Same precedence as the AWS CLI and SDKs (the environment overrides the config file); botocore
    itself does not read ``AWS_REGION``, hence the explicit look-up. None when nothing is set or
    the profile does not exist.
    """
    if os.environ.get("AWS_REGION"):
        return os.environ["AWS_REGION"]
    try:
        return boto3.Session(profile_name=profile or None).region_name or None
    except bexc.BotoCoreError:
        return None


def default_endpoint_url() -> str:
    """``AWS_ENDPOINT_URL`` when set (LocalStack, a test server), else '' (AWS's own endpoints)."""
    return os.environ.get("AWS_ENDPOINT_URL", "").strip()


def check_endpoint_url(url: str | None) -> str | None:
    """A usable endpoint URL (stripped), or None for AWS's own endpoints.

    Raises
    ------
    InputError
        If ``url`` is not an ``http(s)://host[:port]`` URL (botocore would fail with a bare ValueError).
    """
    url = (url or "").strip()
    if not url:
        return None
    parsed = urllib.parse.urlsplit(url)
    try:
        parsed.port  # noqa: B018  (raises ValueError for a non-numeric or out-of-range port)
    except ValueError:
        parsed = parsed._replace(netloc="")
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise InputError(
            f"The endpoint URL {redact(url)!r} is not a valid http(s) URL.",
            hint="For LocalStack use e.g. http://localhost:4566; leave it empty for AWS itself.",
        )
    return url


@functools.cache
def known_regions() -> tuple[str, ...]:
    """Regions botocore knows for SageMaker in any partition (botocore's bundled data, no network)."""
    session = boto3.Session(region_name="us-east-1")
    regions: set[str] = set()
    for partition in session.get_available_partitions():
        regions.update(session.get_available_regions("sagemaker", partition_name=partition))
    return tuple(sorted(regions))


def make_session(
    profile: str | None, region: str | None, *, deadline: Deadline | None = None
) -> boto3.Session:
    """A boto3 session for ``profile`` (None: the default chain) in ``region`` (None: from config/env).

    With ``deadline``, every client made from it by :func:`make_client` works within that time.

    Raises
    ------
    DataSourceError
        If the profile does not exist, no region can be resolved, or the region is unknown.
    """
    try:
        session = Session(profile_name=profile or None, region_name=region or None)
        session.deadline = deadline
    except bexc.ProfileNotFound as err:
        profiles = list_profiles()
        raise DataSourceError(
            f"AWS profile '{profile}' was not found in your AWS config.",
            hint=(f"Available profiles: {', '.join(profiles)}." if profiles else "No profiles configured.")
            + " Add one with `aws configure --profile NAME` or `aws configure sso`.",
        ) from err
    except bexc.BotoCoreError as err:
        raise _translate_botocore(err, region=region) from err
    resolved = session.region_name
    if not resolved:
        raise DataSourceError(
            "No AWS region is set.",
            hint="Choose a region, set `region` in the profile, or export AWS_DEFAULT_REGION.",
        )
    if resolved not in known_regions():
        raise DataSourceError(
            f"Unknown AWS region '{resolved}'.",
            hint="Pick a region where SageMaker runs, e.g. us-east-1, eu-west-1, ap-southeast-2.",
        )
    return session


@overload
def make_client(
    session: boto3.Session,
    service: Literal["sagemaker"],
    endpoint_url: str | None = None,
    *,
    config: Config | None = None,
) -> SageMakerClient: ...
@overload
def make_client(
    session: boto3.Session,
    service: Literal["cloudwatch"],
    endpoint_url: str | None = None,
    *,
    config: Config | None = None,
) -> CloudWatchClient: ...
@overload
def make_client(
    session: boto3.Session,
    service: Literal["logs"],
    endpoint_url: str | None = None,
    *,
    config: Config | None = None,
) -> CloudWatchLogsClient: ...
@overload
def make_client(
    session: boto3.Session,
    service: Literal["s3"],
    endpoint_url: str | None = None,
    *,
    config: Config | None = None,
) -> S3Client: ...
@overload
def make_client(
    session: boto3.Session,
    service: Literal["sts"],
    endpoint_url: str | None = None,
    *,
    config: Config | None = None,
) -> STSClient: ...
def make_client(
    session: boto3.Session,
    service: ServiceName,
    endpoint_url: str | None = None,
    *,
    config: Config | None = None,
) -> BaseClient:
    """A client of ``service`` that refuses unusable answers and keeps to the session's deadline.

    ``endpoint_url`` None lets boto3 resolve it (including ``AWS_ENDPOINT_URL[_<SERVICE>]``).
    Timeouts and retries: the session's :class:`Deadline` when it has one (see
    :meth:`Deadline.client_config`), else ``config`` (default :data:`RETRY_CONFIG`). Every 2xx
    body goes through :func:`check_answer` first.
    """
    deadline = session_deadline(session)
    chosen = deadline.client_config() if deadline is not None else config or RETRY_CONFIG
    client = session.client(service, endpoint_url=endpoint_url or None, config=chosen)
    events = client.meta.events
    events.register("before-parse", check_answer)
    if deadline is not None:
        events.register("before-send", deadline._before_send)
        events.register("after-call-error", deadline._after_call_error)
    return client


def whoami(session: boto3.Session, *, endpoint_url: str | None = None, quick: bool = False) -> Identity:
    """Account, ARN and user id of the session's credentials (STS GetCallerIdentity).

    ``quick`` uses :data:`CONNECT_CONFIG` (two attempts, short timeouts) instead of the patient
    :data:`RETRY_CONFIG`: right for an interactive "Connect" button. A session with a deadline
    uses the deadline's timeouts instead.

    Raises
    ------
    DataSourceError
        If there are no usable credentials or AWS cannot be reached.
    """
    sts = make_client(session, "sts", endpoint_url, config=CONNECT_CONFIG if quick else None)
    with aws_errors("sts", region=session.region_name):
        resp = sts.get_caller_identity()
    return Identity(account=str(resp["Account"]), arn=str(resp["Arn"]), user_id=str(resp["UserId"]))


@contextmanager
def aws_errors(service: str, *, region: str | None = None, what: str | None = None) -> Iterator[None]:
    """Translate boto errors raised inside the block into :class:`DataSourceError`.

    ``service`` is the IAM prefix (``cloudwatch``, ``logs``, ``sagemaker``, ``sts``) used to name a
    missing permission; ``what`` says what we were doing ("listing training jobs").
    """
    try:
        yield
    except bexc.ClientError as err:
        raise translate_client_error(err, service, region=region, what=what) from err
    except bexc.BotoCoreError as err:
        raise _translate_botocore(err, region=region) from err
    except botocore.parsers.ResponseParserError as err:  # what check_answer does not catch first
        doing = f" while {what}" if what else ""
        raise AnswerError(
            f"AWS {service} sent an answer that could not be read{doing}: it is cut off or malformed.",
            hint="Retry; if it persists, check the endpoint URL and any proxy in between.",
        ) from err


def error_code(err: bexc.ClientError) -> str:
    """The AWS error code of ``err`` ('' if missing)."""
    return str(err.response.get("Error", {}).get("Code", ""))


def translate_client_error(
    err: bexc.ClientError, service: str, *, region: str | None = None, what: str | None = None
) -> DataSourceError:
    """The user-facing :class:`DataSourceError` for an AWS service error."""
    code = error_code(err)
    operation = getattr(err, "operation_name", "") or "the request"
    aws_message = redact(str(err.response.get("Error", {}).get("Message", "")))
    doing = f" while {what}" if what else ""
    if code in ACCESS_DENIED_CODES:
        action = permission_for(service, operation, aws_message)
        return DataSourceError(
            f"Access denied: these credentials lack the IAM permission {action}{doing}.",
            hint=f"Ask your AWS administrator to allow {action} (for example in the role's policy), "
            "or switch to a profile that has it.",
        )
    if code in EXPIRED_CODES:
        return DataSourceError(
            "Your AWS credentials have expired.",
            hint="Refresh them (e.g. `aws sso login --profile NAME`, or re-run your credential tool) "
            "and reconnect.",
        )
    if code in INVALID_CREDENTIAL_CODES:
        return DataSourceError(
            f"AWS rejected the credentials ({code}).",
            hint="Check that the profile's keys are current and belong to this AWS partition/region.",
        )
    if code in THROTTLING_CODES:
        return DataSourceError(
            f"AWS is throttling requests to {service} ({operation}){doing}; retries were exhausted.",
            hint="Wait a minute and retry, or load fewer jobs or metrics at once.",
        )
    message = f"AWS {service} refused {operation}{doing} ({code or 'unknown error'})"
    return DataSourceError(
        f"{message}: {aws_message}" if aws_message else f"{message}.",
        hint=f"Region: {region or 'unset'}. Check the profile, region and inputs in the sidebar.",
    )


def permission_for(service: str, operation: str, aws_message: str = "") -> str:
    """IAM action for a denied call: taken from AWS's message when it names one, else service:Operation."""
    found = _ACTION_IN_MESSAGE.search(aws_message)
    return found.group(1) if found else f"{service}:{operation}"


def _translate_botocore(err: bexc.BotoCoreError, *, region: str | None) -> DataSourceError:
    if isinstance(err, bexc.NoCredentialsError | bexc.PartialCredentialsError):
        return DataSourceError(
            "No AWS credentials were found.",
            hint="Choose a configured profile, run `aws configure` / `aws sso login`, or set the standard "
            "AWS_* environment variables before starting the app. Keys are never typed into the app.",
        )
    if isinstance(err, bexc.UnauthorizedSSOTokenError | bexc.SSOTokenLoadError | bexc.TokenRetrievalError):
        return DataSourceError(
            "Your AWS SSO session has expired or was never started.",
            hint="Run `aws sso login --profile NAME` and reconnect.",
        )
    if isinstance(err, bexc.NoRegionError):
        return DataSourceError("No AWS region is set.", hint="Choose a region or export AWS_DEFAULT_REGION.")
    if isinstance(err, bexc.InvalidRegionError):
        return DataSourceError(f"Invalid AWS region name ({region!r}).", hint="Use a name like us-east-1.")
    if isinstance(err, bexc.EndpointConnectionError | bexc.ConnectTimeoutError | bexc.ConnectionClosedError):
        endpoint = getattr(err, "kwargs", {}).get("endpoint_url", "the AWS endpoint")
        return AnswerError(
            f"Could not reach {endpoint}.",
            hint=f"Check the region ({region or 'unset'}), the endpoint URL if you set one, and your "
            "network or proxy.",
        )
    if isinstance(err, bexc.ReadTimeoutError):
        return AnswerError(
            "AWS did not answer in time.", hint="Retry; if it persists, load fewer jobs at once."
        )
    if isinstance(err, bexc.HTTPClientError):  # proxy errors, broken connections, SSL errors
        return AnswerError(
            f"The connection to AWS failed: {redact(str(err))}",
            hint="Retry; check the endpoint URL, the network and any proxy.",
        )
    if isinstance(err, bexc.ProfileNotFound):
        return DataSourceError(f"AWS profile not found: {redact(str(err))}.", hint="Pick another profile.")
    if isinstance(err, bexc.ConfigParseError):
        return DataSourceError(
            "Your AWS config file could not be read.", hint="Check ~/.aws/config for syntax errors."
        )
    if isinstance(err, bexc.CredentialRetrievalError):
        return DataSourceError(
            "The configured credential source failed.",
            hint="Check the profile's credential_process / role settings.",
        )
    return DataSourceError(f"AWS client error: {redact(str(err))}", hint="Check the profile and region.")
