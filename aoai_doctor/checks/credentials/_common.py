"""What the credential checks share: the bound per source, and a source's cause from its own error."""

from __future__ import annotations

import functools
from collections.abc import Mapping

from aoai_doctor.azure.intent import INTENT_VARS
from aoai_doctor.facts import SourceProbe

DEFAULT_BOUND = 5.0

# Sources whose "unavailable" still means something is set up wrong, by cause.
MISCONFIGURED = frozenset(
    {
        "managed_identity_not_assigned",
        "env_credential_incomplete",
        "workload_identity_incomplete",
        "cli_timeout",
        "certificate_invalid",
        "tenant_not_allowed",
    }
)
@functools.lru_cache(maxsize=64)
def diagnose(message: str) -> tuple[str | None, str | None]:
    """Root cause and fix for a credential's error text, from the explain knowledge base."""
    from aoai_doctor.explainer import explain

    best = explain(message).best
    if best.cause in ("other", "not_an_error"):
        return None, None
    return best.cause, best.fix


def probe_cause(probe: SourceProbe, environ: Mapping[str, str] | None = None) -> tuple[str | None, str | None]:
    """Root cause and fix of a source's own error (cached: the source check and the verdict both ask),
    with the client and tenant ids this machine's variables name filled into the fix."""
    cause, fix = diagnose(f"{probe.source}: {probe.error_type}: {probe.message or ''}")
    if fix and environ:
        from aoai_doctor.explainer.fixes import fill

        fix = fill(fix, {"client-id": environ.get("AZURE_CLIENT_ID"), "tenant-id": environ.get("AZURE_TENANT_ID")})
    return cause, fix


def intended(probe: SourceProbe, environ: Mapping[str, str]) -> bool:
    """Whether the variables that show a source is meant to be used are set; for a source without any (a
    tool, a cache), whether what it needs is here at all."""
    names = INTENT_VARS.get(probe.source)
    return not probe.precondition if names is None else any(environ.get(v) for v in names)
