"""`emulate` works as printed: the variables it exports, evaluated as a shell would (``eval "$(aoai-doctor
emulate --scenario S)"``), make a plain ``aoai-doctor run`` give the same first failing cause as
``aoai-doctor demo --scenario S`` (healthy: exit 0). Real processes, real stand-in.

Every scenario's exports are checked to be variables run reads; the run through real processes is made for
one scenario of each kind of export (client secret, API key, managed identity, a deployment kind, a gateway
key, Resource Manager): what differs from ``demo`` is only how the environment reaches the run, and
tests/test_scenarios.py holds every scenario's verdict."""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from aoai_doctor import config
from aoai_doctor.services.http import STANDIN_MARKER, standin_trusted
from aoai_doctor.standin import scenario_names
from tests.conftest import CLOSED_PORT_URL
from tests.test_scenarios import EXPECTED

# What run reads: its own variables, and what azure-identity and requests read for its probes and calls.
READ = {*config.ENV_ENDPOINT, *config.ENV_DEPLOYMENT, *config.ENV_API_VERSION, *config.ENV_API_KEY, *config.ENV_TOKEN,
        *config.ENV_SCOPE, *config.ENV_AUTH, *config.ENV_DEPLOYMENT_KIND, *config.ENV_GATEWAY_KEY,
        *config.ENV_GATEWAY_KEY_HEADER, *config.ENV_ARM_ENDPOINT, STANDIN_MARKER,
        "AZURE_AUTHORITY_HOST", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_TENANT_ID",
        "AZURE_CLIENT_CERTIFICATE_PATH", "AZURE_FEDERATED_TOKEN_FILE", "AZURE_USERNAME", "HOME", "IDENTITY_ENDPOINT",
        "IDENTITY_HEADER", "MSI_ENDPOINT", "AZURE_POD_IDENTITY_AUTHORITY_HOST", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE"}


def exports(scenario: str, tmp: Path) -> tuple[subprocess.Popen[str], dict[str, str]]:
    """Start `aoai-doctor emulate` and read the variables it exports, as `eval` would set them."""
    proc = subprocess.Popen([sys.executable, "-m", "aoai_doctor", "emulate", "--scenario", scenario],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=tmp)
    assert proc.stdout is not None
    env: dict[str, str] = {}
    deadline = time.monotonic() + 60
    try:
        for line in proc.stdout:
            if line.startswith("export "):
                name, _, value = line[len("export "):].rstrip("\n").partition("=")
                env[name] = shlex.split(value)[0] if value else ""
            elif env and line.startswith("# MSAL"):  # the last line emulate prints before serving
                break
            assert time.monotonic() < deadline
    except BaseException:
        proc.kill()  # never leave a stand-in serving after a failed test
        raise
    return proc, env


# One scenario per kind of exported setting.
THROUGH_PROCESSES = ("healthy", "key-auth-disabled", "mi-not-assigned", "responses-api", "apim-gateway-key-missing",
                     "retired-model", "scope-missing-default")


def test_every_variable_emulate_exports_is_one_run_reads() -> None:
    from aoai_doctor.services.sandbox import doctor_env
    from aoai_doctor.standin import StandIn, load_scenario

    assert set(scenario_names()) == set(EXPECTED)
    for scenario in sorted(EXPECTED):
        with StandIn(load_scenario(scenario)) as standin:  # what emulate prints: cli/emulation.py
            exported = {**standin.client_env(), **doctor_env(standin)}
        assert set(exported) <= READ, (scenario, set(exported) - READ)


@pytest.mark.parametrize("scenario", THROUGH_PROCESSES)
def test_a_plain_run_reproduces_the_scenario(scenario: str, clean_env: Path) -> None:
    proc, exported = exports(scenario, clean_env)
    try:
        assert set(exported) <= READ, set(exported) - READ  # every variable emulate exports is one run reads
        (clean_env / "checks.toml").write_text("[checks.AOAI501]\nread_timeout = 2.0\n")
        env = {**os.environ, **exported, "AZURE_POD_IDENTITY_AUTHORITY_HOST": CLOSED_PORT_URL}
        done = subprocess.run([sys.executable, "-m", "aoai_doctor", "run", "--format", "json"], env=env,
                              cwd=clean_env, capture_output=True, text=True, timeout=120)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    report = json.loads(done.stdout)
    failing = [c for c in report["checks"] if c["status"] in ("fail", "error")]
    expected = EXPECTED[scenario]
    if expected is None:
        assert (done.returncode, failing, report["diagnosis"]["cause"]) == (0, [], None), done.stdout[-2000:]
        return
    cause = expected[1]
    assert done.returncode == 1
    assert report["diagnosis"]["cause"] == cause
    assert cause in [f["cause"] for f in failing[0]["findings"]], failing[0]


def test_eval_of_a_detached_emulate_then_run_in_one_shell(clean_env: Path) -> None:
    script = ('out="$("$PY" -m aoai_doctor emulate --scenario missing-role --detach)" && eval "$out" && '
              '"$PY" -m aoai_doctor run --format json=report.json; echo "exit=$?"; echo "$out" | tail -n 1')
    env = {**os.environ, "PY": sys.executable, "AZURE_POD_IDENTITY_AUTHORITY_HOST": CLOSED_PORT_URL}
    done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, cwd=clean_env, env=env, timeout=120)
    last = done.stdout.strip().splitlines()[-1]  # "# kill PID stops the stand-in."
    assert last.startswith("# kill ") and last.endswith(" stops the stand-in."), done.stdout + done.stderr
    os.kill(int(last.split()[2]), signal.SIGTERM)
    assert "exit=1" in done.stdout, done.stdout + done.stderr
    assert json.loads((clean_env / "report.json").read_text())["diagnosis"]["cause"] == "role_assignment_missing"


