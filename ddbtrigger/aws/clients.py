"""The one place that builds boto3 clients.

Profile, region and endpoint come from the command line, the spec, or the environment as boto3 reads
it. Retries use botocore's ``standard`` mode (or ``adaptive``), timeouts are short enough that an
unreachable endpoint fails in seconds, and ``account_id_endpoint_mode`` is disabled so DynamoDB Streams
calls go to the regional endpoint (moto in-process does not route the account-based one).

boto3 sessions are not thread-safe but clients are: the factory builds each client once, under a lock,
and hands the same client to every thread.

``client()`` is typed per service name with the boto3 stubs (``mypy_boto3_*``, the ``[dev]`` extra), so
mypy checks every call's parameters; the stubs are imported under ``TYPE_CHECKING`` only, never at run
time. A service without stubs installed (``sts``, ``ec2``) or a name only known at run time is ``Any``.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal, overload

from ddbtrigger.aws.errors import translate_errors
from ddbtrigger.errors import RegionError

if TYPE_CHECKING:
    import boto3
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodbstreams import DynamoDBStreamsClient
    from mypy_boto3_iam import IAMClient
    from mypy_boto3_lambda import LambdaClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sns import SNSClient
    from mypy_boto3_sqs import SQSClient

    from ddbtrigger.aws.identity import AccountGuard

RetryMode = Literal["standard", "adaptive", "legacy"]

MAX_IN_FLIGHT = 8
"""Calls one command keeps in flight at most. Thread pools are sized to the work up to this
(``workers_for``), and each client's connection pool holds as many connections: a pool smaller than
the threads using it makes them queue for a connection (botocore's default is 10). Measured (no-op
``plan`` of 50 triggers at 20 ms, 2 cores, medians of 4): 64 threads 2.67 s wall / 3.02 s CPU, 16
threads 1.84 / 1.52, 8 threads 1.74 / 1.25 — botocore's calls are CPU under the GIL, and more threads
than that only add GIL hand-offs. The cap is the measured best, not a guess."""


def workers_for(count: int) -> int:
    """Threads for ``count`` independent reads: one each, up to ``MAX_IN_FLIGHT`` (never zero)."""
    return max(1, min(MAX_IN_FLIGHT, count))


@dataclass(frozen=True)
class AwsTarget:
    """Where to send calls. Built by the CLI from ``--profile/--region/--endpoint-url``."""

    profile: str | None = None
    region: str | None = None
    endpoint_url: str | None = None
    retry_mode: RetryMode = "standard"
    max_attempts: int = 8  # total attempts, the first included (botocore's total_max_attempts)
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    assume_role: str | None = None  # a role ARN to assume (STS) with the profile's credentials
    account_id: str | None = None  # the guard: nothing changes unless the caller is this account
    label: str | None = None  # the environment's name, for messages

    def with_default_region(self, region: str | None) -> AwsTarget:
        """The spec's region applies only when the command line gave none."""
        if self.region or not region:
            return self
        return replace(self, region=region)

    def with_environment(
        self,
        name: str,
        *,
        profile: str | None,
        region: str | None,
        assume_role: str | None,
        account_id: str | None,
    ) -> AwsTarget:
        """An environment's connection: its profile and region unless the command line gave one
        (``--profile``/``--region`` win), its role and its account guard."""
        return replace(
            self,
            profile=self.profile or profile,
            region=self.region or region,
            assume_role=assume_role,
            account_id=account_id,
            label=name,
        )


