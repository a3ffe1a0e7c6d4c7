"""The doctor's core: one run from :class:`~aoai_doctor.options.Options` to a
:class:`~aoai_doctor.model.Report`, and the exit-code policy. The CLI and the library API both call it;
it never prints or exits.

    plan = app.plan(options, environ)        # configuration → target, checks, their options (ConfigError)
    report = app.execute(plan)               # the checks, then the gate policies and redaction
    code = app.exit_code(report, options)    # 0, 1 or 3

Exit codes: 0 every required check passed; 1 a required check failed (or warned, with ``--fail-on
warning``); 2 usage or configuration error (the CLI's, from :class:`ConfigError`); 3 a required check
crashed and none failed.
"""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import field
from datetime import datetime, timezone
from pathlib import Path

from aoai_doctor import config, crosscheck, registry, runner
from aoai_doctor._version import __version__
from aoai_doctor.check import Check, Outcome
from aoai_doctor.config import ConfigError, Target
from aoai_doctor.diagnosis import diagnose
from aoai_doctor.model import CheckResult, Report, Severity, Stage, Status
from aoai_doctor.options import NetworkErrors, Options
from aoai_doctor.record import record
from aoai_doctor.redaction import KnownSecrets, redact_report

EXIT_OK, EXIT_FINDINGS, EXIT_CONFIG, EXIT_CRASH = 0, 1, 2, 3

# Causes a flaky runner network can produce on its own.
NETWORK_CAUSES = frozenset({"dns_failure", "connection_failed", "proxy_misconfigured", "service_unavailable"})


@record
class Plan:
    """A run, resolved and validated, before any check runs."""

    options: Options
    environ: Mapping[str, str]
    target: Target
    checks: tuple[type[Check], ...]
    """The selected checks and what they need, in pipeline order."""
    check_options: Mapping[str, Mapping[str, object]]
    load_errors: tuple[registry.LoadError, ...]
    secrets: KnownSecrets
    """Every secret value the run holds; tokens obtained while checks run join it."""
    gating: frozenset[str] | None = None
    """The checks whose results decide the exit code: the selected ones (the checks they need run as
    context only); None: every check."""
    given: Mapping[str, Outcome] = field(default_factory=dict)
    """Outcomes already known, by check id (a fleet's shared stages): those checks are not run again."""
    app_env: config.AppEnvironment | None = None
    """The environment the app's process would see (``.env`` files read), for the next target of a fleet."""


def plan(options: Options, environ: Mapping[str, str]) -> Plan:
    """Read the configuration (flags over environment over ``config.json`` over ``checks.toml``), pick
    the checks and settle their options. Raises :class:`ConfigError` with a one-line message."""
    target, checks_file, app_env = _target(options, environ)
    base_dir = checks_file.path.parent if checks_file.path else None
    reg = registry.load(checks_file.local_checks, base_dir)
    selection = options.select or checks_file.select
    chosen = registry.select(reg, selection, options.ignore or checks_file.ignore)
    gating = frozenset(c.id for c in chosen if registry.matches(c.id, selection)) if selection else None
    check_options = registry.check_options(reg.checks, reg, checks_file.check_options, checks_file.label, options)
    return Plan(options, app_env.environ, target, chosen, check_options, reg.errors, _secrets(target, app_env), gating,
                app_env=app_env)


def retarget(base: Plan, options: Options, environ: Mapping[str, str]) -> Plan:
    """``base`` for the target ``options`` name (a fleet's next one), in the same process ``environ``: the same
    checks and check options, the target resolved anew. Raises :class:`ConfigError`."""
    target, _checks_file, app_env = _target(options, environ, base.app_env)
    return dataclasses.replace(base, options=options, target=target, secrets=_secrets(target, app_env))


def _target(options: Options, environ: Mapping[str, str], app_env: config.AppEnvironment | None = None
            ) -> tuple[Target, config.ChecksFile, config.AppEnvironment]:
    """The target the options name, resolved from every source, and what was read on the way: checks.toml, and
    the environment the app's process would see (``.env`` files below the real environment)."""
    default_checks = config.find_default("checks.toml") if options.read_cwd else None
    checks_file = config.load_checks_file(options.checks_file or default_checks,
                                          explicit=options.checks_file is not None)
    json_path: Path | None = options.config_file or (config.find_default("config.json") if options.read_cwd else None)
    if options.config_file is not None and not options.config_file.exists():
        raise ConfigError(str(options.config_file), "file not found")
    config_json = config.load_config_json(json_path) if json_path else None
    if app_env is None:  # (a fleet's targets share the one their first read)
        app_env = config.load_app_environment(options.env_files, options.read_cwd, environ)
    environ = app_env.environ  # what the app's process would see, .env files included
    target = config.resolve_target(
        config.Overrides(endpoint=options.endpoint, deployment=options.deployment,
                         deployment_kind=options.deployment_kind, api_version=options.api_version,
                         auth=options.auth, scope=options.scope, expected_tenant=options.expect_tenant,
                         token=options.token, token_source=options.token_source,
                         allow_hosts=options.allow_hosts, resolve=options.resolve),
        environ, config_json, checks_file, app_env)
    _check_resolve(target.resolve)
    return target, checks_file, app_env