def test_a_loopback_endpoint_is_trusted_only_with_the_stand_ins_own_ca(tmp_path: Path) -> None:
    from aoai_doctor.standin.certs import make_tls_material

    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    ca = make_tls_material(tmp_path / "a").ca_path
    other = make_tls_material(tmp_path / "b").ca_path
    import hashlib
    import ssl

    fingerprint = hashlib.sha256(ssl.PEM_cert_to_DER_cert(ca.read_text())).hexdigest()
    env = {"REQUESTS_CA_BUNDLE": str(ca), "AOAI_DOCTOR_STANDIN": fingerprint}
    assert standin_trusted("127.0.0.1", env) and standin_trusted("::1", env)
    assert not standin_trusted("contoso.example.com", env)  # never a host that is not loopback
    assert not standin_trusted("10.0.0.4", env)
    assert not standin_trusted("127.0.0.1", {**env, "REQUESTS_CA_BUNDLE": str(other)})  # another CA
    assert not standin_trusted("127.0.0.1", {"REQUESTS_CA_BUNDLE": str(ca)})  # no marker
    both = tmp_path / "both.pem"
    both.write_text(ca.read_text() + other.read_text())
    assert not standin_trusted("127.0.0.1", {**env, "REQUESTS_CA_BUNDLE": str(both)})  # one CA only
    padded = tmp_path / "padded.pem"  # the stand-in's CA, then far below it another: ssl loads both
    padded.write_text(ca.read_text() + "\n" * 70000 + other.read_text())
    assert not standin_trusted("127.0.0.1", {**env, "REQUESTS_CA_BUNDLE": str(padded)})
    from aoai_doctor.redaction import Secret
    from aoai_doctor.services import http

    # the exception holds for a direct connection only: not through a proxy, not pinned elsewhere
    for policy, extra in ((http.Policy(), {"HTTPS_PROXY": "http://127.0.0.1:9"}),
                          (http.Policy(resolve={("127.0.0.1", 443): "10.0.0.4"}), {})):
        answer = http.send("POST", "https://127.0.0.1/openai/x", body=b"{}", credential=("api-key", Secret("k" * 32)),
                           policy=policy, environ={**env, **extra})
        assert isinstance(answer, http.Failure) and answer.kind == "refused", answer
