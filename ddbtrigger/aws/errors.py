"""Botocore errors -> our one-line errors, mapped once.

Messages name the AWS action and say what to do. They never include request parameters or headers,
so no credential or item value can leak into a message.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from ddbtrigger.errors import (
    AccessDenied,
    AwsError,
    Conflict,
    CredentialsError,
    DdbtError,
    EndpointError,
    NotFound,
    RegionError,
    Throttled,
)

ACCESS_DENIED = {
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "AuthorizationError",
    "AuthorizationErrorException",
    "UnauthorizedException",
}
BAD_CREDENTIALS = {
    "ExpiredToken",
    "ExpiredTokenException",
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "InvalidSignatureException",
    "RequestExpired",
}
NOT_FOUND = {
    "ResourceNotFoundException",
    "QueueDoesNotExist",
    "AWS.SimpleQueueService.NonExistentQueue",
    "NoSuchBucket",
    "NotFound",
    "NotFoundException",
    "NoSuchEntity",
    "NoSuchKey",
    "TableNotFoundException",
    "404",
}
THROTTLED = {
    "Throttling",
    "ThrottlingException",
    "TooManyRequestsException",
    "LimitExceededException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "SlowDown",
    "RequestThrottled",
    "RequestThrottledException",
}
CONFLICT = {"ResourceConflictException", "ResourceInUseException", "ConcurrentModificationException"}


def error_code(exc: BaseException) -> str:
    """The AWS error code of a ClientError, or '' for anything else."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", ""))
    return ""


def error_message(exc: BaseException) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Message", "")) or str(exc)
    return str(exc)


def translate(exc: BaseException, action: str) -> DdbtError:
    """Our error for a botocore/boto3 exception raised while doing ``action``, always one line."""
    if isinstance(exc, DdbtError):
        return exc
    error = _translate(exc, action)
    if any(c in error.message for c in "\r\n\t"):
        error = type(error)(" ".join(error.message.split()), details=error.details)
    return error


def _translate(exc: BaseException, action: str) -> DdbtError:
    from botocore import exceptions as bx

    if isinstance(exc, DdbtError):
        return exc
    if isinstance(exc, bx.NoRegionError):
        return RegionError("no AWS region: pass --region, set AWS_REGION, or set region: in the spec")
    if isinstance(exc, bx.ProfileNotFound):
        return CredentialsError(f"AWS profile not found: {exc.kwargs.get('profile')}")
    if isinstance(exc, bx.NoCredentialsError | bx.PartialCredentialsError):
        return CredentialsError(
            "no AWS credentials found: set AWS_PROFILE, or run `aws sso login`, "
            "or export AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY"
        )
    if isinstance(exc, bx.TokenRetrievalError | bx.SSOTokenLoadError | bx.UnauthorizedSSOTokenError):
        return CredentialsError("the AWS SSO session has expired: run `aws sso login`")
    if isinstance(
        exc,
        bx.EndpointConnectionError | bx.ConnectTimeoutError | bx.ReadTimeoutError | bx.ConnectionClosedError,
    ):
        return EndpointError(f"cannot reach AWS to {action}: {_endpoint_reason(exc)}")
    if isinstance(exc, bx.ClientError):
        return _from_client_error(exc, action)
    if isinstance(exc, bx.BotoCoreError):
        return AwsError(f"could not {action}: {exc}")
    return AwsError(f"could not {action}: {type(exc).__name__}: {exc}")


def _endpoint_reason(exc: BaseException) -> str:
    url = getattr(exc, "kwargs", {}).get("endpoint_url")
    return f"no answer from {url}" if url else str(exc)


def _from_client_error(exc: BaseException, action: str) -> DdbtError:
    code, message = error_code(exc), error_message(exc)
    if code in ACCESS_DENIED:
        return AccessDenied(f"access denied: could not {action}: {message}")
    if code in BAD_CREDENTIALS:
        return CredentialsError(
            f"AWS rejected the credentials ({code}): refresh them (e.g. `aws sso login`) and retry"
        )
    if code in NOT_FOUND:
        return NotFound(f"not found: could not {action}: {message}")
    if code in THROTTLED:
        return Throttled(f"throttled by AWS after retries: could not {action}: {message}")
    if code in CONFLICT:
        return Conflict(f"changed underneath us: could not {action}: {message}")
    return AwsError(f"could not {action}: {code}: {message}")


@contextmanager
def translate_errors(action: str) -> Iterator[None]:
    """Run AWS calls; re-raise any botocore error as ours, naming ``action`` (e.g. 'list mappings')."""
    try:
        yield
    except DdbtError:
        raise
    except Exception as e:
        if _is_aws_exception(e):
            raise translate(e, action) from e
        raise


def _is_aws_exception(exc: BaseException) -> bool:
    from botocore.exceptions import BotoCoreError, ClientError

    return isinstance(exc, ClientError | BotoCoreError)
