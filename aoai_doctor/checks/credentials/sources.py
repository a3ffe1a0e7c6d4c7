"""AOAI201–AOAI209: each DefaultAzureCredential source asked for a token on its own, within a bound.

One small class per source, publishing what its source did (:class:`~aoai_doctor.facts.SourceProbe`)
and, for a source that calls an endpoint, where that call went (:class:`~aoai_doctor.facts.ProbePath`).
The table of sources (name, check id, the ``exclude_*`` keyword, how DefaultAzureCredential builds it,
docs fragments) is :data:`aoai_doctor.azure.chain.SOURCE_TABLE`.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from typing import Any, ClassVar

from aoai_doctor.azure.chain import BY_NAME, SourceInfo, State
from aoai_doctor.check import Check, CheckContext, Outcome, finding, ok
from aoai_doctor.checks.credentials._common import DEFAULT_BOUND, MISCONFIGURED, intended, probe_cause
from aoai_doctor.facts import SourceProbe, token_scope
from aoai_doctor.model import Severity
from aoai_doctor.services import identity as creds
from aoai_doctor.services.probe_path import probe_path


class CredentialSource(Check):
    """Base of the per-source checks: ask one source for a token, on its own, within a bound."""

    source: ClassVar[str]
    """The credential class this check asks (``EnvironmentCredential``)."""
    required = False  # the chain verdict (AOAI210) decides whether the run fails
    options: ClassVar[Mapping[str, object]] = {"bound": DEFAULT_BOUND}
    timeout = DEFAULT_BOUND + 10

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        info = BY_NAME[cls.source]
        if (cls.id, cls.name) != (info.check_id, info.check_name):
            raise TypeError(f"{cls.__name__}: {cls.id} {cls.name} disagrees with the source table")
        cls.summary = f"{cls.source} on its own: succeeded, unavailable or failed, and why"

    def run(self, ctx: CheckContext) -> Outcome:
        if ctx.target.auth.value == "api-key":
            return Outcome.skip("auth mode is api-key")
        scope = token_scope(ctx.target)
        bound = creds.Bounds(ctx.seconds_left(float(ctx.options.get("bound", DEFAULT_BOUND))))
        probe = creds.probe(self.source, scope, bound, ctx.environ)
        path = probe_path(self.source, ctx.environ)
        facts: tuple[object, ...] = (probe,) if path is None else (probe, path)
        data = _probe_data(probe)
        if probe.state is State.SUCCEEDED:
            assert probe.identity is not None
            expires = f"; expires in {int((probe.expires_on or 0) - time.time()) // 60} min" if probe.expires_on else ""
            return Outcome(
                (
                    ok(
                        f"token for {probe.identity.describe()}",
                        detail=f"scope {scope}; {probe.elapsed_ms:.0f} ms{expires}",
                    ),
                ),
                facts=facts,
                data=data,
            )
        message = probe.message or probe.error_type or "no message"
        headline = message.splitlines()[0]
        if probe.state is State.UNAVAILABLE:
            # A source nobody set up here is just not available: its cause is looked up (the explain engine,
            # a third of a second to load) only when its variables say it is meant to be used.
            cause, fix = probe_cause(probe, ctx.environ) if intended(probe, ctx.environ) else (None, None)
            if cause in MISCONFIGURED:
                return Outcome(
                    (finding(Severity.WARNING, f"unavailable: {headline}", cause=cause, fix=fix, detail=message),),
                    facts=facts,
                    data=data,
                )
            return Outcome.skip(f"unavailable: {headline}", facts=facts, data=data)
        cause, fix = probe_cause(probe, ctx.environ)
        return Outcome(
            (
                finding(
                    Severity.ERROR,
                    f"failed: {headline}",
                    cause=cause or "other",
                    fix=fix or "read the full message with -v",
                    detail=f"{probe.error_type}: {message}",
                ),
            ),
            facts=facts,
            data=data,
        )


_STS_IDS = re.compile(r"Trace ID: ([0-9a-f-]{36}).{0,40}?Correlation ID: ([0-9a-f-]{36})", re.I | re.S)
_AADSTS = re.compile(r"AADSTS(\d{5,7})")


def _probe_data(probe: SourceProbe) -> dict[str, Any]:
    """The report's view of a probe: state, time, identity, and the STS ids support asks for."""
    data: dict[str, Any] = {"state": probe.state.value, "elapsed_ms": probe.elapsed_ms, "error_type": probe.error_type}
    if probe.identity is not None:
        data["identity"] = probe.identity.as_dict()
        data["expires_on"] = probe.expires_on
    message = probe.message or ""
    if ids := _STS_IDS.search(message):
        data["sts"] = {"trace_id": ids.group(1), "correlation_id": ids.group(2)}
    if codes := sorted(set(_AADSTS.findall(message))):
        data["aadsts"] = codes
    return data


