"""Fixtures for the stand-in tests.

* Every test runs with a clean environment (no Azure/identity/OpenAI variables, ``HOME`` in a temp
  dir) and azure-identity's warning log silenced.
* A loopback guard (a ``sys.addaudithook`` hook, active only during these tests) refuses any
  connection or name lookup that is not loopback, so a mistake fails the test instead of reaching
  a real Azure host.
* ``standin`` starts a :class:`StandIn` for a scenario name, file or object and applies its
  ``client_env()``; ``sealed`` runs Python code in a private network namespace.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import LOOPBACK_GUARD as _GUARD

_PREFIXES = (
    "AZURE_",
    "IDENTITY_",
    "MSI_",
    "IMDS_",
    "OPENAI_",
    "REQUESTS_CA_BUNDLE",
    "SSL_CERT_",
    "CURL_CA_BUNDLE",
)


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """Clean environment, private HOME, quiet azure logging, loopback guard on."""
    for name in list(os.environ):
        if name.startswith(_PREFIXES):
            monkeypatch.delenv(name, raising=False)
    home = tmp_path / "standin-home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
    monkeypatch.setenv("TZ", "UTC")
    azure_logger = logging.getLogger("azure")
    monkeypatch.setattr(azure_logger, "propagate", False)
    handler = logging.NullHandler()
    azure_logger.addHandler(handler)
    _GUARD.active = True
    try:
        yield tmp_path
    finally:
        _GUARD.active = False
        azure_logger.removeHandler(handler)


@pytest.fixture
def scenario_file(tmp_path: Path) -> Callable[[str], Path]:
    """Write a scenario TOML text to a file and return its path."""

    def write(text: str, name: str = "custom.toml") -> Path:
        path = tmp_path / name
        path.write_text(text)
        return path

    return write
