"""A third-party plugin package, installed for real, shows up in `checks` and runs in `run`."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parent / "plugin_example"


@pytest.fixture(scope="module")
def plugin_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example plugin pip-installed into its own directory (no network: no build isolation), built from a
    copy so that the build leaves nothing (build/, *.egg-info) in the checkout."""
    target = tmp_path_factory.mktemp("site")
    build = tmp_path_factory.mktemp("build")
    source = shutil.copytree(EXAMPLE, build / EXAMPLE.name,
                             ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
         "--no-index", "--target", str(target), str(source)],
        capture_output=True, text=True, timeout=300, cwd=build,
    )
    assert proc.returncode == 0, proc.stderr
    assert list(target.glob("aoai_doctor_contoso-*.dist-info"))
    return target


def _doctor(site: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "OPENAI_"))}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(site), env.get("PYTHONPATH", "")]))
    return subprocess.run([sys.executable, "-m", "aoai_doctor", *args], capture_output=True, text=True,
                          env=env, cwd=cwd, timeout=60)


def test_plugin_is_listed(plugin_site: Path, tmp_path: Path) -> None:
    proc = _doctor(plugin_site, tmp_path, "checks")
    assert proc.returncode == 0, proc.stderr
    line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("CTSO101"))
    assert "contoso-gateway-only" in line and "Plugins" in line


def test_plugin_check_runs_with_its_options(plugin_site: Path, tmp_path: Path) -> None:
    common = ("run", "--format", "json", "--deployment", "d1", "--api-version", "2024-10-21")
    proc = _doctor(plugin_site, tmp_path, *common, "--endpoint", "https://res.openai.azure.com")
    assert proc.returncode == 1
    check = next(c for c in json.loads(proc.stdout)["checks"] if c["id"] == "CTSO101")
    assert check["status"] == "fail" and check["stage"] == "plugin"
    assert "bypasses the Contoso gateway" in check["findings"][0]["message"]

    (tmp_path / "checks.toml").write_text('[checks.CTSO101]\ngateway_suffix = ".contoso-gw.azure-api.net"\n')
    proc = _doctor(plugin_site, tmp_path, *common, "--endpoint", "https://team.contoso-gw.azure-api.net/aoai",
                   "--select", "CTSO")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    ids = [c["id"] for c in json.loads(proc.stdout)["checks"]]
    assert ids == ["AOAI102", "CTSO101"]  # selecting the plugin pulls in what it requires