_SOURCE_DOC = """Asks {source} alone for a token for the target's scope, within a hard time bound.

    ## What it detects
    Whether {source} {what} here, and if so whether it gets a token: `succeeded` (with the
    identity from the token's claims: tenant, object id, app id or user, token type),
    `unavailable` (not configured here; normal, shown as skipped) or `failed` (configured and
    broken), with the root cause and the fix. Errors that are not azure-identity's own (a
    `ValueError` from a malformed `expires_on`, a missing token file, an HTML answer) are diagnosed
    too.

    ## Why it matters
    DefaultAzureCredential tries the sources in order and stops at the first hard failure, so one
    broken source hides every source after it. Asking each source on its own shows them all.

    ## How to fix
    {fix}

    ## Options
    `bound` (seconds, default 5): the longest this source may take. HTTP sources get
    `connection_timeout`, `read_timeout` and `retry_total=0`; CLI sources get `process_timeout`.
    """


def _doc(info: SourceInfo) -> str:
    return _SOURCE_DOC.format(source=info.name, what=info.applies_when, fix=info.fix)


class EnvironmentSource(CredentialSource):
    __doc__ = _doc(BY_NAME["EnvironmentCredential"])
    id = "AOAI201"
    name = "environment-credential"
    source = "EnvironmentCredential"


class WorkloadIdentitySource(CredentialSource):
    __doc__ = _doc(BY_NAME["WorkloadIdentityCredential"])
    id = "AOAI202"
    name = "workload-identity-credential"
    source = "WorkloadIdentityCredential"


class ManagedIdentitySource(CredentialSource):
    __doc__ = _doc(BY_NAME["ManagedIdentityCredential"])
    id = "AOAI203"
    name = "managed-identity-credential"
    source = "ManagedIdentityCredential"


class SharedTokenCacheSource(CredentialSource):
    __doc__ = _doc(BY_NAME["SharedTokenCacheCredential"])
    id = "AOAI204"
    name = "shared-token-cache-credential"
    source = "SharedTokenCacheCredential"


class VisualStudioCodeSource(CredentialSource):
    __doc__ = _doc(BY_NAME["VisualStudioCodeCredential"])
    id = "AOAI205"
    name = "visual-studio-code-credential"
    source = "VisualStudioCodeCredential"


class AzureCliSource(CredentialSource):
    __doc__ = _doc(BY_NAME["AzureCliCredential"])
    id = "AOAI206"
    name = "azure-cli-credential"
    source = "AzureCliCredential"


class AzurePowerShellSource(CredentialSource):
    __doc__ = _doc(BY_NAME["AzurePowerShellCredential"])
    id = "AOAI207"
    name = "azure-powershell-credential"
    source = "AzurePowerShellCredential"


class AzureDeveloperCliSource(CredentialSource):
    __doc__ = _doc(BY_NAME["AzureDeveloperCliCredential"])
    id = "AOAI208"
    name = "azure-developer-cli-credential"
    source = "AzureDeveloperCliCredential"


class BrokerSource(CredentialSource):
    __doc__ = _doc(BY_NAME["BrokerCredential"])
    id = "AOAI209"
    name = "broker-credential"
    source = "BrokerCredential"


SOURCE_CHECKS: Mapping[str, type[CredentialSource]] = {
    c.source: c
    for c in (EnvironmentSource, WorkloadIdentitySource, ManagedIdentitySource, SharedTokenCacheSource,
              VisualStudioCodeSource, AzureCliSource, AzurePowerShellSource, AzureDeveloperCliSource, BrokerSource)
}
"""The per-source checks by source name, in chain order."""
