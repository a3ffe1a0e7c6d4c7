"""`aoai-doctor demo` and `aoai-doctor emulate`: the stand-in, started by the product itself."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from aoai_doctor.cli import main


def demo(*args: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    result = CliRunner().invoke(main, ["demo", *args, "--format", "json"], catch_exceptions=False)
    return result.exit_code, {c["id"]: c for c in json.loads(result.output)["checks"]}


def test_default_demo_diagnoses_the_missing_default_scope() -> None:
    before = dict(os.environ)
    code, checks = demo()
    assert code == 1
    chain = checks["AOAI210"]["findings"][0]
    assert chain["cause"] == "scope_missing_default" and "AADSTS1002012" in chain["message"]
    assert "https://cognitiveservices.azure.com/.default" in chain["fix"]
    assert dict(os.environ) == before  # the demo's private environment is gone afterwards


def test_exit_zero_and_text_output() -> None:
    result = CliRunner().invoke(main, ["demo", "--exit-zero"], catch_exceptions=False)
    assert result.exit_code == 0
    lines = result.output.rstrip().splitlines()
    assert "[fail] scope_missing_default  (AOAI210, AOAI201, AOAI301)" in lines
    assert lines[-1].startswith("  2 failed - 1 optional failed - 8 passed - 15 skipped")


def test_healthy_scenario_passes_the_credential_stage() -> None:
    code, checks = demo("--scenario", "healthy")
    assert code == 0
    assert checks["AOAI210"]["findings"][0]["message"].startswith(
        "DefaultAzureCredential would use EnvironmentCredential: app ")


def test_demo_ignores_the_users_own_identity_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_CLIENT_SECRET", "users-own-secret-value")
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", "https://users-own.openai.azure.com")
    code, checks = demo("--scenario", "healthy", "--select", "AOAI1")
    assert code == 0 and "contoso-openai.openai.azure.com" in checks["AOAI102"]["findings"][0]["message"]


def test_demo_reads_no_configuration_from_the_current_directory(clean_env: Path) -> None:
    (clean_env / "config.json").write_text('{"OPENAI_API_BASE": "https://users-own.openai.azure.com"}')
    (clean_env / "checks.toml").write_text("[run]\nselect = [\"AOAI9\"]\n")  # would be a usage error if read
    code, checks = demo("--scenario", "healthy", "--select", "AOAI1")
    assert code == 0 and "contoso-openai.openai.azure.com" in checks["AOAI102"]["findings"][0]["message"]


def test_unknown_scenario_is_a_one_line_usage_error() -> None:
    proc = subprocess.run([sys.executable, "-m", "aoai_doctor", "demo", "--scenario", "no-such-scenario"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and proc.stdout == ""
    assert len(proc.stderr.strip().splitlines()) == 1 and "no-such-scenario" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_emulate_lists_scenarios() -> None:
    result = CliRunner().invoke(main, ["emulate", "--list"], catch_exceptions=False)
    names = [line.split()[0] for line in result.output.splitlines()]
    assert {"healthy", "scope-missing-default", "missing-role", "service-hangs"} <= set(names)


def _free_port_block(size: int = 5) -> int:
    import socket

    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            base = probe.getsockname()[1]
        if base + size >= 65535:
            continue
        try:
            holders = []
            for offset in range(size):
                s = socket.socket()
                holders.append(s)
                s.bind(("127.0.0.1", base + offset))
            return base
        except OSError:
            continue
        finally:
            for s in holders:
                s.close()
    raise RuntimeError("no free block of ports")


def test_emulate_serves_until_stopped_and_prints_exports(tmp_path: Path) -> None:
    base = _free_port_block()
    proc = subprocess.Popen([sys.executable, "-m", "aoai_doctor", "emulate", "--scenario", "healthy",
                             "--port", str(base)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines: list[str] = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = proc.stdout.readline()  # type: ignore[union-attr]
            lines.append(line)
            if line.startswith("# MSAL-based"):
                break
        exports = dict(ln[len("export "):].strip().split("=", 1) for ln in lines if ln.startswith("export "))
        assert exports["AZURE_AUTHORITY_HOST"] == f"https://127.0.0.1:{base}"
        assert exports["AZURE_OPENAI_ENDPOINT"] == f"https://127.0.0.1:{base + 1}"
        assert Path(exports["REQUESTS_CA_BUNDLE"]).is_file()
        import requests

        answer = requests.get(exports["AZURE_AUTHORITY_HOST"] + "/common/discovery/instance", timeout=5,
                              verify=exports["REQUESTS_CA_BUNDLE"])
        assert answer.status_code < 500
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
    assert proc.returncode == 0
