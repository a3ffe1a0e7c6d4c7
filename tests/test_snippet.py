"""`aoai-doctor snippet` and `aoai_doctor.snippet()` where no program may be written, the pointer after a
healthy text report, --verify's report of a failing program, and reading a program's answer. Real runs
against the loopback stand-in; the programs that must really call the target run in
tests/test_snippet_sealed.py."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

import aoai_doctor
from aoai_doctor.cli import main
from aoai_doctor.cli.snippet import run_program
from aoai_doctor.model import Report
from aoai_doctor.redaction import KnownSecrets
from aoai_doctor.reporters import text
from aoai_doctor.services.sandbox import doctor_env
from aoai_doctor.snippet import SNIPPET_LINE, model_answer, why_not
from aoai_doctor.standin import StandIn

pytestmark = pytest.mark.xdist_group("snippet-unit")


def _run(standin: Callable[..., StandIn], monkeypatch: pytest.MonkeyPatch, scenario: str, **kwargs: object) -> Report:
    s = standin(scenario)
    for key, value in doctor_env(s).items():
        monkeypatch.setenv(key, value)
    return aoai_doctor.diagnose(environ=dict(os.environ), **kwargs)  # type: ignore[arg-type]


def test_no_program_for_a_target_that_fails(standin: Callable[..., StandIn], monkeypatch: pytest.MonkeyPatch) -> None:
    report = _run(standin, monkeypatch, "missing-role")
    assert report.diagnosis is not None and report.diagnosis.cause == "role_assignment_missing"
    with pytest.raises(ValueError, match=r"not healthy.*role_assignment_missing"):
        aoai_doctor.snippet(report)
    assert SNIPPET_LINE not in text.render(report)

    result = CliRunner().invoke(main, ["snippet", "--style", "requests"])
    assert result.exit_code == 1
    assert result.stdout == ""  # nothing to paste into a file
    assert "aoai-doctor: no program: the target is not healthy (role_assignment_missing" in result.stderr


def test_a_healthy_report_points_to_snippet_and_a_run_without_a_call_proves_nothing(
        standin: Callable[..., StandIn], monkeypatch: pytest.MonkeyPatch) -> None:
    report = _run(standin, monkeypatch, "healthy")
    assert why_not(report) is None
    lines = text.render(report).splitlines()
    assert lines[-2] == f"  {SNIPPET_LINE}"  # above the counts, which stay last
    assert "passed" in lines[-1]

    quiet = aoai_doctor.diagnose(environ=dict(os.environ), live=False)
    assert quiet.passed
    with pytest.raises(ValueError, match="no test call proved the target answers"):
        aoai_doctor.snippet(quiet, "curl")
    assert SNIPPET_LINE not in text.render(quiet)

    with pytest.raises(ValueError, match="unknown style 'java'; choose from openai, requests, curl"):
        aoai_doctor.snippet(report, "java")

    # --verify of a program that cannot get its token: the failure, its exit code, no secret.
    secret = os.environ["AZURE_CLIENT_SECRET"]
    bare = {k: v for k, v in os.environ.items() if not k.startswith("AZURE_")}
    program = aoai_doctor.snippet(report, "requests")
    assert secret not in program
    code, said = run_program(program, "requests", bare, KnownSecrets([secret]))
    assert code == 1
    assert said.startswith("the requests program exited 1: ")
    assert "EnvironmentCredential" in said and secret not in said


@pytest.mark.parametrize("args", [["--format", "json"], ["--output", "r.json"], ["--redact", "strict"],
                                  ["--all-deployments"], ["--targets", "targets.toml"]])
def test_options_that_cannot_apply_are_usage_errors(args: list[str], clean_env: Path) -> None:
    result = CliRunner().invoke(main, ["snippet", *args])
    assert result.exit_code == 2
    assert result.stderr.startswith("aoai-doctor: error: ")
    assert not (clean_env / "r.json").exists()


def test_the_answer_a_program_printed() -> None:
    assert model_answer("pong\n") == "pong"
    assert model_answer("embedding of 1536 dimensions\n") == "embedding of 1536 dimensions"
    chat = {"choices": [{"index": 0, "message": {"role": "assistant", "content": "Pong!"}, "finish_reason": "stop"}]}
    assert model_answer(json.dumps(chat) + "\n") == "Pong!"
    assert model_answer(json.dumps({"choices": [{"text": " pong"}]})) == " pong"
    assert model_answer(json.dumps({"data": [{"embedding": [0.1, 0.2, 0.3]}]})) == "embedding of 3 dimensions"
    response = {"output": [{"type": "reasoning", "summary": []},
                           {"type": "message", "content": [{"type": "output_text", "text": "pong"}]}]}
    assert model_answer(json.dumps(response)) == "pong"
    assert model_answer('{"unexpected": 1}') == '{"unexpected": 1}'


def test_settings_the_run_read_from_dotenv_files_are_loaded_by_the_program(
        standin: Callable[..., StandIn], monkeypatch: pytest.MonkeyPatch) -> None:
    """The run read part of its settings from .env: the python programs load the same files, in the same
    precedence (the environment first, then the first file to set a variable); curl's says to export them."""
    import dataclasses

    report = _run(standin, monkeypatch, "healthy")
    read = dataclasses.replace(report, sources_read=(
        "environment (AZURE_OPENAI_ENDPOINT)", ".azure/dev/.env (AZURE_OPENAI_CHATGPT_DEPLOYMENT)",
        ".env (AZURE_CLIENT_SECRET)", "config.json"))
    for style in ("openai", "requests"):
        program = aoai_doctor.snippet(read, style)
        compile(program, f"{style}.py", "exec")
        assert "'python-dotenv>=1.0'" in program
        loads = [line.split("  #")[0] for line in program.splitlines() if line.startswith("load_dotenv(")]
        assert loads == ['load_dotenv(".azure/dev/.env")', 'load_dotenv(".env")']
        assert program.index("load_dotenv(") < program.index("credential = ")
    curl_comments = " ".join(line[2:] for line in aoai_doctor.snippet(read, "curl").splitlines() if line[:2] == "# ")
    assert "export those this script reads" in curl_comments  # comments wrap at 79 columns
    assert "load_dotenv" not in aoai_doctor.snippet(report, "requests")  # nothing read from a file
