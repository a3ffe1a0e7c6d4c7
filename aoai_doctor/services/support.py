"""What a support ticket needs about the machine: versions, platform, and which variables are set.

Names only, never values: the report says that AZURE_CLIENT_SECRET is set, not what it is.
"""

from __future__ import annotations

import functools
import platform
from collections.abc import Mapping
from importlib import metadata
from typing import Any

from aoai_doctor._version import __version__
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
    names = (*TARGET_VARS, *IDENTITY_VARS, *NETWORK_VARS)
    return {
        "tool": {"name": "aoai-doctor", "version": __version__},
        "python": {
            "version": platform.python_version(),
            "implementation": platform.python_implementation(),
        },
        "os": {"system": platform.system(), "release": platform.release(), "machine": platform.machine()},
        "packages": dict(_packages()),
        "variables_set": sorted({n for n in names if environ.get(n, "").strip()}),
    }


@functools.cache
def _packages() -> tuple[tuple[str, str | None], ...]:
    """The installed versions of :data:`PACKAGES`, read once a process (each lookup scans every installed
    distribution; a fleet's reports would repeat it per target)."""
    found: list[tuple[str, str | None]] = []
    for name in PACKAGES:
        try:
            found.append((name, metadata.version(name)))
        except metadata.PackageNotFoundError:
            found.append((name, None))
    return tuple(found)
