"""Many targets in one run: each ``[[targets]]`` table (``checks.toml``, ``--targets FILE`` or the library's
``targets=``) times its deployments, or every deployment Resource Manager lists (``--all-deployments``).

    fleet = fleet.plan(options, environ)     # None: the options name one target (app.plan's job)
    report = fleet.execute(fleet)            # a FleetReport: one Report per target, in order
    code = fleet.exit_code(report, options)  # the worst target's

What targets have in common is done once. The credential stage depends on the environment and on what the
target asks for (API key or token, the scope, the tenant), so it runs once per distinct identity; the network
stage once per host as well. Each target's own checks (its configuration, the token against its scope, the
test call) run for it, ``options.parallel`` targets at a time.
"""

from __future__ import annotations

import copy
import dataclasses
import threading
import time
from collections.abc import Callable, Hashable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone
from types import TracebackType
from typing import TYPE_CHECKING, Any

from aoai_doctor import app, config
from aoai_doctor._version import __version__
from aoai_doctor.check import Check, CheckContext, Outcome
from aoai_doctor.checks.dataplane import TestCall
from aoai_doctor.config import ConfigError, Deployment, FleetEntry, Target
from aoai_doctor.model import FleetReport, Report, Setting, Stage, Status
from aoai_doctor.options import Options
from aoai_doctor.record import record
from aoai_doctor.redaction import KnownSecrets
from aoai_doctor.services.session import Session

if TYPE_CHECKING:
    from aoai_doctor.services.arm import DeploymentModel

ALL_DEPLOYMENTS_SOURCE = "Resource Manager (--all-deployments)"
_OPTION_KEYS = ("endpoint", "api_version", "auth", "scope", "deployment_kind")
"""The keys of a target table that are also :class:`Options` fields of the same name."""


@record
class Fleet:
    """The targets of one run, planned: one :class:`app.Plan` each, or an endpoint whose deployments are to
    be listed first (``--all-deployments``)."""

    options: Options
    environ: Mapping[str, str]
    plans: tuple[app.Plan, ...]
    """In the order given; a plan with no deployment stands for all of its endpoint's deployments when
    ``options.all_deployments``."""
    secrets: KnownSecrets
    """Every secret any target holds, shared by all of them: what one target obtains is masked in every
    report."""


def entries(options: Options) -> tuple[FleetEntry, ...]:
    """The target tables this run names: given as data, in ``--targets FILE``, or in ``checks.toml`` when no
    target flag names a single target. Raises :class:`ConfigError`."""
    if options.targets:
        return config.fleet_entries(options.targets, "diagnose()")
    if options.targets_file is not None:
        return config.load_targets_file(options.targets_file)
    if options.endpoint or options.deployment:
        return ()
    default = config.find_default("checks.toml") if options.read_cwd else None
    path = options.checks_file or default
    return config.load_checks_file(path, explicit=options.checks_file is not None).targets if path else ()


def plan(options: Options, environ: Mapping[str, str]) -> Fleet | None:
    """One plan per target, or None when the options name a single target. Raises :class:`ConfigError`."""
    tables = entries(options)
    if not tables and not options.all_deployments:
        return None
    if not isinstance(options.parallel, int) or not 1 <= options.parallel <= 64:
        raise ConfigError("--parallel", f"must be a whole number between 1 and 64, not {options.parallel!r}")
    if options.all_deployments and options.deployment:
        raise ConfigError("--all-deployments", "checks every deployment Resource Manager lists; leave out "
                          "--deployment (or leave out --all-deployments to check that one)")
    plans: list[app.Plan] = []
    for entry in tables or (FleetEntry({}, (), ""),):
        given: dict[str, Any] = {key: entry.values[key] for key in _OPTION_KEYS if key in entry.values}
        tenant = entry.values.get("expected_tenant")
        for deployment in entry.deployments or (None,):
            opts = dataclasses.replace(options, **given, expect_tenant=tenant or options.expect_tenant,
                                       deployment=deployment or options.deployment)
            planned = app.plan(opts, environ) if not plans else app.retarget(plans[0], opts, environ)
            target = _labelled(planned.target, entry)
            if options.all_deployments and not entry.deployments:
                target = dataclasses.replace(target, deployments=())  # Resource Manager names them
            plans.append(dataclasses.replace(planned, target=target))
    secrets = KnownSecrets(value for planned in plans for value in planned.secrets.values)
    return Fleet(options, environ, tuple(dataclasses.replace(p, secrets=secrets) for p in plans), secrets)


def _labelled(target: Target, entry: FleetEntry) -> Target:
    """The target with the values its table gave named after the table (``fleet.toml:targets[1].endpoint``)."""
    if not entry.source:
        return target
    named: dict[str, Any] = {name: Setting(setting.value, f"{entry.source}.{name}")
             for name in ("endpoint", "api_version", "auth", "scope", "expected_tenant")
             if name in entry.values and (setting := getattr(target, name)) is not None}
    deployments = tuple(Deployment(d.name, d.kind, f"{entry.source}.deployments") if d.name in entry.deployments
                        else d for d in target.deployments)
    return dataclasses.replace(target, deployments=deployments, **named)