def _secrets(target: Target, app_env: config.AppEnvironment) -> KnownSecrets:
    return KnownSecrets.of_environment(app_env.environ, *app_env.secrets,
                                       *(s.reveal() if s else None for s in (target.api_key, target.token)))


def execute(plan: Plan, on_progress: runner.ProgressCallback | None = None) -> Report:
    """Run the planned checks and build the report: gate policies applied, every secret removed."""
    started_at = datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
    t0 = time.monotonic()
    facts: list[object] = []

    def seen(published: tuple[object, ...]) -> None:
        plan.secrets.add_from(published)
        facts.extend(published)

    results = runner.run_checks(plan.checks, plan.target, plan.environ, plan.check_options,
                                load_errors=plan.load_errors, on_progress=on_progress, on_facts=seen,
                                until=plan.options.started + plan.options.deadline - REPORT_RESERVE_S,
                                given=plan.given)
    results = crosscheck.apply(results, facts)  # a symptom's root cause, from the check that explains it
    if plan.options.network_errors is NetworkErrors.WARN:
        results = soften_network_errors(results)
    planned = frozenset(c.id for c in plan.checks)
    gating = None if plan.gating is None else plan.gating | {r.check_id for r in results if r.check_id not in planned}
    # A given token (--token-file, or a static AZURE_OPENAI_AD_TOKEN) is the one the call uses: the
    # credential chain is then information only. Load errors still gate.
    results = context_only(results, gating, given_token=plan.target.token is not None)
    from aoai_doctor.services import support

    report = Report(
        tool_version=__version__,
        target=plan.target.settings(),
        results=results,
        started_at=started_at,
        duration_ms=round((time.monotonic() - t0) * 1000, 1),
        sources_read=plan.target.sources_read,
        environment=support.describe(plan.environ),
    )
    report = redact_report(report, plan.options.redaction.value, plan.secrets.values)
    return dataclasses.replace(report, diagnosis=diagnose(report.results, report.target,
                                                          plan.options.fail_on_warning))


def run_doctor(options: Options, environ: Mapping[str, str]) -> Report:
    """Plan and execute one run. Raises :class:`ConfigError` for a configuration it cannot use."""
    return execute(plan(options, environ))


REPORT_RESERVE_S = 0.5
"""Of the run's deadline, the time kept for building and writing the reports."""

_ID = r"\b[A-Z]{2,8}\d{3}\b"


def context_only(results: Sequence[CheckResult], gating: frozenset[str] | None,
                 given_token: bool = False) -> tuple[CheckResult, ...]:
    """Results that do not decide the exit code become optional: with ``--select``, the checks run only
    because a selected one needs them (unless a selected check was skipped for their failure); with a
    given token (``--token-file``, ``AZURE_OPENAI_AD_TOKEN``), the credential chain, which is then
    information only."""
    blocking: set[str] = set()
    if gating is not None:
        for result in results:
            if result.check_id in gating and result.status is Status.SKIP and result.skip_reason:
                blocking.update(re.findall(_ID, result.skip_reason))  # "requires X (X failed)", "… (see X)"

    def gates(result: CheckResult) -> bool:
        if given_token and result.stage is Stage.CREDENTIALS:
            return False
        return gating is None or result.check_id in gating or result.check_id in blocking

    return tuple(r if not r.required or gates(r) else dataclasses.replace(r, required=False) for r in results)


def soften_network_errors(results: Sequence[CheckResult]) -> tuple[CheckResult, ...]:
    """``--network-errors warn``: a check whose every error is a network cause warns instead of failing."""
    out: list[CheckResult] = []
    for result in results:
        errors = [f for f in result.findings if f.severity >= Severity.ERROR]
        if result.status is Status.FAIL and errors and all(f.cause in NETWORK_CAUSES for f in errors):
            findings = tuple(
                dataclasses.replace(f, severity=Severity.WARNING, message=f"{f.message} (--network-errors warn)")
                if f in errors else f
                for f in result.findings
            )
            out.append(dataclasses.replace(result, status=Status.WARN, findings=findings))
        else:
            out.append(result)
    return tuple(out)


def exit_code(report: Report, options: Options) -> int:
    """0 every required check passed; 1 a required check failed (or warned, with ``--fail-on
    warning``); 3 a required check crashed and none failed. ``exit_zero`` makes it 0."""
    if options.exit_zero:
        return EXIT_OK
    failing = [r for r in report.results if r.fails_gate(options.fail_on_warning)]
    if any(r.status in (Status.FAIL, Status.WARN) for r in failing):
        return EXIT_FINDINGS
    if failing:
        return EXIT_CRASH
    return EXIT_OK


def _check_resolve(values: tuple[str, ...]) -> None:
    from aoai_doctor.services.http import ResolveError, parse_resolve

    try:
        table = parse_resolve(list(values))
    except ResolveError as exc:
        raise ConfigError("--resolve", str(exc).split(": ", 1)[1]) from None
    for host, port in table:
        if not 1 <= port <= 65535:
            raise ConfigError("--resolve", f"port {port} for {host} is not a TCP port (1-65535)")
