"""The spec model: what an operator declares, with the tool's safe defaults filled in.

Field names are the snake_case of the AWS names (as Terraform spells them). The defaults are the safe
ones of PRODUCT.md, not AWS's: bisect on, 3 retries, one hour of record age, partial batch responses.
Models are strict (a quoted ``"100"`` is a wrong type, not a number) and forbid unknown keys, so a typo
is an error rather than a silently ignored setting.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from ddbtrigger.core.destinations import KINDS, DestinationType

ViewType = Literal["NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES", "KEYS_ONLY"]
StartingPosition = Literal["TRIM_HORIZON", "LATEST"]
LintCode = Annotated[str, Field(pattern=r"^DDBT\d{3}$")]

TRIGGER_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
ENV_NAME = re.compile(r"^[a-z][a-z0-9-]{0,31}$")
REGION = r"^[a-z]{2}(-[a-z]+)+-\d$"
ACCOUNT_ID = r"^\d{12}$"
ROLE_ARN = r"^arn:aws[a-z-]*:iam::\d{12}:role/[A-Za-z0-9+=,.@_/-]{1,512}$"
ALL_ENVIRONMENTS = "all"  # what ``--env all`` means, so no environment may take this name
MAX_FILTERS = 5
MAX_FILTER_PATTERN_CHARS = 4096
RETENTION_SECONDS_DEFAULT = 1_209_600
LAMBDA_S3_PREFIX = "aws/lambda/"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, defer_build=True)


class StreamSpec(_Model):
    """The table's stream. Changing ``view_type`` means disable + enable: a new stream ARN."""

    view_type: ViewType = "NEW_AND_OLD_IMAGES"