def execute(fleet: Fleet, on_progress: Callable[[str, str], None] | None = None,
            on_total: Callable[[int], None] | None = None) -> FleetReport:
    """Run every target (listing deployments first where asked) and collect their reports. ``on_progress``
    hears ``(target, "start")`` and ``(target, status)`` as each one starts and ends; ``on_total`` how many
    targets there are, once the lists are in."""
    started_at = datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
    t0 = time.monotonic()
    shared = _Shared()
    notify = on_progress or (lambda _target, _event: None)
    expanded: list[app.Plan] = []
    for planned in fleet.plans:
        if fleet.options.all_deployments and not planned.target.deployments:
            expanded += _every_deployment(planned, shared)
        else:
            expanded.append(planned)
    if on_total is not None:
        on_total(len(expanded))

    def run(planned: app.Plan) -> Report:
        endpoint = planned.target.endpoint.value.split("://", 1)[-1] if planned.target.endpoint else ""
        label = f"{endpoint}/{'/'.join(d.name for d in planned.target.deployments) or '(no deployment)'}"
        notify(label, "start")
        report = app.execute(_sharing(planned, shared))
        notify(label, "pass" if report.passed else "fail")
        return report

    pool = ThreadPoolExecutor(max_workers=fleet.options.parallel, thread_name_prefix="target")
    try:
        with Session(maxsize=fleet.options.parallel) as shared.connections:
            reports = list(pool.map(run, expanded))
    finally:  # on Ctrl-C, targets not started are dropped rather than waited for
        pool.shutdown(wait=False, cancel_futures=True)
    return FleetReport(__version__, tuple(reports), started_at, round((time.monotonic() - t0) * 1000, 1))


def exit_code(report: FleetReport, options: Options) -> int:
    """The worst target's exit code: 1 when any target's findings fail it, else 3 when one crashed, else 0."""
    codes = {app.exit_code(r, options) for r in report.reports}
    return next((code for code in (app.EXIT_FINDINGS, app.EXIT_CRASH) if code in codes), app.EXIT_OK)


def _every_deployment(planned: app.Plan, shared: _Shared) -> list[app.Plan]:
    """A plan for each deployment Resource Manager lists for the plan's endpoint, asked with the identity that
    won its credential chain; when they cannot be listed, the plan itself, whose report then says why."""
    from aoai_doctor.facts import endpoint_info
    from aoai_doctor.services import arm, http, identity

    reason = "no endpoint to list the deployments of"
    info = endpoint_info(planned.target)
    if info is not None:
        first_stages = (Stage.CONFIG, Stage.CREDENTIALS)  # the chain, and the configuration checks it needs
        chain = app.execute(_sharing(dataclasses.replace(
            planned, checks=tuple(c for c in planned.checks if Stage.of(c.id) in first_stages)), shared))
        verdict = next((r for r in chain.results if r.check_id == "AOAI210"), None)
        winner = verdict.data.get("winner") if verdict and verdict.status is not Status.FAIL else None
        base = arm.base_url(info.cloud, planned.target.arm_endpoint)
        if planned.target.auth.value == "api-key":
            reason = "an API key cannot list deployments: Resource Manager needs a Microsoft Entra token"
        elif not isinstance(winner, str):
            reason = "no credential source gave a token, so Resource Manager was not asked"
        elif base is None:
            reason = f"{planned.target.arm_endpoint} is not a Resource Manager endpoint"
        else:
            left = planned.options.started + planned.options.deadline - time.monotonic()  # the run's deadline holds
            probe = identity.probe(winner, arm.scope(info.cloud), identity.Bounds(max(0.5, min(5.0, left / 2))),
                                   planned.environ)
            if probe.token is None:
                reason = f"{winner} gave no token for Resource Manager ({arm.scope(info.cloud)})"
            else:
                left = planned.options.started + planned.options.deadline - time.monotonic()
                policy = http.Policy(allow_hosts=planned.target.allow_hosts,
                                     resolve=http.parse_resolve(list(planned.target.resolve)),
                                     timeout=max(0.5, min(30.0, left / 8)))  # three requests, each up to twice this
                planned.secrets.add(probe.token)
                found = arm.deployments(probe.token, base, info.resource_name, policy, planned.environ)
                if not isinstance(found, str):
                    return _listed(planned, found, info.host)
                reason = found
    return [_noted(planned, f"--all-deployments: {reason}")]


def _listed(planned: app.Plan, found: tuple[tuple[str, DeploymentModel], ...], host: str) -> list[app.Plan]:
    """A plan for each listed deployment, called as its model's kind; models the test call cannot exercise
    (images, audio) are named in a note instead."""
    from aoai_doctor.azure.models import kind_of_model

    kinds = {name: kind_of_model(model.name) for name, model in found}
    left_out = [f"{name} ({model.name})" for name, model in found if kinds[name] is None]
    if left_out:
        planned = _noted(planned, "--all-deployments: not called (not a text model): " + ", ".join(left_out))
    plans = [dataclasses.replace(planned, target=dataclasses.replace(
        planned.target, deployments=(Deployment(name, planned.options.deployment_kind or kinds[name],
                                                ALL_DEPLOYMENTS_SOURCE),)))
        for name, _model in found if kinds[name] is not None]
    return plans or [_noted(planned, f"--all-deployments: Resource Manager lists no text deployment on {host}")]


