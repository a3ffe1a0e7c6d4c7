"""`aoai-doctor snippet` end to end: for every healthy built-in scenario, the doctor runs inside the sealed
stand-in (the real Azure host names, unmodified DefaultAzureCredential sources), each style's program runs
there unmodified, and `--verify` reports what it did.

One sealed namespace (one stand-in) per scenario serves every style: a driver inside it runs the doctor
once through the library, runs each program as a user would (python, or sh for curl), then runs the CLI
once with --verify (a different style per scenario, so every style is verified). The curl style runs the
real curl binary and a fake `az` that answers `az account get-access-token` with the real tool's output
shapes, for the identity `az login --service-principal` would hold.
"""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path
from typing import Any

import pytest

from aoai_doctor.standin import scenario_names
from aoai_doctor.standin.sealed import SealedRunner
from tests.test_scenarios import EXPECTED

STYLES = ("openai", "requests", "curl")
HEALTHY = tuple(sorted(name for name, expected in EXPECTED.items() if expected is None))

# `az account get-access-token` as the real tool answers it: the JSON object, or with --query accessToken
# --output tsv the bare value. The token is the signed-in service principal's, for the --scope asked.
FAKE_AZ = textwrap.dedent(
    '''\
    import json, sys, time
    args = sys.argv[1:]
    if args[:2] != ["account", "get-access-token"]:
        sys.stderr.write(f"ERROR: '{' '.join(args)}' is misspelled or not recognized by the system.\\n")
        sys.exit(2)
    def option(name, default=None):
        return args[args.index(name) + 1] if name in args else default
    from azure.identity import EnvironmentCredential
    token = EnvironmentCredential().get_token(option("--scope"))
    answer = {"accessToken": token.token,
              "expiresOn": time.strftime("%Y-%m-%d %H:%M:%S.000000", time.localtime(token.expires_on)),
              "expires_on": token.expires_on, "subscription": "00000000-0000-0000-0000-0000000000aa",
              "tenant": "contoso", "tokenType": "Bearer"}
    if option("--query") == "accessToken" and option("--output", option("-o")) == "tsv":
        print(answer["accessToken"])
    else:
        print(json.dumps(answer, indent=2))
    '''
)

DRIVER = textwrap.dedent(
    '''\
    import json, os, pathlib, subprocess, sys, tempfile
    from click.testing import CliRunner
    import aoai_doctor
    from aoai_doctor.cli import main

    STYLES, VERIFY, FAKE_AZ = {styles!r}, {verify!r}, {fake_az!r}
    SECRETS = ("AZURE_CLIENT_SECRET", "AZURE_OPENAI_API_KEY", "AOAI_DOCTOR_GATEWAY_KEY", "IDENTITY_HEADER")
    scratch = pathlib.Path(tempfile.mkdtemp())
    (scratch / "bin").mkdir()
    az = scratch / "bin" / "az"
    az.write_text("#!" + sys.executable + "\\n" + FAKE_AZ)
    az.chmod(0o755)
    # curl trusts CURL_CA_BUNDLE as requests trusts REQUESTS_CA_BUNDLE: the stand-in's CA, as a machine's own
    # store trusts Azure's.
    env = {{"PATH": f"{{scratch / 'bin'}}:{{os.environ['PATH']}}", "CURL_CA_BUNDLE": os.environ["REQUESTS_CA_BUNDLE"]}}
    report = aoai_doctor.diagnose(environ=dict(os.environ))
    out = {{"diagnosis": report.diagnosis.summary, "programs": {{}}}}
    for style in STYLES:
        program = aoai_doctor.snippet(report, style)
        ran = {{"program": program,
               "secrets_inline": [n for n in SECRETS if os.environ.get(n) and os.environ[n] in program]}}
        if style != VERIFY:  # the verified style runs under --verify below
            path = scratch / ("program.sh" if style == "curl" else f"program_{{style}}.py")
            path.write_text(program)
            done = subprocess.run(["sh" if style == "curl" else sys.executable, str(path)], env={{**os.environ, **env}},
                                  capture_output=True, text=True, timeout=60)
            ran.update(code=done.returncode, stdout=done.stdout, stderr=done.stderr[-3000:])
        out["programs"][style] = ran
    # The command itself, in this process (one interpreter less): the same doctor run, then the program.
    done = CliRunner().invoke(main, ["snippet", "--style", VERIFY, "--verify"], env=env)
    out["cli"] = {{"code": done.exit_code, "stdout": done.stdout, "stderr": done.stderr[-3000:]}}
    print(json.dumps(out))
    '''
)

