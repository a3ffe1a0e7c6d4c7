"""DefaultAzureCredential's chain, as data: its order, how AZURE_TOKEN_CREDENTIALS and exclusions
shape it, and which source it ends up using given what each source does on its own.

Semantics (azure-identity 1.27): only CredentialUnavailableError moves the chain on; any other
error stops it. Inside DefaultAzureCredential, AzureCliCredential and AzureDeveloperCliCredential
turn their own failures into "unavailable", so the chain goes on past them.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence

from aoai_doctor.record import record


@record
class SourceInfo:
    """One source of DefaultAzureCredential's chain, and what the doctor says about it."""

    name: str
    """The credential class (``EnvironmentCredential``)."""
    check_id: str
    """The check that asks this source alone (``AOAI201``)."""
    check_name: str
    """That check's kebab-case name."""
    exclude: str
    """DefaultAzureCredential's keyword that drops it (``exclude_environment_credential``)."""
    built_as: str
    """How DefaultAzureCredential builds it (the doctor builds it the same way, plus time bounds)."""
    applies_when: str
    """Docs fragment: "… {applies_when} here"."""
    fix: str
    """Docs fragment: the usual fix when it fails."""


SOURCE_TABLE: tuple[SourceInfo, ...] = (
    SourceInfo(
        "EnvironmentCredential", "AOAI201", "environment-credential", "exclude_environment_credential",
        "EnvironmentCredential() reading AZURE_TENANT_ID, AZURE_CLIENT_ID and a secret, certificate or user",
        "is configured (`AZURE_TENANT_ID`, `AZURE_CLIENT_ID` and `AZURE_CLIENT_SECRET` or "
        "`AZURE_CLIENT_CERTIFICATE_PATH`)",
        "Use the secret's value, not its id; create a new one if it expired: `az ad app credential reset --id "
        "<client-id> --append`. Or `unset AZURE_CLIENT_SECRET` when the app should use another identity.",
    ),
    SourceInfo(
        "WorkloadIdentityCredential", "AOAI202", "workload-identity-credential",
        "exclude_workload_identity_credential",
        "WorkloadIdentityCredential(client_id=AZURE_CLIENT_ID, tenant_id=AZURE_TENANT_ID, "
        "token_file_path=AZURE_FEDERATED_TOKEN_FILE)",
        "is configured (`AZURE_TENANT_ID`, `AZURE_CLIENT_ID`, `AZURE_FEDERATED_TOKEN_FILE`)",
        "Add a federated credential whose issuer and subject match the token file: `az ad app federated-credential "
        "create --id <client-id> --parameters credential.json`.",
    ),
    SourceInfo(
        "ManagedIdentityCredential", "AOAI203", "managed-identity-credential", "exclude_managed_identity_credential",
        "ManagedIdentityCredential(client_id=AZURE_CLIENT_ID), which probes IMDS first",
        "has an endpoint (App Service, IMDS, Cloud Shell, Arc, Service Fabric)",
        "Assign the identity to the host (`az webapp identity assign`, `az vm identity assign`), and set "
        "`AZURE_CLIENT_ID` to the client id of a user-assigned identity.",
    ),
    SourceInfo(
        "SharedTokenCacheCredential", "AOAI204", "shared-token-cache-credential",
        "exclude_shared_token_cache_credential",
        "SharedTokenCacheCredential(username=AZURE_USERNAME, tenant_id=AZURE_TENANT_ID), where supported",
        "finds an account in the shared token cache",
        "Sign in again with the tool that wrote the cache (Visual Studio), or exclude the source.",
    ),
    SourceInfo(
        "VisualStudioCodeCredential", "AOAI205", "visual-studio-code-credential",
        "exclude_visual_studio_code_credential",
        "VisualStudioCodeCredential(), which needs azure-identity-broker",
        "is usable (it needs `azure-identity-broker` and the Azure Resources extension)",
        "`pip install azure-identity-broker` and sign in from VS Code, or rely on another source.",
    ),
    SourceInfo(
        "AzureCliCredential", "AOAI206", "azure-cli-credential", "exclude_cli_credential",
        "AzureCliCredential(process_timeout=…), which runs `az account get-access-token`",
        "finds a signed-in `az`",
        "`az login` (with `--tenant <tenant-id>` for the resource's tenant); on a slow machine raise "
        "`process_timeout`.",
    ),
    SourceInfo(
        "AzurePowerShellCredential", "AOAI207", "azure-powershell-credential", "exclude_powershell_credential",
        "AzurePowerShellCredential(process_timeout=…), which runs `pwsh` with Az.Accounts",
        "finds `pwsh` with Az.Accounts signed in",
        "`Connect-AzAccount -Tenant <tenant-id>` in PowerShell.",
    ),
    SourceInfo(
        "AzureDeveloperCliCredential", "AOAI208", "azure-developer-cli-credential",
        "exclude_developer_cli_credential",
        "AzureDeveloperCliCredential(process_timeout=…), which runs `azd auth token`",
        "finds a signed-in `azd`",
        "`azd auth login --tenant-id <tenant-id>`.",
    ),
    SourceInfo(
        "BrokerCredential", "AOAI209", "broker-credential", "exclude_broker_credential",
        "the brokered credential (WAM on Windows, with azure-identity-broker)",
        "is usable (Windows or WSL with `azure-identity-broker`)",
        "Install `azure-identity-broker` on Windows.",
    ),
)
"""The nine sources in DefaultAzureCredential's order (azure-identity 1.27)."""

SOURCES: tuple[str, ...] = tuple(s.name for s in SOURCE_TABLE)
BY_NAME: Mapping[str, SourceInfo] = {s.name: s for s in SOURCE_TABLE}
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

# Sources that turn the scope into a resource (they strip or ignore "/.default"), and those that send it
# to Entra as given (client-credential and refresh-token flows), which then refuse a bare resource.
SCOPE_FORGIVING = ("ManagedIdentityCredential", "AzureCliCredential", "AzurePowerShellCredential")
SCOPE_STRICT = ("EnvironmentCredential", "WorkloadIdentityCredential", "SharedTokenCacheCredential")


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


@record
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
