"""Which credential source was meant, when none of them gets a token.

A support engineer facing "every source is unavailable" does not answer "configure something": they
look for what shows intent and name that source's cause. This module holds the evidence, ranked, as
data. It needs no I/O: each source's own cause (what its error text means, from the knowledge base),
and, when a machine is at hand, its variables. ``explain`` ranks a pasted chain text with the same
order, from the causes alone.

The order, strongest first (docs/checks/AOAI210.md):

1. ``pinned``: it is the only source ``AZURE_TOKEN_CREDENTIALS`` allows.
2. ``configured``: its own variables are set (``AZURE_CLIENT_SECRET`` …, ``AZURE_FEDERATED_TOKEN_FILE``,
   ``IDENTITY_ENDPOINT``/``MSI_ENDPOINT``/``IMDS_ENDPOINT``), or it failed on what was set.
3. ``signed-in``: its tool has an account that Entra refused (tenant, MFA, expired sign-in …).
4. ``installed``: its tool is installed but signed out, or too slow to answer.
5. ``answered``: its endpoint answered (the identity endpoint exists but has no such identity; or
   something else answered in its place: a proxy).
6. ``cached``: its token cache holds an account.

Ties go to the source DefaultAzureCredential tries first.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping

from aoai_doctor.azure.chain import SOURCES
from aoai_doctor.record import record


class Evidence(enum.IntEnum):
    """How strongly a machine shows that a source was meant to be used (higher wins)."""

    CACHED = 1
    ANSWERED = 2
    INSTALLED = 3
    SIGNED_IN = 4
    CONFIGURED = 5
    PINNED = 6

    @property
    def label(self) -> str:
        """``signed-in``."""
        return self.name.lower().replace("_", "-")


# The variables that show a source is meant to be used. AZURE_CLIENT_ID alone shows nothing: every
# identity-based source reads it.
INTENT_VARS: Mapping[str, tuple[str, ...]] = {
    "EnvironmentCredential": ("AZURE_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE_PATH", "AZURE_USERNAME"),
    "WorkloadIdentityCredential": ("AZURE_FEDERATED_TOKEN_FILE",),
    "ManagedIdentityCredential": ("IDENTITY_ENDPOINT", "MSI_ENDPOINT", "IMDS_ENDPOINT"),
}

_TOOLS = {"AzureCliCredential": "az", "AzureDeveloperCliCredential": "azd", "AzurePowerShellCredential": "pwsh"}
# What a source's own cause says about intent.
_BY_CAUSE: Mapping[str, Evidence] = {
    "cli_not_logged_in": Evidence.INSTALLED,
    "cli_timeout": Evidence.INSTALLED,
    "tenant_not_allowed": Evidence.SIGNED_IN,
    "refresh_token_expired": Evidence.SIGNED_IN,
    "mfa_required": Evidence.SIGNED_IN,
    "conditional_access": Evidence.SIGNED_IN,
    "consent_required": Evidence.SIGNED_IN,
    "wrong_tenant": Evidence.SIGNED_IN,
    "token_expired": Evidence.SIGNED_IN,
    "managed_identity_not_assigned": Evidence.ANSWERED,
    "proxy_misconfigured": Evidence.ANSWERED,
    "federated_token_expired": Evidence.CONFIGURED,
    "certificate_invalid": Evidence.CONFIGURED,
    "client_secret_invalid": Evidence.CONFIGURED,
    "client_secret_expired": Evidence.CONFIGURED,
    "app_not_found": Evidence.CONFIGURED,
    "tenant_not_found": Evidence.CONFIGURED,
}
# Causes that say a source is simply not set up here: never evidence of intent. ("not fully configured" is
# also what EnvironmentCredential and WorkloadIdentityCredential say when none of their variables is set:
# their variables decide.)
NOT_SET_UP = frozenset({"cli_not_installed", "managed_identity_unavailable", "not_an_error"})


@record
class Intent:
    """One source's strongest evidence of being meant, and the words for it."""

    source: str
    evidence: Evidence
    why: str


def intent_of(source: str, cause: str | None, environ: Mapping[str, str] | None = None,
              allowed: tuple[str, ...] | None = None) -> Intent | None:
    """The strongest evidence that ``source`` was meant: from ``AZURE_TOKEN_CREDENTIALS`` (``allowed``,
    the sources it leaves), the source's variables (``environ``, when a machine is at hand), and what its
    own error means (``cause``). None when nothing shows intent."""
    found: list[Intent] = []
    if allowed is not None and tuple(allowed) == (source,):
        found.append(Intent(source, Evidence.PINNED, f"AZURE_TOKEN_CREDENTIALS allows only {source}"))
    names = [v for v in INTENT_VARS.get(source, ()) if environ and environ.get(v)]
    if names:
        verb = "is" if len(names) == 1 else "are"
        found.append(Intent(source, Evidence.CONFIGURED, f"{', '.join(names)} {verb} set"))
    tool_cause = cause is not None and cause.startswith("cli_")
    if cause and cause not in NOT_SET_UP and cause in _BY_CAUSE and (source in _TOOLS or not tool_cause):
        evidence = _BY_CAUSE[cause]
        found.append(Intent(source, evidence, _words(source, evidence, cause)))
    elif cause and cause not in NOT_SET_UP and source in _TOOLS:  # it ran, and said something else
        found.append(Intent(source, Evidence.INSTALLED, f"{_TOOLS[source]} is installed and answered"))
    elif cause and cause not in NOT_SET_UP and not tool_cause and source == "SharedTokenCacheCredential":
        # (an empty cache reads as "signed out", a tool cause: no account, no intent)
        found.append(Intent(source, Evidence.CACHED, "the shared token cache holds an account"))
    return max(found, key=lambda i: i.evidence, default=None)


def rank(causes: Iterable[tuple[str, str | None]], environ: Mapping[str, str] | None = None,
         allowed: tuple[str, ...] | None = None) -> list[Intent]:
    """The sources that show intent, most-intended first; ties in DefaultAzureCredential's order."""
    order = {name: i for i, name in enumerate(SOURCES)}
    intents = [i for source, cause in causes if (i := intent_of(source, cause, environ, allowed)) is not None]
    return sorted(intents, key=lambda i: (-i.evidence, order.get(i.source, len(order))))


def _words(source: str, evidence: Evidence, cause: str) -> str:
    tool = _TOOLS.get(source)
    if evidence is Evidence.INSTALLED and tool:
        return f"{tool} is installed" + (" but signed out" if cause == "cli_not_logged_in" else " but did not answer")
    if evidence is Evidence.SIGNED_IN:
        return f"{tool or source} has a signed-in account that Entra ID refused"
    if evidence is Evidence.ANSWERED:
        return ("something other than the identity endpoint answered" if cause == "proxy_misconfigured"
                else "the identity endpoint answered")
    return f"{source} is set up on this machine"
