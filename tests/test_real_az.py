"""The credential stage against the REAL Azure CLI (``pip install azure-cli``, cached), not the fake ``az``.

* Not signed in, in the normal network namespace with no stand-in running: AOAI206 (AzureCliCredential) is
  skipped as ``unavailable: Please run 'az login' to set up an account`` (azure-identity's rewording of az's
  own ``ERROR: Please run 'az login' to setup account.``), AOAI200 reports az's real version and "not signed
  in", AOAI210 finds no source. Where ``strace`` works, the same run is traced to show that neither the
  doctor nor az connects anywhere but loopback.
* Sealed mode (``unshare -mn``, the ``healthy`` scenario's stand-in on the real Azure host names): a real
  ``az login --service-principal`` with the scenario's app, then the credential stage with the service
  principal variables removed: AOAI206 passes with the app's identity, AOAI200 shows az signed in as that
  service principal, and AOAI210 names AzureCliCredential, both pinned with
  ``AZURE_TOKEN_CREDENTIALS=AzureCliCredential`` and as the plain chain, where ``--verify-chain``'s real
  ``DefaultAzureCredential()`` agrees. No secret or token in any output.

The venv is built once and reused (``$AOAI_DOCTOR_AZ_CACHE``, else ``~/.cache/aoai-doctor/azure-cli-venv``);
see ``tests/real_az.py``. ``AZURE_CONFIG_DIR`` is a fresh temp dir holding no account, only the two settings
that stop az's own version check and telemetry (``prepare_config_dir``). Without PyPI (offline), ``unshare``
or ``strace`` the tests concerned skip with the reason.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from aoai_doctor.standin import load_scenario
from aoai_doctor.standin.sealed import SealedRunner, sealed_unavailable_reason
from tests.real_az import (
    AZ_BIN_ENV,
    AZ_ROOM_CHECKS_TOML,
    DOCTOR_ARGS,
    REPO_ROOT,
    AzureCli,
    AzureCliUnavailable,
    ensure_azure_cli,
    prepare_config_dir,
)

pytestmark = pytest.mark.slow

PYTHON_DIR = str(Path(sys.executable).parent)
NOT_SIGNED_IN = "unavailable: Please run 'az login' to set up an account"


@pytest.fixture(scope="module")
def azure_cli() -> AzureCli:
    """The real az from the cached venv (installed on first use, about a minute); skips when it cannot be had."""
    try:
        return ensure_azure_cli()
    except AzureCliUnavailable as exc:
        pytest.skip(f"real Azure CLI unavailable: {exc}")


def by_id(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["id"]: c for c in report["checks"]}


def not_signed_in_env(azure_cli: AzureCli, tmp_path: Path) -> dict[str, str]:
    """The test's clean environment, with the real az on PATH and a never-signed-in config dir."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([PYTHON_DIR, str(azure_cli.bin_dir), "/usr/bin", "/bin"])
    env["AZURE_CONFIG_DIR"] = str(prepare_config_dir(tmp_path / "azure-config", azure_cli.versions))
    env["PYTHONPATH"] = str(REPO_ROOT)
    return env


