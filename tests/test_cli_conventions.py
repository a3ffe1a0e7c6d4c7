"""Command-line conventions: where reports go (``--output -``, ``--format FMT=FILE``, extensions), a log
line when every report goes to a file, ``report``'s flags, ASCII in CI, colour switches, Ctrl-C, and
what decides the exit code with ``--select`` and ``--token-file``. Real processes, the real stand-in."""

from __future__ import annotations

import base64
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from aoai_doctor.cli import main
from aoai_doctor.cli.run import color_wanted

OFFLINE = ["run", "--select", "AOAI1", "--endpoint", "https://contoso-openai.openai.azure.com",
           "--deployment", "chat", "--api-version", "2024-10-21"]


def invoke(*args: str, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def test_output_dash_is_standard_output(clean_env: Path) -> None:
    result = invoke(*OFFLINE, "--format", "json", "--output", "-")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["diagnosis"]["cause"] is None
    assert not (clean_env / "-").exists()


def test_format_equals_file_and_extensions(clean_env: Path) -> None:
    result = invoke(*OFFLINE, "--format", "junit=out.xml", "--format", "json=-", "--output", "notes.md")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["summary"]["passed"] is True
    assert (clean_env / "out.xml").read_text().startswith("<?xml")
    assert (clean_env / "notes.md").read_text().startswith("## ")


def test_a_format_that_contradicts_its_file_is_a_usage_error(clean_env: Path) -> None:
    result = invoke(*OFFLINE, "--format", "json", "--output", "report.xml")
    assert result.exit_code == 2
    assert result.output.strip().splitlines()[-1] == ("aoai-doctor: error: --output: report.xml looks like junit, but "
                                                     "its --format is json; write --format json=report.xml to mean it")
    assert invoke(*OFFLINE, "--output", "report.unknown").exit_code == 2
    assert invoke(*OFFLINE, "--format", "yaml").exit_code == 2


def test_when_every_report_goes_to_a_file_one_line_goes_to_stderr(clean_env: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "aoai_doctor", *OFFLINE[:-1], "preview-2099-01-01",
                           "--format", "json=r.json", "--format", "junit=r.xml"],
                          capture_output=True, text=True, cwd=clean_env, timeout=60)
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr.startswith("aoai-doctor: api_version_invalid: ")
    assert proc.stderr.rstrip().endswith("wrote r.json, r.xml") and proc.stderr.count("\n") == 1


def test_report_honours_format_and_output(clean_env: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "aoai_doctor", "report", *OFFLINE[1:], "--format", "markdown=r.md"],
                          capture_output=True, text=True, cwd=clean_env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert (clean_env / "r.md").read_text().startswith("## ")
    assert "attach r.md to your support request" in proc.stderr
    assert list(clean_env.glob("aoai-doctor-report-*.json")) == []
    proc = subprocess.run([sys.executable, "-m", "aoai_doctor", "report", *OFFLINE[1:]], capture_output=True,
                          text=True, cwd=clean_env, timeout=60)
    (bundle,) = clean_env.glob("aoai-doctor-report-*.json")
    assert f"attach {bundle.name}" in proc.stderr and json.loads(bundle.read_text())["schema_version"] == 1


def test_ci_output_is_pure_ascii(clean_env: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "aoai_doctor", "demo", "--ci", "--exit-zero"], capture_output=True,
                          cwd=clean_env, timeout=120)
    assert proc.returncode == 0
    assert proc.stdout and all(byte < 128 for byte in proc.stdout + proc.stderr)
    assert b"[fail] scope_missing_default" in proc.stdout


@pytest.mark.parametrize(("choice", "environ", "tty", "wanted"), [
    ("auto", {}, True, True),
    ("auto", {}, False, False),
    ("auto", {"NO_COLOR": "1"}, True, False),
    ("auto", {"NO_COLOR": ""}, True, True),  # an empty NO_COLOR counts as unset
    ("auto", {"FORCE_COLOR": "1"}, False, True),
    ("auto", {"FORCE_COLOR": ""}, False, False),
    ("always", {"NO_COLOR": "1"}, False, True),
    ("never", {"FORCE_COLOR": "1"}, True, False),
])
def test_colour_switches(choice: str, environ: dict[str, str], tty: bool, wanted: bool) -> None:
    assert color_wanted(choice, environ, tty) is wanted


