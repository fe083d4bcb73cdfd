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
    """Base of every error the CLI reports as one line (never a traceback).

    A kind names its ``code`` (and ``exit_code`` when not 1) in its class line:
    ``class Throttled(AwsError, code="throttled")``; a kind that names none keeps its base's.
    """

    code: ClassVar[str] = "error"
    exit_code: ClassVar[int] = EXIT_FAILED

    def __init_subclass__(cls, *, code: str | None = None, exit_code: int | None = None) -> None:
        super().__init_subclass__()
        if code is not None:
            cls.code = code
        if exit_code is not None:
            cls.exit_code = exit_code

    def __init__(self, message: str, *, details: list[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details: list[str] = list(details or [])


class UsageError(DdbtError, code="usage", exit_code=EXIT_USAGE):
    """Bad options, or a command that needs a confirmation it cannot get."""


class SpecError(DdbtError, code="invalid_spec", exit_code=EXIT_USAGE):
    """The spec cannot be used; ``details`` holds one ``FILE:LINE:COL: path: message`` line per problem."""


class LintError(DdbtError, code="lint_failed", exit_code=EXIT_USAGE):
    """A lint rule at level error (or a warning under ``--strict``) refused the spec."""


class WrongAccount(DdbtError, code="wrong_account", exit_code=EXIT_USAGE):
    """The credentials belong to another account than the environment's ``account_id`` guard."""


class AwsError(DdbtError, code="aws_error"):
    """An AWS call failed; the message names the action and what the user can do about it."""


class AccessDenied(AwsError, code="access_denied"): ...


class CredentialsError(AwsError, code="credentials"): ...


class RegionError(AwsError, code="no_region"): ...


class EndpointError(AwsError, code="endpoint_unreachable"): ...


class NotFound(AwsError, code="not_found"): ...


class Throttled(AwsError, code="throttled"): ...


class Conflict(AwsError, code="conflict"):
    """Live state changed underneath us (another apply, a console edit)."""


class WaitTimeout(DdbtError, code="timeout"): ...


class PlanRefused(DdbtError, code="plan_refused", exit_code=EXIT_USAGE):
    """apply stopped before changing anything (a replace without ``--allow-replace``, a lint error)."""


class OperationIncomplete(DdbtError, code="incomplete"):
    """The work ran but left something undone (a redrive that left failures)."""
