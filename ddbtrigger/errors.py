"""One exception family for the whole tool.

Every error a user can meet is a ``DdbtError`` with a stable ``code`` (the ``error.code`` of the JSON
error document) and the process exit code. Only the AWS gateway turns botocore errors into these, and
only the CLI's entry point catches them, so the mapping from failure to message happens once.
"""

from __future__ import annotations

from typing import ClassVar

EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_ATTENTION = 3
"""Attention needed: ``status`` found something a person must look at (a mapping not ``Enabled``, a
``PROBLEM`` result, drift, a missing part, failures waiting or held), or ``inspect-dlq`` could not list
every failure because another reader holds some. The result is still printed in full."""
EXIT_INTERRUPTED = 130  # Ctrl-C, as shells report SIGINT


class DdbtError(Exception):
    """Base of every error the CLI reports as one line (never a traceback)."""

    code: ClassVar[str] = "error"
    exit_code: ClassVar[int] = EXIT_FAILED

    def __init__(self, message: str, *, details: list[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details: list[str] = list(details or [])


class UsageError(DdbtError):
    """Bad options, or a command that needs a confirmation it cannot get."""

    code = "usage"
    exit_code = EXIT_USAGE


class SpecError(DdbtError):
    """The spec cannot be used; ``details`` holds one ``FILE:LINE:COL: path: message`` line per problem."""

    code = "invalid_spec"
    exit_code = EXIT_USAGE


class LintError(DdbtError):
    """A lint rule at level error (or a warning under ``--strict``) refused the spec."""

    code = "lint_failed"
    exit_code = EXIT_USAGE


class WrongAccount(DdbtError):
    """The credentials belong to another account than the environment's ``account_id`` guard."""

    code = "wrong_account"
    exit_code = EXIT_USAGE


class AwsError(DdbtError):
    """An AWS call failed; the message names the action and what the user can do about it."""

    code = "aws_error"


class AccessDenied(AwsError):
    code = "access_denied"


class CredentialsError(AwsError):
    code = "credentials"


class RegionError(AwsError):
    code = "no_region"


class EndpointError(AwsError):
    code = "endpoint_unreachable"


class NotFound(AwsError):
    code = "not_found"


class Throttled(AwsError):
    code = "throttled"


class Conflict(AwsError):
    """Live state changed underneath us (another apply, a console edit)."""

    code = "conflict"


class WaitTimeout(DdbtError):
    code = "timeout"


class PlanRefused(DdbtError):
    """apply stopped before changing anything (a replace without ``--allow-replace``, a lint error)."""

    code = "plan_refused"
    exit_code = EXIT_USAGE


class OperationIncomplete(DdbtError):
    """The work ran but left something undone (a redrive that left failures)."""

    code = "incomplete"
