"""aoai-doctor: diagnose Azure OpenAI calls made with Microsoft Entra ID or an API key.

The library API (see docs/library.md)::

    import aoai_doctor

    report = aoai_doctor.diagnose(endpoint="https://NAME.openai.azure.com", deployment="chat",
                                  api_version="2024-10-21", live=False, environ={})
    report.passed                        # no required check failed
    report.results[0].findings[0].cause  # a root-cause id (docs/causes/)
    fleet = aoai_doctor.diagnose(targets=[  # many targets in one run: a FleetReport
        {"endpoint": "https://east.openai.azure.com", "deployments": ["chat", "emb"], "api_version": "2024-10-21"},
        {"endpoint": "https://west.openai.azure.com", "deployment": "chat", "api_version": "2024-10-21"}])
    fleet.reports[1].passed              # one Report per target, in order
    answer = aoai_doctor.explain(exc)      # a caught exception or any error text
    answer.cause, answer.confidence, answer.fix

Importing this package is cheap: the checks, azure-identity and the explain engine load on first use.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, overload

from aoai_doctor._version import __version__
from aoai_doctor.config_files import ConfigError
from aoai_doctor.model import CheckResult, Finding, FleetReport, Report, Severity, Status
from aoai_doctor.snippet import snippet

if TYPE_CHECKING:
    from aoai_doctor.explainer.answer import Explanation
    from aoai_doctor.options import Options

__all__ = [
    "CheckResult",
    "ConfigError",
    "Finding",
    "FleetReport",
    "Report",
    "Severity",
    "Status",
    "__version__",
    "diagnose",
    "explain",
    "snippet",
]


# The return type follows what is asked: one target's Report, or a FleetReport for many. The overloads name
# only the arguments that decide it; the implementation below types and checks every other one.
@overload
def diagnose(*, targets: None = None, all_deployments: Literal[False] = False, **options: Any) -> Report: ...


@overload
def diagnose(*, targets: Sequence[Mapping[str, object]] | str | Path, all_deployments: bool = False,
             **options: Any) -> FleetReport: ...


@overload
def diagnose(*, targets: Sequence[Mapping[str, object]] | str | Path | None = None, all_deployments: Literal[True],
             **options: Any) -> FleetReport: ...


@overload
def diagnose(*, targets: Sequence[Mapping[str, object]] | str | Path | None = None, all_deployments: bool,
             **options: Any) -> Report | FleetReport: ...


def diagnose(
    *,
    targets: Sequence[Mapping[str, object]] | str | Path | None = None,
    all_deployments: bool = False,
    parallel: int = 8,
    environ: Mapping[str, str] | None = None,
    **options: Any,
) -> Report | FleetReport:
    """Run the doctor's checks and return the report. The keyword arguments mirror ``aoai-doctor run``'s
    flags (``allow_hosts`` is ``--allow-host``, ``token`` the text of ``--token-file``); a target value
    left ``None`` comes from ``environ`` (default: the process environment), then ``config_file`` and
    ``checks_file``. Nothing is printed, nothing exits, and the current directory is read only with
    ``read_cwd=True``. ``live=False`` skips the billable test call.

    With ``targets`` (tables as ``[[targets]]`` in checks.toml: ``endpoint``, ``deployment`` or ``deployments``,
    ``api_version``, ``auth``, ``deployment_kind``, ``scope``, ``expected_tenant``; or the path of a file of
    them) or ``all_deployments=True`` it checks many targets in one run, ``parallel`` at a time, and returns a
    :class:`FleetReport`. Without them it checks one target (``[[targets]]`` in ``checks_file`` are left to
    the CLI).

    Raises :class:`ConfigError` (one line naming the source) for a configuration it cannot use.
    """
    from aoai_doctor import app, fleet

    try:
        asked = _options(**options)
    except ValueError as exc:
        raise ConfigError("diagnose()", str(exc)) from None
    env = dict(os.environ if environ is None else environ)
    if targets is None and not all_deployments:
        return app.run_doctor(asked, env)
    file = Path(targets) if isinstance(targets, (str, Path)) else None
    tables = () if isinstance(targets, (str, Path)) or targets is None else tuple(targets)
    asked = dataclasses.replace(asked, targets=tables, targets_file=file, all_deployments=all_deployments,
                                parallel=parallel)
    many = fleet.plan(asked, env)
    if many is None:
        raise ConfigError("diagnose()", "targets names no target")
    return fleet.execute(many)


def _options(
    *,
    endpoint: str | None = None,
    deployment: str | None = None,
    deployment_kind: str | None = None,
    api_version: str | None = None,
    auth: str | None = None,
    scope: str | None = None,
    expect_tenant: str | None = None,
    expect_credential: str | None = None,
    verify_chain: bool | None = None,
    token: str | None = None,
    allow_hosts: Iterable[str] = (),
    resolve: Iterable[str] = (),
    live: bool | None = None,
    repeat: int | None = None,
    concurrency: int | None = None,
    stream: bool | None = None,
    expect_region: str | None = None,
    select: Iterable[str] = (),
    ignore: Iterable[str] = (),
    checks_file: str | Path | None = None,
    config_file: str | Path | None = None,
    env_files: Iterable[str | Path] = (),
    read_cwd: bool = False,
    fail_on: str = "error",
    network_errors: str = "fail",
    redact: str = "standard",
) -> Options:
    """``diagnose``'s keyword arguments as :class:`Options` (a misspelt one is a TypeError, a bad value a
    ValueError)."""
    from aoai_doctor.options import FailOn, NetworkErrors, Options, Redaction
    from aoai_doctor.redaction import Secret

    return Options(
        endpoint=endpoint, deployment=deployment, deployment_kind=deployment_kind, api_version=api_version,
        auth=auth, scope=scope, expect_tenant=expect_tenant, expect_credential=expect_credential,
        verify_chain=verify_chain, token=Secret(token) if token is not None else None,
        token_source="the token argument" if token is not None else None,
        allow_hosts=tuple(allow_hosts), resolve=tuple(resolve), live=live, repeat=repeat,
        concurrency=concurrency, stream=stream, expect_region=expect_region, select=tuple(select),
        ignore=tuple(ignore), checks_file=Path(checks_file) if checks_file else None,
        config_file=Path(config_file) if config_file else None, env_files=tuple(Path(f) for f in env_files),
        read_cwd=read_cwd, fail_on=FailOn(fail_on),
        network_errors=NetworkErrors(network_errors), redaction=Redaction(redact),
    )


def explain(error: str | BaseException) -> Explanation:
    """The root cause and fix of an error: a caught exception (azure-identity's, the openai SDK's,
    azure-core's, requests' …) or any error text. ``.cause``, ``.confidence`` and ``.fix`` hold the
    answer; ``.diagnoses`` the candidates, best first. Never raises."""
    from aoai_doctor.explainer import explain as _explain

    return _explain(error)
