"""Reading the spec file from disk (the only I/O on the way to a ``Spec``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ddbtrigger.aws.clients import AwsTarget
from ddbtrigger.aws.clients import ClientFactory as ClientFactory  # what commands are handed (cli/options.py)
from ddbtrigger.core.environments import SpecDocument, select_environment, select_environments
from ddbtrigger.core.loader import MAX_SPEC_BYTES, load_document, resolve_environment
from ddbtrigger.core.spec import Spec, TriggerSpec
from ddbtrigger.errors import SpecError, UsageError


def read_spec(path: Path, env: str | None = None) -> Spec:
    """Load and validate the spec at ``path`` (for a spec with environments, environment ``env``);
    every problem becomes a ``SpecError`` line, a missing or unknown environment a ``UsageError``."""
    document = read_document(path)
    return resolve_environment(document, select_environment(document, env))


def read_document(path: Path) -> SpecDocument:
    """The spec file parsed, before an environment is chosen (``validate`` resolves each in turn)."""
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_SPEC_BYTES + 1)
    except FileNotFoundError:
        raise SpecError(
            f"{path}: no such file (write one, or pass -f/--file or set DDBTRIGGER_FILE)"
        ) from None
    except IsADirectoryError:
        raise SpecError(f"{path}: is a directory, not a spec file") from None
    except OSError as e:
        raise SpecError(f"{path}: cannot read: {e.strerror}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise SpecError(
            f"{path}: not UTF-8 text (byte {e.start})",
            details=[f"{path}:1:1: (top level): the file is not UTF-8 text"],
        ) from None
    return load_document(text, str(path))


def select_triggers(spec: Spec, names: list[str] | None) -> list[TriggerSpec]:
    """The triggers ``--trigger`` names (all when none), or a usage error for an unknown name."""
    unknown = spec.unknown_triggers(names)
    if unknown:
        known = ", ".join(t.name for t in spec.triggers)
        raise UsageError(f"no trigger named {', '.join(unknown)} in the spec (known: {known})")
    return spec.select(names)


@dataclass(frozen=True)
class Workspace:
    """What every AWS command starts from: the spec, the triggers it selected, and where to call."""

    spec: Spec
    triggers: list[TriggerSpec]
    factory: ClientFactory
    warnings: tuple[str, ...] = ()
    """What the operator should know about how the triggers were found (spec-less targeting)."""

    @property
    def env(self) -> str | None:
        """The environment's name (None for a spec without environments)."""
        return self.spec.env_name


def connect(profile: str | None, region: str | None, endpoint_url: str | None) -> ClientFactory:
    """Where a command without a spec (``export``, ``audit``) calls AWS: exactly the command line's."""
    return ClientFactory(AwsTarget(profile, region, endpoint_url))


def target_for(spec: Spec, base: AwsTarget) -> AwsTarget:
    """Where to call AWS for ``spec``: the command line's ``base`` first (``--profile``/``--region``
    win), then the environment's profile, region, role and account guard, then the spec's region."""
    env = spec.environment
    if env is not None and spec.env_name is not None:
        base = base.with_environment(
            spec.env_name,
            profile=env.profile,
            region=env.region,
            assume_role=env.assume_role,
            account_id=env.account_id,
        )
    return base.with_default_region(spec.region)


def open_workspace(
    path: Path,
    names: list[str] | None,
    *,
    env: str | None = None,
    profile: str | None,
    region: str | None,
    endpoint_url: str | None,
) -> Workspace:
    """Read the spec (environment ``env``), select ``--trigger`` names, and aim a client factory."""
    return _open(read_spec(path, env), names, AwsTarget(profile, region, endpoint_url))


def open_workspaces(
    path: Path,
    names: list[str] | None,
    *,
    env: str | None,
    profile: str | None,
    region: str | None,
    endpoint_url: str | None,
) -> list[Workspace]:
    """``open_workspace`` for every environment ``env`` names (``all``: each declared one, in the
    file's order; a spec without environments: the one spec), each with its own client factory. Every
    environment is resolved before any is used, so one bad name or trigger stops them all."""
    document = read_document(path)
    base = AwsTarget(profile, region, endpoint_url)
    return [
        _open(resolve_environment(document, name), names, base) for name in select_environments(document, env)
    ]


def open_live_workspace(
    *,
    mapping: str | None,
    table: str | None,
    function: str | None,
    profile: str | None,
    region: str | None,
    endpoint_url: str | None,
) -> Workspace:
    """A workspace without a spec file: the trigger(s) of ``--mapping UUID`` or ``--table T
    [--function F]``, read from the live mapping(s) as ``export`` reads them, on the command line's
    connection."""
    from ddbtrigger.usecases.export import live_spec

    factory = connect(profile, region, endpoint_url)
    spec, warnings = live_spec(factory, mapping=mapping, table=table, function=function)
    return Workspace(spec, spec.triggers, factory, tuple(warnings))


def export_connection(
    path: Path, env: str, *, profile: str | None, region: str | None, endpoint_url: str | None
) -> tuple[ClientFactory, dict[str, Any]]:
    """Where ``export --env NAME`` reads, and the ``environments:`` entry it writes for NAME.

    When the spec file exists it must declare NAME: its profile, region, role and account guard are
    used (``--profile``/``--region`` still win) and carried into the entry (not its ``overrides``: the
    exported values are already the environment's). Without a spec file (a first export), NAME is
    the command line's connection: its profile (if any) and region."""
    from ddbtrigger.core.spec import ALL_ENVIRONMENTS, ENV_NAME

    base = AwsTarget(profile, region, endpoint_url)
    if path.exists():
        spec = read_spec(path, env)
        if spec.environment is None:  # read_spec refuses --env for a spec without environments
            raise UsageError(f"--env {env}: {path} declares no environments")
        factory = ClientFactory(target_for(spec, base))
        entry = spec.environment.model_dump(exclude_none=True, exclude={"overrides"})
    else:
        if env == ALL_ENVIRONMENTS or not ENV_NAME.match(env):
            raise UsageError(f"--env {env}: an environment is named like dev or prod-eu (a-z, 0-9, -)")
        factory = ClientFactory(base)
        entry = {"profile": profile} if profile else {}
    target = factory.target
    entry.update({"region": factory.region, **({"profile": target.profile} if target.profile else {})})
    return factory, entry


def _open(spec: Spec, names: list[str] | None, base: AwsTarget) -> Workspace:
    return Workspace(spec, select_triggers(spec, names), ClientFactory(target_for(spec, base)))