def _noted(planned: app.Plan, note: str) -> app.Plan:
    """The plan with ``note`` among its target's notices: AOAI101 says it, in its error when no deployment
    could be listed."""
    notice = Setting(note, ALL_DEPLOYMENTS_SOURCE)
    return dataclasses.replace(planned, target=dataclasses.replace(planned.target,
                                                                    notices=(*planned.target.notices, notice)))


class _Shared:
    """Outcomes that targets share, each computed once: the first target to need one runs it, the others wait
    for it (a check that raised raises for each of them)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cells: dict[Hashable, _Cell] = {}
        self.connections: Session | None = None
        """Kept connections the targets' test calls share (the first to a host opens one, measured)."""

    def done(self, key: Hashable) -> Outcome | None:
        """The outcome for ``key``, when it has been computed (and did not raise)."""
        with self._lock:
            cell = self._cells.get(key)
        return cell.outcome if cell is not None and cell.ready.is_set() else None

    def once(self, key: Hashable, compute: Callable[[], Outcome]) -> Outcome:
        with self._lock:
            cell = self._cells.get(key)
            first = cell is None
            if cell is None:
                cell = self._cells[key] = _Cell()
        if first:
            try:
                cell.outcome = compute()
            except BaseException as exc:  # handed to every target: each runner reports it as a crash
                cell.error, cell.traceback = exc, exc.__traceback__
            finally:
                cell.ready.set()
        else:
            cell.ready.wait()
        if cell.error is not None:
            raise cell.error if first else _copy(cell.error).with_traceback(cell.traceback)
        assert cell.outcome is not None
        return cell.outcome


def _copy(error: BaseException) -> BaseException:
    """An exception like ``error`` for another target's thread to raise: raising one object in many threads
    would leave on it the traceback of whichever raised it last."""
    try:
        return copy.copy(error)
    except Exception:  # an exception class that cannot be rebuilt from its args
        return RuntimeError(f"{type(error).__name__}: {error}")


@dataclass
class _Cell:
    """One shared check's outcome (or the exception it raised), for every target waiting on it."""

    ready: threading.Event = dataclasses.field(default_factory=threading.Event)
    outcome: Outcome | None = None
    error: BaseException | None = None
    traceback: TracebackType | None = None


def _identity(target: Target) -> Hashable:
    """What the credential stage depends on besides the environment, which every target shares."""
    from aoai_doctor.facts import token_scope

    tenant = target.expected_tenant.value if target.expected_tenant else None
    return target.auth.value, token_scope(target), tenant, target.token is not None


def _host(target: Target) -> Hashable:
    """What the network stage depends on: the host and port, the pins, and the identity (the proxy check
    looks at the credential sources' hosts too)."""
    from aoai_doctor.facts import endpoint_info

    info = endpoint_info(target)
    return (info.host, info.port) if info else None, target.resolve, _identity(target)


_KEYS: Mapping[Stage, Callable[[Target], Hashable]] = {Stage.CREDENTIALS: _identity, Stage.NETWORK: _host}


def _sharing(planned: app.Plan, shared: _Shared) -> app.Plan:
    """The plan with its credential and network checks run through ``shared`` (given outright when an
    earlier target has done them), and its test call on the connections the fleet keeps."""
    checks: list[type[Check]] = []
    given: dict[str, Outcome] = {}
    for check in planned.checks:
        stage = Stage.of(check.id)
        if stage in _KEYS:
            key = (check.id, _KEYS[stage](planned.target))
            done = shared.done(key)
            if done is not None:
                given[check.id] = done
            checks.append(check if done is not None else _once(check, shared, key))
        else:
            checks.append(_pooled(check, shared.connections) if issubclass(check, TestCall) and shared.connections
                          else check)
    return dataclasses.replace(planned, checks=tuple(checks), given=given)


def _pooled(check: type[TestCall], connections: Session) -> type[Check]:
    """The test call on the fleet's kept connections."""
    return _variant(check, pool=connections)


def _once(check: type[Check], shared: _Shared, key: Hashable) -> type[Check]:
    """``check`` whose outcome is computed once per ``key`` for the whole fleet."""
    run = check.run

    def run_once(self: Check, ctx: CheckContext) -> Outcome:
        return shared.once(key, lambda: run(self, ctx))

    return _variant(check, run=run_once)


def _variant(check: type[Check], **attributes: Any) -> type[Check]:
    """A subclass of ``check`` with ``attributes`` changed, named and documented as ``check`` (the runner and
    the reports know it by its id)."""
    return type(check.__name__, (check,), {**attributes, "__module__": check.__module__, "__doc__": check.__doc__,
                                           "__qualname__": check.__qualname__})
