"""aoai-doctor: diagnose Azure OpenAI calls made with Microsoft Entra ID or an API key.

The library API (see docs/library.md)::

    import aoai_doctor

    report = aoai_doctor.diagnose(endpoint="https://NAME.openai.azure.com", deployment="chat",
                                  api_version="2024-10-21", live=False, environ={})
    report.passed                        # no required check failed
    report.results[0].findings[0].cause  # a root-cause id (docs/causes/)
    answer = aoai_doctor.explain(exc)      # a caught exception or any error text
    answer.cause, answer.confidence, answer.fix

Importing this package is cheap: the checks, azure-identity and the explain engine load on first use.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from aoai_doctor._version import __version__
from aoai_doctor.config import ConfigError
from aoai_doctor.model import CheckResult, Finding, Report, Severity, Status
from aoai_doctor.snippet import snippet

if TYPE_CHECKING:
    from aoai_doctor.explainer.answer import Explanation

__all__ = [
    "CheckResult",
    "ConfigError",
    "Finding",
    "Report",
    "Severity",
    "Status",
    "__version__",
    "diagnose",
    "explain",
    "snippet",
]


def diagnose(
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
    read_cwd: bool = False,
    fail_on: str = "error",
    network_errors: str = "fail",
    redact: str = "standard",
    environ: Mapping[str, str] | None = None,
) -> Report:
    """Run the doctor's checks and return the report. The keyword arguments mirror ``aoai-doctor run``'s
    flags (``allow_hosts`` is ``--allow-host``, ``token`` the text of ``--token-file``); a target value
    left ``None`` comes from ``environ`` (default: the process environment), then ``config_file`` and
    ``checks_file``. Nothing is printed, nothing exits, and the current directory is read only with
    ``read_cwd=True``. ``live=False`` skips the billable test call.

    Raises :class:`ConfigError` (one line naming the source) for a configuration it cannot use.
    """
    from aoai_doctor import app
    from aoai_doctor.options import FailOn, NetworkErrors, Options, Redaction
    from aoai_doctor.redaction import Secret

    try:
        options = Options(
            endpoint=endpoint, deployment=deployment, deployment_kind=deployment_kind, api_version=api_version,
            auth=auth, scope=scope, expect_tenant=expect_tenant, expect_credential=expect_credential,
            verify_chain=verify_chain, token=Secret(token) if token is not None else None,
            token_source="the token argument" if token is not None else None,
            allow_hosts=tuple(allow_hosts), resolve=tuple(resolve), live=live, repeat=repeat,
            concurrency=concurrency, stream=stream, expect_region=expect_region, select=tuple(select),
            ignore=tuple(ignore), checks_file=Path(checks_file) if checks_file else None,
            config_file=Path(config_file) if config_file else None, read_cwd=read_cwd, fail_on=FailOn(fail_on),
            network_errors=NetworkErrors(network_errors), redaction=Redaction(redact),
        )
    except ValueError as exc:
        raise ConfigError("diagnose()", str(exc)) from None
    return app.run_doctor(options, dict(os.environ if environ is None else environ))


def explain(error: str | BaseException) -> Explanation:
    """The root cause and fix of an error: a caught exception (azure-identity's, the openai SDK's,
    azure-core's, requests' …) or any error text. ``.cause``, ``.confidence`` and ``.fix`` hold the
    answer; ``.diagnoses`` the candidates, best first. Never raises."""
    from aoai_doctor.explainer import explain as _explain

    return _explain(error)
