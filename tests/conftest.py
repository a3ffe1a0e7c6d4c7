"""Shared fixtures: every test starts from an empty target environment in its own directory."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

_PREFIXES = ("AZURE_", "OPENAI_", "IDENTITY_", "MSI_", "IMDS_", "GITHUB_", "REQUESTS_CA_BUNDLE", "NO_COLOR")


# A loopback port nothing listens on: managed identity probes end here instead of 169.254.169.254.
CLOSED_PORT_URL = "http://127.0.0.1:9"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No Azure/OpenAI variables leak in from the machine, cwd and HOME are empty temp directories,
    PATH holds no developer CLI, and the managed-identity endpoint is a closed loopback port, so no
    test ever reaches a real Azure address."""
    for name in list(os.environ):
        if name.startswith(_PREFIXES):
            monkeypatch.delenv(name, raising=False)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("AZURE_POD_IDENTITY_AUTHORITY_HOST", CLOSED_PORT_URL)
    monkeypatch.setenv("PATH", os.pathsep.join([str(Path(sys.executable).parent), "/usr/bin", "/bin"]))
    monkeypatch.chdir(tmp_path)
    return tmp_path
