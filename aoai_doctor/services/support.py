"""What a support ticket needs about the machine: versions, platform, and which variables are set.

Names only, never values: the report says that AZURE_CLIENT_SECRET is set, not what it is.
"""

from __future__ import annotations

import functools
import platform
import threading
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


_reading = threading.Lock()


def _packages() -> tuple[tuple[str, str | None], ...]:
    """The installed versions of :data:`PACKAGES`, read once a process: a fleet's targets finish at once,
    and each would otherwise read them again."""
    with _reading:
        return _read_packages()


@functools.cache
def _read_packages() -> tuple[tuple[str, str | None], ...]:
    return tuple((name, _version(name)) for name in PACKAGES)


def _version(name: str) -> str | None:
    """The installed version of distribution ``name``, or None. Read from the metadata's header lines:
    ``importlib.metadata.version`` parses the whole file (the project's README too) as an email, several
    milliseconds a package."""
    try:
        dist = metadata.distribution(name)
    except metadata.PackageNotFoundError:
        return None
    text = dist.read_text("METADATA") or dist.read_text("PKG-INFO") or ""
    for line in text.split("\n\n", 1)[0].splitlines():  # the headers end at the first blank line
        if line[:1].isspace():  # a folded header's continuation
            continue
        key, _, value = line.partition(":")
        if key.strip().lower() == "version" and value.strip():
            return value.strip()
    return dist.version
