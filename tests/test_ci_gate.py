"""The CI gate and the support bundle: reporters on a real run, GitHub integration, exit-code policy,
the report command, strict redaction. Real stand-in, real credentials."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from importlib import metadata
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from click.testing import CliRunner

from aoai_doctor.cli import main
from aoai_doctor.services import support

SCHEMA = json.loads((Path(__file__).resolve().parents[1] / "aoai_doctor" / "reporters" / "report.schema.json")
                    .read_text())


def demo(*args: str, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(main, ["demo", *args], env=env, catch_exceptions=False)


def test_github_actions_run_writes_annotations_summary_junit_and_json(clean_env: Path) -> None:
    summary = clean_env / "summary.md"
    result = demo(
        "--scenario",
        "missing-role",
        "--format",
        "junit",
        "--output",
        "r.xml",
        "--format",
        "json",
        "--output",
        "r.json",
        env={"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary), "CI": "true"},
    )
    assert result.exit_code == 1
    assert re.search(r"^::error title=AOAI501 test-call::401 PermissionDenied", result.output, re.M)
    text = summary.read_text()
    assert text.startswith("## ❌ aoai-doctor") and "role_assignment_missing" in text
    suite = ET.parse(clean_env / "r.xml").getroot().find("testsuite")
    assert suite is not None
    names = [case.get("name") for case in suite.iter("testcase")]
    assert "AOAI501 test-call" in names and "AOAI101 config-present" in names
    failure = next(c for c in suite.iter("testcase") if c.get("name") == "AOAI501 test-call").find("failure")
    assert failure is not None and failure.get("type") == "role_assignment_missing"
    report = json.loads((clean_env / "r.json").read_text())
    jsonschema.validate(report, SCHEMA)
    assert "\x1b[" not in result.output  # CI=true: no colour


def test_expect_credential_passes_and_fails() -> None:
    assert demo("--scenario", "healthy", "--expect-credential", "EnvironmentCredential", "--no-live").exit_code == 0
    result = demo(
        "--scenario", "healthy", "--expect-credential", "WorkloadIdentityCredential", "--no-live", "--format", "json"
    )
    assert result.exit_code == 1
    chain = next(c for c in json.loads(result.output)["checks"] if c["id"] == "AOAI210")
    assert any(f["cause"] == "wrong_identity_selected" for f in chain["findings"])


@pytest.mark.parametrize(
    ("scenario", "args", "checks_toml", "code"),
    [
        ("healthy", (), "", 0),
        ("missing-role", (), "", 1),
        ("missing-role", ("--exit-zero",), "", 0),
        ("missing-role", (), "[checks.AOAI501]\nrequired = false\n", 0),  # an optional check never fails the gate
        ("deployment-not-found", ("--no-live",), "", 0),  # the gpt-4o-mini hint is only a note without the call
        ("service-hangs", (), "[checks.AOAI501]\nread_timeout = 1.0\n", 1),
        ("service-hangs", ("--network-errors", "warn"), "[checks.AOAI501]\nread_timeout = 1.0\n", 0),
        ("healthy", ("--token-file", "missing.jwt"), "", 2),
        ("healthy", ("--format", "json", "--format", "junit"), "", 2),  # two formats on stdout
    ],
)
def test_exit_codes(clean_env: Path, scenario: str, args: tuple[str, ...], checks_toml: str, code: int) -> None:
    if checks_toml:
        (clean_env / "checks.toml").write_text(checks_toml)
        args = (*args, "--checks", "checks.toml")
    assert demo("--scenario", scenario, *args).exit_code == code


def test_fail_on_warning(clean_env: Path) -> None:
    # A warning on a required check: the stray API key next to Entra ID auth (AOAI101).
    env = {"AZURE_OPENAI_API_KEY": "0123456789abcdef0123456789abcdef"}
    (clean_env / "config.json").write_text("{}")
    run = (
        "run",
        "--select",
        "AOAI1",
        "--endpoint",
        "https://res.openai.azure.com",
        "--deployment",
        "d1",
        "--api-version",
        "2024-10-21",
    )
    assert CliRunner().invoke(main, list(run), env=env).exit_code == 0
    assert CliRunner().invoke(main, [*run, "--fail-on", "warning"], env=env).exit_code == 1


def test_a_crashing_required_check_exits_3(clean_env: Path) -> None:
    (clean_env / "boom.py").write_text(
        "from aoai_doctor.check import Check\n"
        "class Boom(Check):\n    id = 'TEAM101'\n    name = 'boom'\n    summary = 'crashes'\n"
        "    def run(self, ctx):\n        raise RuntimeError('kaput')\n"
    )
    (clean_env / "checks.toml").write_text('[plugins]\nchecks = ["boom:Boom"]\n')
    result = CliRunner().invoke(main, ["run", "--select", "TEAM"], catch_exceptions=False)
    assert result.exit_code == 3 and "the check crashed: RuntimeError: kaput" in result.output
    assert "Traceback" not in result.output


def test_report_command_writes_a_support_bundle(clean_env: Path) -> None:
    result = CliRunner().invoke(main, ["report", "--redact", "standard"], env=None, catch_exceptions=False)
    assert result.exit_code == 1  # nothing configured here
    written = list(clean_env.glob("aoai-doctor-report-*.json"))
    assert len(written) == 1 and re.fullmatch(r"aoai-doctor-report-\d{8}T\d{6}Z\.json", written[0].name)
    bundle = json.loads(written[0].read_text())
    jsonschema.validate(bundle, SCHEMA)
    # each version as importlib.metadata reads it (the bundle reads just the metadata's headers)
    assert bundle["environment"]["packages"] == {name: _installed(name) for name in support.PACKAGES}
    assert bundle["environment"]["packages"]["azure-identity"]
    assert "AZURE_POD_IDENTITY_AUTHORITY_HOST" in bundle["environment"]["variables_set"]


def _installed(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def _bundle(*args: str) -> dict[str, Any]:
    result = demo("--scenario", "missing-role", "--format", "json", *args)
    data = json.loads(result.output)
    jsonschema.validate(data, SCHEMA)
    return {c["id"]: c for c in data["checks"]}


def test_bundle_carries_identity_request_ids_and_sts_ids(clean_env: Path) -> None:
    checks = _bundle()
    chain = checks["AOAI210"]["data"]
    assert chain["winner"] == "EnvironmentCredential" and chain["identity"]["object_id"]
    call = checks["AOAI501"]["data"]["calls"][0]
    assert call["status"] == 401 and call["region"] == "East US"
    assert set(call["request_ids"]) >= {"apim-request-id", "x-ms-client-request-id"}
    assert call["timings_ms"]["total"] is not None

    path = clean_env / "bad.toml"
    from aoai_doctor.standin.scenario_toml import _builtin_dir  # the shipped scenarios

    path.write_text(_builtin_dir().joinpath("invalid-secret.toml").read_text())
    result = demo("--scenario", str(path), "--format", "json")
    env = next(c for c in json.loads(result.output)["checks"] if c["id"] == "AOAI201")
    assert env["data"]["aadsts"] == ["7000215"] and re.fullmatch(r"[0-9a-f-]{36}", env["data"]["sts"]["trace_id"])


def test_strict_redaction_masks_ids_users_and_hosts_with_stable_hashes() -> None:
    checks = _bundle("--redact", "strict")
    text = json.dumps(checks)
    assert not re.search(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", text)
    assert "contoso-openai" not in text
    identity = checks["AOAI210"]["data"]["identity"]
    assert re.fullmatch(r"<id:[0-9a-f]{8}>", identity["object_id"])
    # the same object id gets the same tag wherever it appears
    assert identity["object_id"] in checks["AOAI501"]["findings"][0]["fix"]
    assert "Cognitive Services OpenAI User" in checks["AOAI501"]["findings"][0]["fix"]
