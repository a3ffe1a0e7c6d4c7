"""DefaultAzureCredential's chain, as data: its order, how AZURE_TOKEN_CREDENTIALS and exclusions
shape it, and which source it ends up using given what each source does on its own.

Semantics (azure-identity 1.27): only CredentialUnavailableError moves the chain on; any other
error stops it. Inside DefaultAzureCredential, AzureCliCredential and AzureDeveloperCliCredential
turn their own failures into "unavailable", so the chain goes on past them.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

SOURCES: tuple[str, ...] = (
    "EnvironmentCredential",
    "WorkloadIdentityCredential",
    "ManagedIdentityCredential",
    "SharedTokenCacheCredential",
    "VisualStudioCodeCredential",
    "AzureCliCredential",
    "AzurePowerShellCredential",
    "AzureDeveloperCliCredential",
    "BrokerCredential",
)
DEV: frozenset[str] = frozenset({
    "SharedTokenCacheCredential", "VisualStudioCodeCredential", "AzureCliCredential", "AzurePowerShellCredential",
    "AzureDeveloperCliCredential", "BrokerCredential",
})
PROD: frozenset[str] = frozenset({"EnvironmentCredential", "WorkloadIdentityCredential", "ManagedIdentityCredential"})
# The names AZURE_TOKEN_CREDENTIALS accepts for a single credential (SharedTokenCache and Broker cannot be picked).
SELECTABLE: frozenset[str] = frozenset(SOURCES) - {"SharedTokenCacheCredential", "BrokerCredential"}
# Inside DefaultAzureCredential these report every failure as "unavailable".
SOFT_FAILING_IN_DAC: frozenset[str] = frozenset({"AzureCliCredential", "AzureDeveloperCliCredential"})
VALID_VALUES = ("dev", "prod", *sorted(s.lower() for s in SELECTABLE), "interactivebrowsercredential")


class State(str, enum.Enum):
    """What a source did when asked for a token on its own."""

    SUCCEEDED = "succeeded"
    UNAVAILABLE = "unavailable"
    FAILED = "failed"


class ChainConfigError(ValueError):
    """AZURE_TOKEN_CREDENTIALS holds a value DefaultAzureCredential refuses."""


def chain_order(token_credentials: str | None, excluded: Sequence[str] = ()) -> tuple[str, ...]:
    """The sources DefaultAzureCredential tries, in order, for a value of AZURE_TOKEN_CREDENTIALS."""
    value = (token_credentials or "").strip().lower()
    if value == "dev":
        allowed = set(DEV)
    elif value == "prod":
        allowed = set(PROD)
    elif value:
        match = [s for s in SELECTABLE if s.lower() == value]
        if not match and value != "interactivebrowsercredential":
            raise ChainConfigError(
                f"Invalid value for AZURE_TOKEN_CREDENTIALS: {value}. Valid values are: {', '.join(VALID_VALUES)}.")
        allowed = set(match)
    else:
        allowed = set(SOURCES)
    dropped = {e.lower() for e in excluded}
    return tuple(s for s in SOURCES if s in allowed and s.lower() not in dropped)


@dataclass(frozen=True, slots=True)
class Verdict:
    """Which source DefaultAzureCredential would use, or where it would stop."""

    winner: str | None
    """The source whose token DAC would return."""
    stopped_at: str | None
    """The source whose hard failure ends the chain (nothing after it is tried)."""
    tried: tuple[str, ...]
    """Sources DAC would ask, in order, up to and including the winner or the stopper."""
    hidden: tuple[str, ...]
    """Sources after the stop or the winner that would have produced a token."""


def predict(order: Sequence[str], states: Mapping[str, State]) -> Verdict:
    """Apply the chain's rules to each source's own result."""
    tried: list[str] = []
    for index, source in enumerate(order):
        state = states.get(source, State.UNAVAILABLE)
        tried.append(source)
        if state is State.SUCCEEDED:
            rest = order[index + 1:]
            return Verdict(source, None, tuple(tried), tuple(s for s in rest if states.get(s) is State.SUCCEEDED))
        if state is State.FAILED and source not in SOFT_FAILING_IN_DAC:
            rest = order[index + 1:]
            return Verdict(None, source, tuple(tried), tuple(s for s in rest if states.get(s) is State.SUCCEEDED))
    return Verdict(None, None, tuple(tried), ())