def test_colour_through_the_cli(clean_env: Path) -> None:
    assert "\x1b[" in invoke(*OFFLINE, "--color", "always").stdout
    assert "\x1b[" in invoke(*OFFLINE, env={"FORCE_COLOR": "1"}).stdout
    assert "\x1b[" not in invoke(*OFFLINE, "--ci").stdout
    assert "\x1b[" not in invoke(*OFFLINE).stdout


def test_ctrl_c_ends_a_run_with_130_and_one_line(clean_env: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "aoai_doctor", "demo", "--scenario", "service-hangs"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=clean_env)
    time.sleep(4)  # the stand-in is up and the test call is waiting on the hanging service
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130
    assert err.strip().splitlines() == ["aoai-doctor: interrupted"]
    assert "Traceback" not in out + err


def test_select_runs_what_it_needs_as_context_only(clean_env: Path) -> None:
    def demo(*args: str) -> tuple[int, dict[str, dict]]:  # type: ignore[type-arg]
        result = invoke("demo", "--scenario", "expired-secret", "--format", "json", *args)
        return result.exit_code, {c["id"]: c for c in json.loads(result.stdout)["checks"]}

    code, checks = demo("--select", "AOAI4")  # the network stage; the credential probes it reads are context
    assert code == 0 and {c["status"] for i, c in checks.items() if i.startswith("AOAI4")} == {"pass"}
    assert all(not c["required"] for i, c in checks.items() if i.startswith("AOAI2") and c["status"] == "fail")
    code, checks = demo("--select", "AOAI305")  # uses the call, which needs the chain: context only
    assert checks["AOAI210"]["status"] == "fail" and checks["AOAI210"]["required"] is False
    assert checks["AOAI305"]["status"] == "skip" and code == 0
    code, checks = demo("--select", "AOAI302")  # requires the chain's token: its failure is the reason
    assert checks["AOAI302"]["status"] == "skip" and checks["AOAI210"]["required"] is True and code == 1


def _jwt(claims: dict[str, object]) -> str:
    def part(data: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'RS256', 'typ': 'JWT'})}.{part(claims)}.c2lnbmF0dXJl"


def test_a_given_token_makes_the_chain_information_only(clean_env: Path) -> None:
    now = int(time.time())
    (clean_env / "token.jwt").write_text(_jwt({
        "aud": "https://cognitiveservices.azure.com", "iss": "https://sts.windows.net/t1/", "tid": "t1",
        "oid": "o1", "appid": "a1", "iat": now - 60, "nbf": now - 60, "exp": now + 3600}))
    env = {**os.environ, "AZURE_POD_IDENTITY_AUTHORITY_HOST": "http://127.0.0.1:9"}
    result = CliRunner().invoke(main, [*OFFLINE[:2], "AOAI2", "--select", "AOAI3", *OFFLINE[3:], "--no-live",
                                       "--token-file", "token.jwt", "--format", "json"], env=env)
    report = json.loads(result.stdout)
    chain = next(c for c in report["checks"] if c["id"] == "AOAI210")
    assert chain["status"] == "fail" and chain["required"] is False  # no source here: said, not gating
    assert result.exit_code == 0 and report["diagnosis"]["cause"] is None


def test_repeat_and_stream_figures_and_the_true_call_count(clean_env: Path) -> None:
    result = invoke("demo", "--scenario", "healthy", "--repeat", "3", "--stream", "--format", "text=-",
                    "--format", "json=report.json")
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert re.search(r"- 3 more calls at concurrency 1: p50 \d+ ms, p95 \d+ ms, max \d+ ms, 0 errors", text)
    assert re.search(r"- streamed: first token after \d+ ms", text)
    assert "5 billable calls" in text.splitlines()[-1]  # the test call, 3 repeats, 1 streamed
    assert json.loads((clean_env / "report.json").read_text())["summary"]["billable_calls"] == 5
