"""Shared fixtures: every test starts from an empty target environment in its own directory."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

_PREFIXES = ("AZURE_", "OPENAI_", "IDENTITY_", "MSI_", "IMDS_", "GITHUB_", "REQUESTS_CA_BUNDLE", "NO_COLOR")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No Azure/OpenAI variables leak in from the machine, and cwd is an empty temp directory."""
    for name in list(os.environ):
        if name.startswith(_PREFIXES):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path
