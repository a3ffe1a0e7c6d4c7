"""What the machine says about identity: which variables are set (names only), which developer
CLIs are on PATH and signed in, the federated token file, the shared token cache."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from aoai_doctor import phase
from aoai_doctor.azure.jwt import decode_claims
from aoai_doctor.record import record

IDENTITY_VARS: tuple[str, ...] = (
    "AZURE_CLIENT_ID",
    "AZURE_TENANT_ID",
    "AZURE_CLIENT_SECRET",
    "AZURE_CLIENT_CERTIFICATE_PATH",
    "AZURE_CLIENT_CERTIFICATE_PASSWORD",
    "AZURE_CLIENT_SEND_CERTIFICATE_CHAIN",
    "AZURE_USERNAME",
    "AZURE_PASSWORD",
    "AZURE_FEDERATED_TOKEN_FILE",
    "AZURE_AUTHORITY_HOST",
    "AZURE_REGIONAL_AUTHORITY_NAME",
    "AZURE_TOKEN_CREDENTIALS",
    "IDENTITY_ENDPOINT",
    "IDENTITY_HEADER",
    "IDENTITY_SERVER_THUMBPRINT",
    "MSI_ENDPOINT",
    "MSI_SECRET",
    "IMDS_ENDPOINT",
    "AZURE_POD_IDENTITY_AUTHORITY_HOST",
    "AZURE_CONFIG_DIR",
    "AZURE_OPENAI_AD_TOKEN",
)
NETWORK_VARS: tuple[str, ...] = (
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "NO_PROXY",
    "no_proxy",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
    "SSL_CERT_FILE",
)


@record
class Tool:
    """A developer CLI: where it is and what it says about itself."""

    name: str
    path: str | None
    version: str | None = None
    problem: str | None = None
    """Why the version could not be read (timed out, crashed)."""


@record
class AzAccount:
    """``az account show``: who az is signed in as. Never a token."""

    signed_in: bool
    tenant_id: str | None = None
    user: str | None = None
    user_type: str | None = None
    """``user`` or ``servicePrincipal``."""
    subscription: str | None = None
    cloud: str | None = None
    problem: str | None = None


@record
class TokenFile:
    """The federated token file named by AZURE_FEDERATED_TOKEN_FILE."""

    path: str
    readable: bool
    is_jwt: bool = False
    expires_on: int | None = None
    issuer: str | None = None
    subject: str | None = None
    problem: str | None = None


@record
class EnvironmentFacts:
    """Everything AOAI200 reports; published as a fact for the credential checks."""

    set_vars: tuple[str, ...]
    """Names of the identity and network variables that are set (never their values)."""
    tools: tuple[Tool, ...]
    az_account: AzAccount | None
    token_file: TokenFile | None
    shared_cache: tuple[str, ...]
    """MSAL shared token cache files that exist."""


def collect(environ: Mapping[str, str], timeout: float = 5.0) -> EnvironmentFacts:
    """Look at the environment, PATH and the files azure-identity reads."""
    set_vars = tuple(n for n in (*IDENTITY_VARS, *NETWORK_VARS) if environ.get(n, "").strip())
    path = environ.get("PATH", os.defpath)
    tools = (
        _tool("az", path, ["version", "--output", "json"], timeout, _az_version, environ),
        _tool("azd", path, ["version"], timeout, _first_line, environ),
        _tool(
            "pwsh",
            path,
            ["-NoProfile", "-NonInteractive", "-Command", "$PSVersionTable.PSVersion.ToString()"],
            timeout,
            _first_line,
            environ,
        ),
    )
    az = next(t for t in tools if t.name == "az")
    account = _az_account(az.path, timeout, environ) if az.path else None
    token_file = (
        _token_file(environ["AZURE_FEDERATED_TOKEN_FILE"]) if environ.get("AZURE_FEDERATED_TOKEN_FILE") else None
    )
    folder = Path(cache_folder(environ))
    cache = tuple(str(p) for p in (folder / "msal.cache.nocae", folder / "msal.cache") if p.is_file())
    return EnvironmentFacts(set_vars, tools, account, token_file, cache)


def _run(argv: Sequence[str], timeout: float, environ: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    phase.enter(f"running {' '.join(argv[:3])}")
    return subprocess.run(
        list(argv),
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        env={**environ, "AZURE_CORE_NO_COLOR": "true", "NO_COLOR": "true"},
        check=False,
    )


def _tool(  # type: ignore[no-untyped-def]
    name: str, path: str, args: list[str], timeout: float, parse, environ: Mapping[str, str]
) -> Tool:
    found = shutil.which(name, path=path)
    if not found:
        return Tool(name, None)
    try:
        proc = _run([found, *args], timeout, environ)
    except subprocess.TimeoutExpired:
        return Tool(name, found, problem=f"'{name} {args[0]}' did not answer within {timeout:g} s")
    except OSError as exc:
        return Tool(name, found, problem=f"cannot run: {exc.strerror or exc}")
    if proc.returncode != 0:
        return Tool(name, found, problem=f"'{name} {args[0]}' exited {proc.returncode}")
    return Tool(name, found, version=parse(proc.stdout))


def _az_version(stdout: str) -> str | None:
    try:
        data = json.loads(stdout)
    except ValueError:
        return _first_line(stdout)
    value = data.get("azure-cli") if isinstance(data, dict) else None
    return str(value) if value else None


def _first_line(stdout: str) -> str | None:
    line = stdout.strip().splitlines()[0].strip() if stdout.strip() else ""
    return line[:80] or None


def _az_account(az: str, timeout: float, environ: Mapping[str, str]) -> AzAccount:
    try:
        proc = _run([az, "account", "show", "--output", "json"], timeout, environ)
    except subprocess.TimeoutExpired:
        return AzAccount(False, problem=f"'az account show' did not answer within {timeout:g} s")
    except OSError as exc:
        return AzAccount(False, problem=f"cannot run az: {exc.strerror or exc}")
    if proc.returncode != 0:
        first = (proc.stderr.strip().splitlines() or [""])[0][:200]
        return AzAccount(False, problem=first or f"exit {proc.returncode}")
    try:
        data = json.loads(proc.stdout)
    except ValueError:
        return AzAccount(False, problem="'az account show' printed something other than JSON")
    user = data.get("user") if isinstance(data.get("user"), dict) else {}
    return AzAccount(
        True,
        tenant_id=data.get("tenantId"),
        user=user.get("name"),
        user_type=user.get("type"),
        subscription=data.get("name"),
        cloud=data.get("environmentName"),
    )


def _token_file(path: str) -> TokenFile:
    try:
        text = Path(path).read_text(encoding="utf-8").strip()
    except OSError as exc:
        return TokenFile(path, False, problem=exc.strerror or str(exc))
    except UnicodeDecodeError:
        return TokenFile(path, True, problem="not text")
    claims = decode_claims(text)
    if claims is None:
        return TokenFile(path, True)
    exp = claims.get("exp")
    return TokenFile(
        path,
        True,
        True,
        int(exp) if isinstance(exp, (int, float)) else None,
        issuer=claims.get("iss") if isinstance(claims.get("iss"), str) else None,
        subject=claims.get("sub") if isinstance(claims.get("sub"), str) else None,
    )


def cache_folder(environ: Mapping[str, str]) -> str:
    """Where azure-identity keeps its shared token cache (_persistent_cache.py _get_persistence):
    ``%LOCALAPPDATA%\\.IdentityService`` on Windows, else ``~/.IdentityService``."""
    if sys.platform.startswith("win") and environ.get("LOCALAPPDATA"):
        return os.path.join(environ["LOCALAPPDATA"], ".IdentityService")
    return os.path.join(home(environ), ".IdentityService")


def home(environ: Mapping[str, str]) -> str:
    """``~`` as ``os.path.expanduser`` reads it from this environment."""
    given = environ.get("USERPROFILE") if sys.platform.startswith("win") else environ.get("HOME")
    return given or os.path.expanduser("~")