class MappingSpec(_Model):
    """The event source mapping's settings (only those valid for a DynamoDB stream)."""

    enabled: bool = True
    starting_position: StartingPosition = "TRIM_HORIZON"
    batch_size: int = Field(100, ge=1, le=10000)
    maximum_batching_window_in_seconds: int = Field(0, ge=0, le=300)
    parallelization_factor: int = Field(1, ge=1, le=10)
    bisect_batch_on_function_error: bool = True
    maximum_retry_attempts: int = Field(3, ge=-1, le=10000)
    maximum_record_age_in_seconds: int = Field(3600, ge=-1, le=604800)
    report_batch_item_failures: bool = True
    tumbling_window_in_seconds: int = Field(0, ge=0, le=900)
    filters: list[dict[str, Any]] = Field(default_factory=list, max_length=MAX_FILTERS)
    tags: dict[str, str] = Field(default_factory=dict)

    @field_validator("maximum_record_age_in_seconds")
    @classmethod
    def _record_age(cls, value: int) -> int:
        if 0 <= value < 60:
            raise ValueError(f"must be -1 or 60..604800; AWS rejects 0..59 (got {value})")
        return value

    @field_validator("filters")
    @classmethod
    def _filter_size(cls, value: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for index, pattern in enumerate(value):
            try:
                size = len(json.dumps(pattern, separators=(",", ":"), allow_nan=False))
            except (TypeError, ValueError):
                raise ValueError(
                    f"filter {index} must be plain JSON data (strings, numbers, true/false, null, lists, "
                    "mappings)"
                ) from None
            if size > MAX_FILTER_PATTERN_CHARS:
                raise ValueError(f"filter {index} is {size} characters as JSON; AWS allows 4096")
        return value


_TYPE_ONLY = {field: k.type for k in KINDS.values() for field in k.spec_fields}


class OnFailureSpec(_Model):
    """The failure destination. ``name`` is managed by the tool; ``arn`` is used as is, never changed."""

    type: DestinationType
    name: str | None = Field(None, min_length=1, max_length=80)
    arn: str | None = Field(None, pattern=r"^arn:aws[a-z-]*:(sqs|sns|s3):")
    message_retention_seconds: int | None = Field(None, ge=60, le=RETENTION_SECONDS_DEFAULT)
    kms_key: str | None = Field(None, min_length=1)
    inspect_queue: str | None = Field(None, min_length=1, max_length=80)
    prefix: str | None = None

    @field_validator("name", "arn")
    @classmethod
    def _not_fifo(cls, value: str | None) -> str | None:
        if value is not None and value.endswith(".fifo"):
            raise ValueError("FIFO destinations are not supported by Lambda for stream failures")
        return value

    @field_validator("arn")
    @classmethod
    def _arn_matches_type(cls, value: str | None, info: ValidationInfo) -> str | None:
        kind = info.data.get("type")
        if value is not None and kind is not None and value.split(":")[2] != kind:
            raise ValueError(f"arn is a {value.split(':')[2]} ARN but type is {kind}")
        return value

    @field_validator("message_retention_seconds", "inspect_queue", "prefix")
    @classmethod
    def _only_for_its_type(cls, value: object, info: ValidationInfo) -> object:
        wanted = _TYPE_ONLY[str(info.field_name)]
        kind = info.data.get("type")
        if value is not None and kind is not None and kind != wanted:
            raise ValueError(f"{info.field_name} applies to {wanted} destinations only (type is {kind})")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> OnFailureSpec:
        if (self.name is None) == (self.arn is None):
            raise ValueError("give exactly one of 'name' (managed) or 'arn' (existing)")
        return self

    @property
    def managed(self) -> bool:
        return self.arn is None

    @property
    def read_prefix(self) -> str:
        """Where failures are read in an S3 destination.

        Lambda takes only the bucket's ARN and always writes under ``aws/lambda/<mapping uuid>/`` at
        the bucket root, so that is the default; ``prefix`` narrows it (lint DDBT008 warns when a
        prefix lies outside what Lambda writes).
        """
        return self.prefix if self.prefix else LAMBDA_S3_PREFIX

    @property
    def retention_seconds(self) -> int:
        return self.message_retention_seconds or RETENTION_SECONDS_DEFAULT


AlarmValue = Annotated[int, Field(ge=0, le=10**9)]
PERIODS_NOTE = "10, 30 or a multiple of 60 seconds"
TreatMissingData = Literal["notBreaching", "breaching", "ignore", "missing"]


class AlarmSetting(_Model):
    """One alarm: its threshold, and (optionally) how CloudWatch evaluates it.

    Written short (``iterator_age_seconds: 300``) or long (``{threshold: 300, period: 60,
    evaluation_periods: 5}``); what is left out takes the metric's default (``core.alarms.METRICS``).
    """

    threshold: AlarmValue
    period: int | None = Field(None, ge=10, le=86400)
    evaluation_periods: int | None = Field(None, ge=1, le=100)
    datapoints_to_alarm: int | None = Field(None, ge=1, le=100)
    treat_missing_data: TreatMissingData | None = None

    @model_validator(mode="before")
    @classmethod
    def _short_form(cls, value: Any) -> Any:
        return {"threshold": value} if isinstance(value, int) and not isinstance(value, bool) else value

    @field_validator("period")
    @classmethod
    def _period(cls, value: int | None) -> int | None:
        if value is not None and value not in (10, 30) and value % 60:
            raise ValueError(f"must be {PERIODS_NOTE} (got {value})")
        return value

    @model_validator(mode="after")
    def _datapoints(self) -> AlarmSetting:
        if (
            self.datapoints_to_alarm
            and self.evaluation_periods
            and self.datapoints_to_alarm > self.evaluation_periods
        ):
            raise ValueError("datapoints_to_alarm cannot exceed evaluation_periods")
        return self


SNS_TOPIC_ARN = r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$"
TopicArn = Annotated[str, Field(pattern=SNS_TOPIC_ARN)]


class AlarmsSpec(_Model):
    """The trigger's CloudWatch alarms (``ddbtrigger-<trigger>-<metric>``), and who hears of them.

    ``notify``: SNS topic ARN(s) told when an alarm goes to ALARM and back to OK. An alarm written
    ``false`` is off: how a trigger drops an alarm that ``defaults`` gives every trigger.
    """

    iterator_age_seconds: AlarmSetting | None = None
    failures_waiting: AlarmSetting | None = None
    oldest_failure_age_seconds: AlarmSetting | None = None
    function_errors: AlarmSetting | None = None
    function_throttles: AlarmSetting | None = None
    notify: list[TopicArn] = Field(default_factory=list, max_length=5)

    @model_validator(mode="before")
    @classmethod
    def _short_forms(cls, value: Any) -> Any:
        """``false`` is an alarm turned off; one topic ARN is a list of one."""
        if not isinstance(value, dict):
            return value
        out = {k: (None if v is False and k in ALARM_KEYS else v) for k, v in value.items()}
        if isinstance(out.get("notify"), str):
            out["notify"] = [out["notify"]]
        return out

    @property
    def topics(self) -> tuple[str, ...]:
        return tuple(self.notify)

    def settings(self) -> dict[str, AlarmSetting]:
        """The alarms asked for, by spec key (a ``false`` or absent one is not)."""
        found = {key: getattr(self, key) for key in ALARM_KEYS}
        return {k: v for k, v in found.items() if isinstance(v, AlarmSetting)}


ALARM_KEYS = (
    "iterator_age_seconds",
    "failures_waiting",
    "oldest_failure_age_seconds",
    "function_errors",
    "function_throttles",
)


class TriggerSpec(_Model):
    """One trigger: a table's stream feeding one function, with its failure destination."""

    name: str = Field(pattern=TRIGGER_NAME.pattern)
    table: str = Field(
        min_length=1, pattern=r"^(arn:aws[a-z-]*:dynamodb:[^:]*:\d{12}:table/)?[A-Za-z0-9_.-]{3,255}$"
    )
    stream: StreamSpec = Field(default_factory=StreamSpec)
    function: str = Field(min_length=1, max_length=170)
    mapping: MappingSpec = Field(default_factory=MappingSpec)
    on_failure: OnFailureSpec | None = None
    alarms: AlarmsSpec = Field(default_factory=AlarmsSpec)
    lint_ignore: list[LintCode] = Field(default_factory=list)

    @model_validator(mode="after")
    def _alarms_fit_destination(self) -> TriggerSpec:
        """Destination alarms need a destination CloudWatch measures: an SQS queue (or an SNS
        topic's inspect queue). S3 has no per-prefix object count in CloudWatch (its storage metrics are
        daily and per bucket), so an alarm there could only lie: refused, with the reason."""
        asked = self.alarms.settings()
        dest = self.on_failure
        for key in ("failures_waiting", "oldest_failure_age_seconds"):
            if key not in asked:
                continue
            if dest is None:
                raise ValueError(f"alarms.{key} needs an on_failure destination to watch")
            if dest.type == "s3":
                raise ValueError(
                    f"alarms.{key} cannot watch an S3 destination: CloudWatch has no count of the "
                    "objects under Lambda's prefix (S3 storage metrics are daily, per bucket); "
                    "`ddbtrigger status` counts them, and exits 3 while any wait"
                )
            if dest.type == "sns" and key == "oldest_failure_age_seconds":
                raise ValueError(
                    f"alarms.{key} watches an SQS destination only (the queue's "
                    "ApproximateAgeOfOldestMessage); this destination is an SNS topic"
                )
            if dest.type == "sns" and not dest.inspect_queue:
                raise ValueError(
                    f"alarms.{key} on an SNS destination counts its inspect_queue: set one (a topic "
                    "holds no messages to count)"
                )
        return self

    @property
    def table_name(self) -> str:
        """The table's name, whether the spec gave a name or an ARN."""
        return self.table.rsplit("/", 1)[-1] if self.table.startswith("arn:") else self.table


class DefaultsSpec(_Model):
    """Settings deep-merged under every trigger. Every key is optional here."""

    stream: dict[str, Any] | None = None
    function: str | None = None
    mapping: dict[str, Any] | None = None
    on_failure: dict[str, Any] | None = None
    alarms: dict[str, Any] | None = None
    lint_ignore: list[LintCode] | None = None


class TriggerOverrideSpec(_Model):
    """A trigger in an environment's ``overrides``: merged into the base trigger of the same name (a new
    name adds a trigger to that environment only, which then needs every required key)."""

    name: str = Field(pattern=TRIGGER_NAME.pattern)
    table: str | None = None
    stream: dict[str, Any] | None = None
    function: str | None = None
    mapping: dict[str, Any] | None = None
    on_failure: dict[str, Any] | None = None
    alarms: dict[str, Any] | None = None
    lint_ignore: list[LintCode] | None = None


class OverridesSpec(_Model):
    """What an environment may change: deep-merged into the spec (the environment's ``region`` is set
    on the environment itself)."""

    defaults: DefaultsSpec | None = None
    triggers: list[TriggerOverrideSpec] | None = None


class EnvironmentSpec(_Model):
    """Where one environment runs, and a guard on which account that is.

    ``account_id`` is a string (a quoted YAML value): unquoted digits are a number, which loses an
    account's leading zeros. ``profile`` omitted means the default credential chain (CI).
    """

    profile: str | None = Field(None, min_length=1)
    region: str = Field(pattern=REGION)
    assume_role: str | None = Field(None, pattern=ROLE_ARN)
    account_id: str | None = Field(None, pattern=ACCOUNT_ID)
    overrides: OverridesSpec | None = None


class Spec(_Model):
    """The whole file (or, once an environment is chosen, that environment's merged spec)."""

    version: Literal[1]
    region: str | None = Field(None, pattern=REGION)
    environments: dict[Annotated[str, Field(pattern=ENV_NAME.pattern)], EnvironmentSpec] | None = None
    defaults: DefaultsSpec | None = None
    triggers: list[TriggerSpec] = Field(min_length=1)
    # Set by the loader for an environment's spec: its name and settings (overrides already merged).
    _environment: tuple[str, EnvironmentSpec] | None = PrivateAttr(default=None)
    # Set by the loader: "FILE:LINE:COL" of a path in the (merged) document, for lint findings.
    _where: Callable[[tuple[str | int, ...]], str | None] | None = PrivateAttr(default=None)

    @property
    def env_name(self) -> str | None:
        """The environment this spec was resolved for (None for a spec without environments)."""
        return self._environment[0] if self._environment is not None else None

    @property
    def environment(self) -> EnvironmentSpec | None:
        """That environment's settings, variables substituted: profile, region, assume_role, account_id."""
        return self._environment[1] if self._environment is not None else None

    def where(self, path: tuple[str | int, ...]) -> str | None:
        """``FILE:LINE:COL`` where ``path`` was written, when the spec came from a file."""
        return self._where(path) if self._where is not None else None

    def select(self, names: list[str] | tuple[str, ...] | None) -> list[TriggerSpec]:
        """The triggers named (all when none is); unknown names are the caller's usage error."""
        if not names:
            return list(self.triggers)
        wanted = set(names)
        return [t for t in self.triggers if t.name in wanted]

    def unknown_triggers(self, names: list[str] | tuple[str, ...] | None) -> list[str]:
        known = {t.name for t in self.triggers}
        return [n for n in (names or []) if n not in known]