def run_doctor(env: dict[str, str], cwd: Path, prefix: list[str] | None = None) -> dict[str, dict[str, Any]]:
    (cwd / "checks.toml").write_text(AZ_ROOM_CHECKS_TOML)
    done = subprocess.run(
        [*(prefix or []), sys.executable, "-m", "aoai_doctor", *DOCTOR_ARGS],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1, f"exit {done.returncode}; stderr: {done.stderr[-2000:]}"
    return by_id(json.loads(done.stdout))


def assert_not_signed_in(checks: dict[str, dict[str, Any]], version: str, config_dir: Path) -> None:
    az = checks["AOAI206"]
    assert az["status"] == "skip", az
    assert az["skip_reason"] == NOT_SIGNED_IN
    env_check = checks["AOAI200"]
    tools = env_check["findings"][0]["detail"]
    assert f"az {version} (not signed in)" in tools, tools
    assert "AZURE_CONFIG_DIR" in env_check["findings"][0]["message"]
    chain = next(f for f in checks["AOAI210"]["findings"] if f["severity"] != "info")
    # the real az, installed but signed out, is the source that was meant (the intent order of AOAI210)
    assert chain["cause"] == "cli_not_logged_in", chain
    assert "the one meant is AzureCliCredential (az is installed but signed out)" in chain["message"], chain
    assert not (config_dir / "msal_token_cache.json").exists()
    profile = json.loads((config_dir / "azureProfile.json").read_text(encoding="utf-8-sig"))
    assert not profile.get("subscriptions"), "az gained an account"


def test_real_az_not_signed_in(azure_cli: AzureCli, tmp_path: Path) -> None:
    env = not_signed_in_env(azure_cli, tmp_path)
    checks = run_doctor(env, tmp_path)
    assert_not_signed_in(checks, azure_cli.version, Path(env["AZURE_CONFIG_DIR"]))


_INET = re.compile(r'inet_addr\("([^"]+)"\)|inet_pton\(AF_INET6?, "([^"]+)"')


def _strace_usable() -> str | None:
    strace = shutil.which("strace")
    if strace is None:
        return "strace is not installed"
    probe = subprocess.run(
        [strace, "-f", "-qq", "--seccomp-bpf", "-e", "trace=connect", "-o", os.devnull, "--", "/bin/true"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    return None if probe.returncode == 0 else f"strace cannot trace here: {probe.stderr.strip()[:200]}"


def test_real_az_not_signed_in_stays_on_loopback(azure_cli: AzureCli, tmp_path: Path) -> None:
    """Every connect/sendto of the doctor and of az (and their children) goes to a loopback address."""
    reason = _strace_usable()
    if reason:
        pytest.skip(reason)
    env = not_signed_in_env(azure_cli, tmp_path)
    trace = tmp_path / "net.trace"
    strace = ["strace", "-f", "-qq", "-s", "512", "--seccomp-bpf", "-e", "trace=connect,sendto,sendmsg,sendmmsg,execve"]
    checks = run_doctor(env, tmp_path, prefix=[*strace, "-o", str(trace), "--"])
    assert_not_signed_in(checks, azure_cli.version, Path(env["AZURE_CONFIG_DIR"]))
    text = trace.read_text(errors="replace")
    assert f'execve("{azure_cli.az}", ["{azure_cli.az}", "account", "get-access-token"' in text, "az ran untraced"
    addresses = [a or b for a, b in _INET.findall(text)]
    # The managed identity probe's closed loopback port shows the trace saw the network calls.
    assert "127.0.0.1" in addresses, "strace recorded no inet connect at all"
    outside = sorted({a for a in addresses if not _loopback(a)})
    assert not outside, f"left loopback: {outside}"


def _loopback(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    mapped = getattr(ip, "ipv4_mapped", None)
    return ip.is_loopback or bool(mapped and mapped.is_loopback)


SEALED_PROGRAM = "from tests.real_az import sealed_main\nraise SystemExit(sealed_main())\n"
_ARM_GAP = re.compile(r"ResourceNotFound|was not found|management\.azure\.com|\b404\b")


def test_real_az_login_in_sealed_mode(azure_cli: AzureCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The namespace set-up needs ip (sbin); az and the doctor get only python dir + az's bin + /usr/bin:/bin.
    monkeypatch.setenv("PATH", os.pathsep.join([PYTHON_DIR, "/usr/sbin", "/usr/bin", "/sbin", "/bin"]))
    reason = sealed_unavailable_reason()
    if reason:
        pytest.skip(f"sealed mode unavailable: {reason}")
    scenario = load_scenario("healthy")
    app = scenario.apps[0]
    tenant = scenario.tenants[0]

    result = SealedRunner(python=sys.executable).run(
        "healthy", SEALED_PROGRAM, env={AZ_BIN_ENV: str(azure_cli.bin_dir)}, timeout=240
    )
    assert result.returncode == 0, result.stderr[-3000:]
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert not out["leaks"], f"a secret or token appeared in: {out['leaks']}"
    assert (out["client_id"], out["tenant_id"]) == (app.client_id, tenant.id)

    login = out["login"]
    if login["returncode"] != 0:
        if _ARM_GAP.search(login["stderr"]):
            pytest.skip(f"az login needs an ARM endpoint the stand-in lacks: {login['stderr'].strip()[-400:]}")
        pytest.fail(f"az login --service-principal exited {login['returncode']}: {login['stderr'][-2000:]}")
    [account] = login["accounts"]
    assert account["user"] == {"name": app.client_id, "type": "servicePrincipal"}
    assert account["tenantId"] == tenant.id
    assert account["id"] == scenario.resource.subscription_id

    identity = f"app {app.client_id} (object id {app.object_id}) in tenant {tenant.id}"
    for name, pin in (("pinned", " (AZURE_TOKEN_CREDENTIALS=AzureCliCredential)"), ("chain", "")):
        run = out["runs"][name]
        assert run["report"] is not None, f"{name}: no JSON report; stderr: {run['stderr']}"
        checks = by_id(run["report"])
        assert run["returncode"] == 0, (name, {k: (c["status"], c["findings"]) for k, c in checks.items()})
        az = checks["AOAI206"]
        assert az["status"] == "pass", (name, az)
        assert az["findings"][0]["message"] == f"token for {identity}"
        tools = checks["AOAI200"]["findings"][0]["detail"]
        assert (
            f"az {azure_cli.version} (signed in as servicePrincipal {app.client_id} in tenant {tenant.id})" in tools
        ), tools
        assert checks["AOAI201"]["status"] == "skip", (name, checks["AOAI201"])
        verdict = checks["AOAI210"]["findings"][0]["message"]
        assert verdict == f"DefaultAzureCredential would use AzureCliCredential{pin}: {identity}", (name, verdict)
    confirmed = [f["message"] for f in by_id(out["runs"]["chain"]["report"])["AOAI210"]["findings"]]
    assert "the real DefaultAzureCredential() agrees: AzureCliCredential" in confirmed, confirmed
