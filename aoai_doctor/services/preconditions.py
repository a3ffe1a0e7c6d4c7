"""What each credential source needs before it can do anything, looked at without azure-identity.

A source whose precondition is absent here (its tool is not on PATH, its variables are not set, its
cache file or package does not exist, the IMDS address does not answer) is "unavailable", and
azure-identity would say so with a fixed text. :func:`absent` returns that text, so the doctor reports
the same message (and so the same cause and fix) without importing azure-identity or building the
credential. Whenever the precondition holds, or cannot be told cheaply, it returns None and the
source is asked for real.

Every message below is azure-identity 1.27.0's own, copied from the module named next to it
(``site-packages/azure/identity``); the conditions are the ones those modules test.
"""

from __future__ import annotations

import os
import platform
import shutil
import socket
import sys
from collections.abc import Mapping
from urllib.parse import urlsplit

from aoai_doctor.record import record
from aoai_doctor.services.environment import cache_folder, home

UNAVAILABLE = "CredentialUnavailableError"

# _credentials/environment.py, EnvironmentCredential.get_token when no group of variables is complete.
ENVIRONMENT_INCOMPLETE = (
    "EnvironmentCredential authentication unavailable. Environment variables are not fully configured.\n"
    "Visit https://aka.ms/azsdk/python/identity/environmentcredential/troubleshoot to troubleshoot this issue."
)
# _constants.py EnvironmentVariables: CLIENT_SECRET_VARS, CERT_VARS, USERNAME_PASSWORD_VARS.
ENVIRONMENT_GROUPS = (
    ("AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_TENANT_ID"),
    ("AZURE_CLIENT_ID", "AZURE_CLIENT_CERTIFICATE_PATH", "AZURE_TENANT_ID"),
    ("AZURE_CLIENT_ID", "AZURE_USERNAME", "AZURE_PASSWORD"),
)
# _credentials/workload_identity.py WORKLOAD_CONFIG_ERROR, raised as ValueError by the constructor with
# ". Missing required arguments: 'tenant_id', 'client_id', 'token_file_path'." (those missing).
WORKLOAD_CONFIG_ERROR = (
    "WorkloadIdentityCredential authentication unavailable. The workload options are not fully "
    "configured. See the troubleshooting guide for more information: "
    "https://aka.ms/azsdk/python/identity/workloadidentitycredential/troubleshoot"
)
# _credentials/imds.py ImdsCredential._request_token, when the probe DefaultAzureCredential makes
# (connection_timeout=1, retry_total=0) gets no answer.
IMDS_NO_RESPONSE = "ManagedIdentityCredential authentication unavailable, no response from the IMDS endpoint."
IMDS_PROBE_TIMEOUT = 1.0
# _internal/shared_token_cache.py NO_ACCOUNTS.
NO_ACCOUNTS = "SharedTokenCacheCredential authentication unavailable. No accounts were found in the cache."
# _credentials/vscode.py VisualStudioCodeCredential.__init__ (no broker package; no auth record).
VSCODE_NO_BROKER = (
    "VisualStudioCodeCredential requires the 'azure-identity-broker' package to be installed. "
    "You must also ensure you have the Azure Resources extension installed and have "
    "signed in to Azure via Visual Studio Code."
)
VSCODE_NOT_SIGNED_IN = (
    "VisualStudioCodeCredential requires the user to be signed in to Azure via Visual Studio Code. "
    "Please ensure you have the Azure Resources extension installed and have signed in."
)
# _credentials/vscode.py VSCODE_AUTH_RECORD_PATHS.
VSCODE_AUTH_RECORDS = (
    (".azure", "ms-azuretools.vscode-azureresourcegroups", "authRecord.json"),
    (".Azure", "ms-azuretools.vscode-azureresourcegroups", "authRecord.json"),
)
# _credentials/azure_cli.py CLI_NOT_FOUND (shutil.which("az"), "az.cmd" first on Windows).
AZ_NOT_FOUND = "Azure CLI not found on path"
# _credentials/azure_powershell.py POWERSHELL_NOT_INSTALLED (the shell's exit code 127; on Windows, pwsh
# then powershell is tried).
POWERSHELL_NOT_INSTALLED = "PowerShell is not installed"
# _credentials/azd_cli.py CLI_NOT_FOUND (shutil.which("azd")); the missing space after "then," is theirs.
AZD_NOT_FOUND = (
    "Azure Developer CLI could not be found. "
    "Please visit https://aka.ms/azure-dev for installation instructions and then,"
    "once installed, authenticate to your Azure account using 'azd auth login'."
)
# _credentials/broker.py BrokerCredential.__init__.
BROKER_NO_PACKAGE = (
    "InteractiveBrowserBrokerCredential unavailable. "
    "The 'azure-identity-broker' package is required to use brokered authentication."
)
BROKER_NOT_WINDOWS = (
    "InteractiveBrowserBrokerCredential unavailable. "
    "Brokered authentication is only supported on Windows and WSL platforms."
)


@record
class Absent:
    """A source's precondition is absent: what azure-identity would raise, without asking it."""

    error_type: str
    """The exception class azure-identity raises (``CredentialUnavailableError``, ``ValueError``)."""
    message: str
    at_construction: bool = False
    """Raised by the credential's constructor rather than by ``get_token``."""


