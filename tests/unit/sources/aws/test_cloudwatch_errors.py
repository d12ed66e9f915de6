"""Every AWS failure the user can fix becomes a DataSourceError with a message and a hint."""

from __future__ import annotations

import botocore.exceptions as bexc
import pytest

from lib.errors import DataSourceError
from lib.sources.aws import session as aws

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
KEY_ID = "AKIAIOSFODNN7EXAMPLE"


def client_error(code: str, message: str = "", operation: str = "GetMetricData") -> bexc.ClientError:
    return bexc.ClientError({"Error": {"Code": code, "Message": message}}, operation)


def raised(exc: Exception, service: str = "cloudwatch") -> DataSourceError:
    with pytest.raises(DataSourceError) as info, aws.aws_errors(service, region="eu-west-1", what="testing"):
        raise exc
    assert info.value.__cause__ is exc  # the original stays available for debugging
    assert info.value.hint
    return info.value


@pytest.mark.parametrize(
    ("code", "operation", "service", "permission"),
    [
        ("AccessDenied", "GetMetricData", "cloudwatch", "cloudwatch:GetMetricData"),
        ("AccessDeniedException", "Search", "sagemaker", "sagemaker:Search"),
        ("AccessDeniedException", "FilterLogEvents", "logs", "logs:FilterLogEvents"),
        ("UnauthorizedOperation", "ListMetrics", "cloudwatch", "cloudwatch:ListMetrics"),
    ],
)
def test_access_denied_names_the_missing_permission(
    code: str, operation: str, service: str, permission: str
) -> None:
    err = raised(client_error(code, "denied", operation), service)
    assert permission in err.message
    assert permission in (err.hint or "")


def test_access_denied_prefers_the_action_aws_names() -> None:
    message = (
        "User: arn:aws:sts::123456789012:assumed-role/DS/me is not authorized to perform: "
        "cloudwatch:GetMetricData because no identity-based policy allows the action"
    )
    assert "cloudwatch:GetMetricData" in raised(client_error("AccessDenied", message, "Whatever")).message


@pytest.mark.parametrize("code", ["ExpiredToken", "ExpiredTokenException", "RequestExpired"])
def test_expired_credentials(code: str) -> None:
    err = raised(client_error(code, "The security token included in the request is expired"))
    assert err.message == "Your AWS credentials have expired."
    assert "sso login" in (err.hint or "")


@pytest.mark.parametrize("code", ["Throttling", "ThrottlingException", "TooManyRequestsException"])
def test_throttling_after_retries(code: str) -> None:
    err = raised(client_error(code, "Rate exceeded"))
    assert "throttling" in err.message
    assert "retries were exhausted" in err.message


@pytest.mark.parametrize(
    "code", ["InvalidClientTokenId", "UnrecognizedClientException", "SignatureDoesNotMatch"]
)
def test_rejected_credentials(code: str) -> None:
    assert code in raised(client_error(code, "bad")).message


def test_other_service_errors_keep_the_code_and_a_redacted_message() -> None:
    err = raised(
        client_error("ValidationException", f"bad value near {KEY_ID} and {SECRET}", "Search"), "sagemaker"
    )
    assert "ValidationException" in err.message
    assert "Search" in err.message
    assert KEY_ID not in str(err)
    assert SECRET not in str(err)
    assert "eu-west-1" in (err.hint or "")


@pytest.mark.parametrize(
    ("exc", "match"),
    [
        (bexc.NoCredentialsError(), "No AWS credentials"),
        (
            bexc.PartialCredentialsError(provider="env", cred_var="AWS_SECRET_ACCESS_KEY"),
            "No AWS credentials",
        ),
        (bexc.UnauthorizedSSOTokenError(), "SSO session has expired"),
        (bexc.NoRegionError(), "No AWS region"),
        (bexc.InvalidRegionError(region_name="us east"), "Invalid AWS region"),
        (
            bexc.EndpointConnectionError(endpoint_url="https://monitoring.xx.amazonaws.com/"),
            "Could not reach",
        ),
        (bexc.ConnectTimeoutError(endpoint_url="https://x/"), "Could not reach"),
        (bexc.ReadTimeoutError(endpoint_url="https://x/"), "did not answer in time"),
        (bexc.ConfigParseError(path="/tmp/cfg"), "config file could not be read"),
    ],
)
def test_client_side_failures(exc: bexc.BotoCoreError, match: str) -> None:
    assert match in raised(exc).message


def test_unreachable_endpoint_names_it() -> None:
    err = raised(bexc.EndpointConnectionError(endpoint_url="https://monitoring.xx-fake-1.amazonaws.com/"))
    assert "https://monitoring.xx-fake-1.amazonaws.com/" in err.message
    assert "eu-west-1" in (err.hint or "")


def test_non_aws_errors_are_not_swallowed() -> None:
    with pytest.raises(KeyError), aws.aws_errors("cloudwatch"):
        raise KeyError("a bug stays a bug")


def test_redact_removes_key_ids_secrets_and_tokens_but_keeps_words() -> None:
    text = f"key {KEY_ID} secret {SECRET} token {'A' * 300} on cloudwatch:GetMetricData"
    out = aws.redact(text)
    assert KEY_ID not in out
    assert SECRET not in out
    assert "A" * 40 not in out
    assert "cloudwatch:GetMetricData" in out


def test_identity_repr_holds_no_secret() -> None:
    ident = aws.Identity(
        account="123456789012", arn="arn:aws:iam::123456789012:user/ds", user_id="AIDAEXAMPLE"
    )
    assert repr(ident) == (
        "Identity(account='123456789012', arn='arn:aws:iam::123456789012:user/ds', user_id='AIDAEXAMPLE')"
    )
