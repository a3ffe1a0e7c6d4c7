"""What a support ticket needs about the machine: versions, platform, and which variables are set.

Names only, never values: the report says that AZURE_CLIENT_SECRET is set, not what it is.
"""

from __future__ import annotations

import contextlib
import platform
from collections.abc import Mapping
from importlib import metadata
from typing import Any

from aoai_doctor import __version__
from aoai_doctor.services.environment import IDENTITY_VARS, NETWORK_VARS

PACKAGES = ("azure-identity", "azure-core", "msal", "msal-extensions", "requests", "openai", "httpx", "certifi")
TARGET_VARS = (
    "AZURE_OPENAI_ENDPOINT",
    "AZURE_OPENAI_DEPLOYMENT",
    "OPENAI_API_VERSION",
    "AZURE_OPENAI_API_VERSION",
    "AZURE_OPENAI_API_KEY",
    "CI",
    "GITHUB_ACTIONS",
    "TF_BUILD",
    "GITLAB_CI",
)


def describe(environ: Mapping[str, str]) -> dict[str, Any]:
    """Tool, Python, OS, installed package versions, and the relevant variables that are set."""
    packages: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            packages[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            packages[name] = None
    names = (*TARGET_VARS, *IDENTITY_VARS, *NETWORK_VARS)
    return {
        "tool": {"name": "aoai-doctor", "version": __version__},
        "python": {
            "version": platform.python_version(),
            "implementation": platform.python_implementation(),
        },
        "os": {"system": platform.system(), "release": platform.release(), "machine": platform.machine()},
        "packages": packages,
        "variables_set": sorted({n for n in names if environ.get(n, "").strip()}),
    }


# Variables whose values are secrets: whatever else happens, these values never reach an output.
SECRET_VARS = (
    "AZURE_CLIENT_SECRET",
    "AZURE_CLIENT_CERTIFICATE_PASSWORD",
    "AZURE_PASSWORD",
    "IDENTITY_HEADER",
    "MSI_SECRET",
    "AZURE_OPENAI_API_KEY",
    "AZURE_OPENAI_AD_TOKEN",
)


def known_secrets(environ: Mapping[str, str], *extra: str | None) -> tuple[str, ...]:
    """The secret values this run holds: secret variables, the federated token file's content, proxy
    passwords, and ``extra`` (a key or token from a config file or --token-file)."""
    from pathlib import Path
    from urllib.parse import unquote, urlsplit

    values = [environ.get(name, "") for name in SECRET_VARS]
    token_file = environ.get("AZURE_FEDERATED_TOKEN_FILE")
    if token_file:
        with contextlib.suppress(OSError):
            values.append(Path(token_file).read_text(encoding="utf-8", errors="replace")[:65536].strip())
    for name, value in environ.items():
        if name.lower().endswith("_proxy") and "@" in value:
            password = urlsplit(value if "://" in value else f"http://{value}").password
            if password:
                values.append(unquote(password))
    values += [v for v in extra if v]
    return tuple(sorted({v.strip() for v in values if len(v.strip()) >= 6}, key=len, reverse=True))