def absent(source: str, environ: Mapping[str, str], connect_timeout: float = IMDS_PROBE_TIMEOUT) -> Absent | None:
    """Why ``source`` is unavailable here, in azure-identity's words, or None when it must be asked.

    ``environ`` must be the process environment azure-identity would read. Only the managed identity's
    IMDS check touches the network: one TCP connect, bounded like DefaultAzureCredential's own probe."""
    check = _CHECKS.get(source)
    return None if check is None else check(environ, connect_timeout)


def _environment(environ: Mapping[str, str], _timeout: float) -> Absent | None:
    if any(all(environ.get(v) is not None for v in group) for group in ENVIRONMENT_GROUPS):
        return None
    return Absent(UNAVAILABLE, ENVIRONMENT_INCOMPLETE)


def _workload(environ: Mapping[str, str], _timeout: float) -> Absent | None:
    missing = [f"'{arg}'" for arg, var in (("tenant_id", "AZURE_TENANT_ID"), ("client_id", "AZURE_CLIENT_ID"),
                                           ("token_file_path", "AZURE_FEDERATED_TOKEN_FILE")) if not environ.get(var)]
    if not missing:
        return None
    return Absent("ValueError", f"{WORKLOAD_CONFIG_ERROR}. Missing required arguments: {', '.join(missing)}.",
                  at_construction=True)


def _managed_identity(environ: Mapping[str, str], timeout: float) -> Absent | None:
    """Only plain IMDS, reached directly: a connect that fails within DefaultAzureCredential's probe
    timeout is its "no response". Anything that answers (or a proxy in the way) is asked for real."""
    from aoai_doctor.services.probe_path import probe_path

    path = probe_path("ManagedIdentityCredential", environ)
    if path is None or path.flavour != "IMDS" or path.proxy is not None:
        return None
    parts = urlsplit(path.url)
    if parts.scheme != "http" or parts.hostname is None:
        return None
    try:
        with socket.create_connection((parts.hostname, parts.port or 80), timeout=min(timeout, IMDS_PROBE_TIMEOUT)):
            return None  # something listens: let ManagedIdentityCredential ask it
    except OSError:
        return Absent(UNAVAILABLE, IMDS_NO_RESPONSE)


def _shared_cache(environ: Mapping[str, str], _timeout: float) -> Absent | None:
    # The cache is msal.cache with the .nocae / .cae suffixes (_constants.py). No file: no account.
    if platform.system() not in {"Darwin", "Linux", "Windows"}:
        return None  # the doctor's own "not supported on this platform" comes from building it
    try:
        names = os.listdir(cache_folder(environ))
    except OSError:
        names = []
    if any(n.startswith("msal.cache") for n in names):
        return None
    return Absent(UNAVAILABLE, NO_ACCOUNTS)


def _vscode(environ: Mapping[str, str], _timeout: float) -> Absent | None:
    if not _broker_installed():
        return Absent(UNAVAILABLE, VSCODE_NO_BROKER)
    if not any(os.path.exists(os.path.join(home(environ), *parts)) for parts in VSCODE_AUTH_RECORDS):
        return Absent(UNAVAILABLE, VSCODE_NOT_SIGNED_IN)
    return None


def _az(environ: Mapping[str, str], _timeout: float) -> Absent | None:
    names = ("az.cmd", "az") if sys.platform.startswith("win") else ("az",)
    return None if _on_path(names, environ) else Absent(UNAVAILABLE, AZ_NOT_FOUND)


def _powershell(environ: Mapping[str, str], _timeout: float) -> Absent | None:
    names = ("pwsh", "powershell") if sys.platform.startswith("win") else ("pwsh",)
    return None if _on_path(names, environ) else Absent(UNAVAILABLE, POWERSHELL_NOT_INSTALLED)


def _azd(environ: Mapping[str, str], _timeout: float) -> Absent | None:
    return None if _on_path(("azd",), environ) else Absent(UNAVAILABLE, AZD_NOT_FOUND)


def _broker(environ: Mapping[str, str], _timeout: float) -> Absent | None:
    if not _broker_installed():
        return Absent(UNAVAILABLE, BROKER_NO_PACKAGE)
    if not (sys.platform.startswith("win") or _is_wsl()):
        return Absent(UNAVAILABLE, BROKER_NOT_WINDOWS)
    return None


_CHECKS = {
    "EnvironmentCredential": _environment,
    "WorkloadIdentityCredential": _workload,
    "ManagedIdentityCredential": _managed_identity,
    "SharedTokenCacheCredential": _shared_cache,
    "VisualStudioCodeCredential": _vscode,
    "AzureCliCredential": _az,
    "AzurePowerShellCredential": _powershell,
    "AzureDeveloperCliCredential": _azd,
    "BrokerCredential": _broker,
}


def _on_path(names: tuple[str, ...], environ: Mapping[str, str]) -> bool:
    path = environ.get("PATH", os.defpath)
    return any(shutil.which(name, path=path) for name in names)


def _broker_installed() -> bool:
    """Whether ``azure.identity.broker`` (the azure-identity-broker package) is there to import
    (_internal/utils.py get_broker_credential), looked for on ``sys.path`` without importing it: finding
    a submodule's spec would import azure.identity first."""
    for entry in sys.path:
        folder = os.path.join(entry or os.curdir, "azure", "identity", "broker")
        if os.path.isfile(os.path.join(folder, "__init__.py")) or os.path.isfile(folder + ".py"):
            return True
    return False


def _is_wsl() -> bool:
    # _internal/utils.py is_wsl: how MSAL checks for WSL.
    uname = platform.uname()
    return uname.system.lower() == "linux" and "microsoft" in uname.release.lower()