# A key-auth resource with an embeddings deployment: the key is read by the variable's name, and the
# embeddings route is proved.
API_KEY_EMBEDDINGS = """
description = "An API key calls an embeddings deployment."

[[tenants]]
name = "contoso"

[resource]
name = "contoso-openai"

[[deployments]]
name = "embed"
model = "text-embedding-3-small"
kind = "embedding"

[client]
credential = "api-key"
deployment = "embed"
api_version = "2024-10-21"
operation = "embedding"
"""


def _drive(sealed: SealedRunner, scenario: str | Path, verify: str, env: dict[str, str]) -> dict[str, Any]:
    code = DRIVER.format(styles=STYLES, verify=verify, fake_az=FAKE_AZ)
    result = sealed.run(scenario, code, env=env, timeout=150)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def _doctor_env(scenario: str) -> dict[str, str]:
    """The doctor's own variables for a scenario whose client calls another route than chat, or uses a key."""
    from aoai_doctor.standin import load_scenario

    client = load_scenario(scenario).client
    env = {}
    if client.operation.value != "chat":
        env["AOAI_DOCTOR_DEPLOYMENT_KIND"] = client.operation.value
    if client.credential.value == "api-key":
        env["AOAI_DOCTOR_AUTH"] = "api-key"
    return env


def test_the_healthy_scenarios_are_the_built_in_ones_that_pass() -> None:
    assert set(HEALTHY) <= set(scenario_names())
    assert {"healthy", "reasoning-model", "responses-api", "v1-api", "foundry-project"} <= set(HEALTHY)


def _answer(kind: str) -> re.Pattern[str]:
    return re.compile(r"^embedding of \d+ dimensions$" if kind == "embedding" else r"^pong$", re.M)


def _check(out: dict[str, Any], verify: str, kind: str) -> None:
    assert out["diagnosis"].startswith("ready: "), out["diagnosis"]
    answer = "embedding of" if kind == "embedding" else "pong"
    for style in STYLES:
        ran = out["programs"][style]
        assert ran["secrets_inline"] == [], style
        if style == verify:
            continue
        assert ran["code"] == 0, f"{style}:\n{ran['program']}\n{ran['stderr']}"
        if style == "curl":  # curl prints the service's JSON answer
            assert ('"embedding"' if kind == "embedding" else '"pong"') in ran["stdout"], ran["stdout"]
        else:
            assert _answer(kind).search(ran["stdout"]), ran["stdout"]
    cli = out["cli"]
    assert cli["code"] == 0, cli["stderr"]
    assert cli["stdout"] == out["programs"][verify]["program"]  # the CLI prints what the library writes
    said = re.search(r"aoai-doctor: verify: the (\w+) program exited 0; the model answered: (.+)", cli["stderr"])
    assert said is not None, cli["stderr"]
    assert said.group(1) == verify
    assert said.group(2).startswith(answer), said.group(2)


@pytest.mark.slow
@pytest.mark.parametrize("scenario", [pytest.param(s, marks=pytest.mark.xdist_group(f"snippet-{s}")) for s in HEALTHY])
def test_every_style_runs_unmodified_in_the_sealed_stand_in(scenario: str, sealed: SealedRunner) -> None:
    # One group per scenario: loadgroup spreads these, the suite's longest tests, over the workers.
    verify = STYLES[HEALTHY.index(scenario) % len(STYLES)]
    out = _drive(sealed, scenario, verify, _doctor_env(scenario))
    _check(out, verify, _doctor_env(scenario).get("AOAI_DOCTOR_DEPLOYMENT_KIND", "chat"))
    program = out["programs"]["openai"]["program"]
    if scenario in ("v1-api", "responses-api", "foundry-project"):
        assert "OpenAI(" in program and "api_key=token_provider" in program and "AzureOpenAI" not in program
    else:
        assert "AzureOpenAI(" in program and "azure_ad_token_provider=token_provider" in program
    scope = "https://ai.azure.com/.default" if scenario == "foundry-project" else \
        "https://cognitiveservices.azure.com/.default"
    for style in STYLES:
        assert scope in out["programs"][style]["program"]


@pytest.mark.slow
@pytest.mark.xdist_group("snippet-api-key")
def test_an_api_key_is_read_by_its_variable_name(sealed: SealedRunner, tmp_path: Path) -> None:
    scenario = tmp_path / "api-key-embeddings.toml"
    scenario.write_text(API_KEY_EMBEDDINGS)
    out = _drive(sealed, scenario, "requests",
                 {"AOAI_DOCTOR_AUTH": "api-key", "AOAI_DOCTOR_DEPLOYMENT_KIND": "embedding"})
    _check(out, "requests", "embedding")
    for style in STYLES:
        program = out["programs"][style]["program"]
        assert "AZURE_OPENAI_API_KEY" in program
        assert "get_bearer_token_provider" not in program and "az account" not in program
