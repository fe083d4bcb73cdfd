"""Who the credentials are: the ``account_id`` guard, and ``assume_role`` sessions.

The guard asks ``sts:GetCallerIdentity`` once per client factory and refuses (exit 2, both accounts
named) before the first call that could change anything. Use cases call ``AccountGuard.check`` before
they start; a ``before-call`` hook on every client is the safety net for any mutating call they did not
foresee (an operation is read-only when its name starts with ``Get``, ``List``, ``Describe``...).

``assume_role`` goes through botocore's own machinery (``AssumeRoleCredentialFetcher`` behind
``DeferredRefreshableCredentials``, as a profile's ``role_arn`` does), so credentials refresh before
they expire during a long redrive.
"""

from __future__ import annotations

import getpass
import re
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ddbtrigger.aws.errors import translate_errors
from ddbtrigger.errors import WrongAccount

if TYPE_CHECKING:
    import boto3

READ_PREFIXES = ("Get", "List", "Describe", "Query", "Scan", "BatchGet", "Head", "Receive", "Select")
"""Operations that change nothing (``ReceiveMessage`` only hides a message for a while)."""


def session_name(user: str | None = None) -> str:
    """``ddbtrigger-<local user>``: CloudTrail shows who ran the tool (STS allows ``[\\w+=,.@-]``, 64)."""
    try:
        who = user if user is not None else getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (a container) and no LOGNAME/USER
        who = "unknown"
    return ("ddbtrigger-" + re.sub(r"[^\w+=,.@-]", "-", who))[:64]


def assumed_session(base: boto3.Session, role_arn: str, *, endpoint_url: str | None) -> boto3.Session:
    """A session whose credentials are ``role_arn``'s, assumed with ``base``'s and refreshed by botocore."""
    import boto3
    import botocore.session
    from botocore.credentials import (
        AssumeRoleCredentialFetcher,
        CredentialProvider,
        CredentialResolver,
        DeferredRefreshableCredentials,
    )

    source = base.get_credentials()
    if source is None:
        from ddbtrigger.errors import CredentialsError

        raise CredentialsError(f"no AWS credentials to assume {role_arn} with")
    base_core: Any = base._session  # boto3 exposes no public accessor for its botocore session

    def sts_client(service: str, **kwargs: Any) -> Any:
        return base_core.create_client(
            service, region_name=base.region_name or "us-east-1", endpoint_url=endpoint_url, **kwargs
        )

    fetcher = AssumeRoleCredentialFetcher(
        client_creator=sts_client,
        source_credentials=source,
        role_arn=role_arn,
        extra_args={"RoleSessionName": session_name()},
    )

    class AssumeRole(CredentialProvider):
        METHOD = "ddbtrigger-assume-role"
        CANONICAL_NAME = "custom-ddbtrigger-assume-role"

        def load(self) -> Any:
            return DeferredRefreshableCredentials(fetcher.fetch_credentials, self.METHOD)

    core = botocore.session.Session()
    core.register_component("credential_provider", CredentialResolver([AssumeRole()]))
    return boto3.Session(botocore_session=core, region_name=base.region_name)


def caller_account(sts: Any) -> str:
    """The account the credentials belong to (``GetCallerIdentity`` needs no permission)."""
    with translate_errors("find the caller's account (sts get-caller-identity)"):
        return str(sts.get_caller_identity()["Account"])


class AccountGuard:
    """Refuses to change anything unless the credentials belong to ``expected`` (asked once)."""

    def __init__(self, expected: str, account: Callable[[], str], *, label: str | None = None) -> None:
        self.expected = expected
        self._account = account
        self._label = label
        self._lock = threading.Lock()
        self._found: str | None = None

    def check(self) -> None:
        """Raise ``WrongAccount`` (exit 2) when the caller's account is another one."""
        with self._lock:
            if self._found is None:
                self._found = self._account()
        if self._found != self.expected:
            where = f"environment {self._label} expects" if self._label else "the spec expects"
            raise WrongAccount(
                f"refusing to change anything: {where} account {self.expected}, but the credentials "
                f"belong to account {self._found}; nothing was changed"
            )

    def before_call(self, model: Any, **_: Any) -> None:
        """botocore ``before-call`` hook: check before any operation that is not a read."""
        if not str(model.name).startswith(READ_PREFIXES):
            self.check()
