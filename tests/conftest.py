"""Shared fixtures: every test starts from an empty target environment in its own directory."""

from __future__ import annotations

import ipaddress
import os
import shutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from aoai_doctor.standin import Scenario, StandIn, load_scenario, parse_scenario
from aoai_doctor.standin.sealed import SealedRunner, sealed_unavailable_reason
from tests.canary import ExercisedTally

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

_PREFIXES = ("AZURE_", "OPENAI_", "IDENTITY_", "MSI_", "IMDS_", "GITHUB_", "REQUESTS_CA_BUNDLE", "NO_COLOR")


class _LoopbackGuard:
    """Audit hook that rejects non-loopback connects and lookups while ``active``."""

    active = False

    @staticmethod
    def _loopback(host: object) -> bool:
        if isinstance(host, bytes):
            host = host.decode()
        if host in (None, "localhost"):
            return True
        try:
            return ipaddress.ip_address(str(host)).is_loopback
        except ValueError:
            return False

    def __call__(self, event: str, args: tuple[Any, ...]) -> None:
        if not self.active:
            return
        if event == "socket.connect":
            address = args[1]
            if isinstance(address, tuple) and not self._loopback(address[0]):
                raise PermissionError(f"test tried to leave loopback: connect to {address!r}")
        elif event == "socket.getaddrinfo" and not self._loopback(args[0]):
            raise PermissionError(f"test tried to leave loopback: name lookup of {args[0]!r}")


LOOPBACK_GUARD = _LoopbackGuard()
sys.addaudithook(LOOPBACK_GUARD)


def pytest_configure(config: pytest.Config) -> None:
    """The canary tally goes where every test report arrives (an xdist worker passes its reports on)."""
    if not hasattr(config, "workerinput"):
        config.pluginmanager.register(ExercisedTally(), "canary-exercised-tally")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that need the real Azure CLI go first (in their own order): on a cold cache its one-time install
    (about a minute, see tests/real_az.py) then overlaps the rest of the suite, on the other workers, instead
    of trailing it. The order is the same in every xdist worker, as xdist requires."""
    items.sort(key=lambda item: "azure_cli" not in getattr(item, "fixturenames", ()))


# A loopback port nothing listens on: managed identity probes end here instead of 169.254.169.254.
CLOSED_PORT_URL = "http://127.0.0.1:9"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
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
    LOOPBACK_GUARD.active = True
    try:
        yield tmp_path
    finally:
        LOOPBACK_GUARD.active = False


StartStandIn = Callable[..., StandIn]


@pytest.fixture
def standin(monkeypatch: pytest.MonkeyPatch) -> Iterator[StartStandIn]:
    """Start a stand-in for a scenario (a name, a path, a Scenario, or TOML text); apply its client
    environment unless ``env=False``; stop it after the test."""
    started: list[StandIn] = []

    def start(scenario: str | Path | Scenario, *, env: bool = True) -> StandIn:
        if isinstance(scenario, Scenario):
            loaded = scenario
        elif isinstance(scenario, str) and "\n" in scenario:
            loaded = parse_scenario(tomllib.loads(scenario), name="inline", source="inline.toml")
        else:
            loaded = load_scenario(scenario)
        s = StandIn(loaded).start()
        started.append(s)
        if env:
            for key, value in s.client_env().items():
                monkeypatch.setenv(key, value)
        return s

    yield start
    for s in started:
        s.stop()


@pytest.fixture
def sealed() -> SealedRunner:
    """Run code in a private network + mount namespace ("Azure in a box"); skip where impossible."""
    reason = sealed_unavailable_reason()
    if reason:
        pytest.skip(f"sealed mode unavailable: {reason}")
    return SealedRunner(python=sys.executable)


FAKES = Path(__file__).resolve().parent / "fakes"


@pytest.fixture
def tools(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """Put some of the fake developer CLIs on PATH."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")

    def install(*names: str) -> None:
        for name in names:
            shutil.copy2(FAKES / name, bin_dir / name)

    return install