class ClientFactory:
    """Builds and caches one client per service. Pass a ``session`` to observe or stub calls."""

    def __init__(self, target: AwsTarget, *, session: boto3.Session | None = None) -> None:
        self.target = target
        self._session = session
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._session_lock = threading.Lock()
        self._guard: AccountGuard | None = None
        if target.account_id:
            from ddbtrigger.aws.identity import AccountGuard, caller_account

            self._guard = AccountGuard(
                target.account_id, lambda: caller_account(self.client("sts")), label=target.label
            )

    @property
    def session(self) -> boto3.Session:
        """One session per factory, opened under a lock (sessions are not thread-safe: clients are)."""
        if self._session is not None:
            return self._session
        with self._session_lock:
            if self._session is None:
                self._session = self._open_session()
            return self._session

    def _open_session(self) -> boto3.Session:
        import boto3

        with translate_errors("open the AWS session"):
            session = boto3.Session(profile_name=self.target.profile)
            if self.target.assume_role:
                from ddbtrigger.aws.identity import assumed_session

                session = assumed_session(
                    session, self.target.assume_role, endpoint_url=self.target.endpoint_url
                )
            return session

    def check_account(self) -> None:
        """The ``account_id`` guard: one ``GetCallerIdentity``, then ``WrongAccount`` (exit 2) when the
        credentials belong to another account. Every client also checks it before its first call that
        is not a read, so a use case that forgets still changes nothing in the wrong account."""
        if self._guard is not None:
            self._guard.check()

    @property
    def region(self) -> str:
        # boto3 reads AWS_DEFAULT_REGION only; the AWS CLI and SDKs also honour AWS_REGION.
        region = self.target.region or os.environ.get("AWS_REGION") or self.session.region_name
        if not region:
            raise RegionError("no AWS region: pass --region, set AWS_REGION, or set region: in the spec")
        return region

    @overload
    def client(self, service: Literal["lambda"]) -> LambdaClient: ...
    @overload
    def client(self, service: Literal["dynamodb"]) -> DynamoDBClient: ...
    @overload
    def client(self, service: Literal["dynamodbstreams"]) -> DynamoDBStreamsClient: ...
    @overload
    def client(self, service: Literal["sqs"]) -> SQSClient: ...
    @overload
    def client(self, service: Literal["sns"]) -> SNSClient: ...
    @overload
    def client(self, service: Literal["s3"]) -> S3Client: ...
    @overload
    def client(self, service: Literal["iam"]) -> IAMClient: ...
    @overload
    def client(self, service: Literal["cloudwatch"]) -> CloudWatchClient: ...
    @overload
    def client(self, service: str) -> Any: ...

    def client(self, service: str) -> Any:
        """The one client of ``service``, built on first use. Builds take one lock (the session they
        share is not thread-safe); a client already built is handed out without it, so a thread
        building one (~0.1-0.2 s of botocore's model loading) does not stop threads whose client
        exists: they keep calling AWS meanwhile."""
        client = self._clients.get(service)
        if client is not None:
            return client
        with self._lock:
            if service not in self._clients:
                self._clients[service] = self._build(service)
            return self._clients[service]

    def prebuild(self, *services: str) -> threading.Thread:
        """Build these clients on a daemon thread while the caller waits on AWS with the clients it has:
        building is CPU (botocore's models), the caller's calls are mostly waiting, so the two overlap.
        A failure is left for the first real use of that client to raise, translated, where it belongs."""

        def build() -> None:
            for service in services:
                try:
                    self.client(service)
                except Exception:  # raised again, in context, by the caller's own client() call
                    return

        thread = threading.Thread(target=build, name="ddbtrigger-clients", daemon=True)
        thread.start()
        return thread

    def _build(self, service: str) -> Any:
        from botocore.config import Config

        config = Config(
            retries={"mode": self.target.retry_mode, "total_max_attempts": self.target.max_attempts},
            connect_timeout=self.target.connect_timeout,
            read_timeout=self.target.read_timeout,
            max_pool_connections=MAX_IN_FLIGHT,
            account_id_endpoint_mode="disabled",
            user_agent_extra="ddbtrigger",
        )
        session: Any = self.session  # boto3-stubs only types literal service names
        with translate_errors(f"create the {service} client"):
            client = session.client(
                service, region_name=self.region, endpoint_url=self.target.endpoint_url, config=config
            )
        if self._guard is not None and service != "sts":
            client.meta.events.register("before-call.*.*", self._guard.before_call)
        return client
