"""The library API: aoai_doctor.diagnose() and aoai_doctor.explain(), and every example in docs/library.md.

The examples run as written: the quick look in-process (offline checks only), the readiness probe and the
exception handler in sealed mode, where unmodified DefaultAzureCredential() and AzureOpenAI reach the
stand-in under the real Azure host names."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import aoai_doctor
from aoai_doctor.standin.sealed import SealedRunner

DOC = Path(__file__).resolve().parents[1] / "docs" / "library.md"


def examples() -> dict[str, str]:
    """The Python blocks of docs/library.md, by the heading above them."""
    text = DOC.read_text(encoding="utf-8")
    found: dict[str, str] = {}
    for section in re.split(r"(?m)^## ", text)[1:]:
        heading = section.splitlines()[0].strip()
        blocks = re.findall(r"```python\n(.*?)```", section, re.S)
        if blocks:
            found[heading] = "\n".join(blocks)
    return found


def test_the_doc_has_the_three_examples() -> None:
    assert set(examples()) == {"A quick look", "A readiness probe", "An exception handler"}


def test_quick_look_runs_as_written(capsys: pytest.CaptureFixture[str]) -> None:
    exec(compile(examples()["A quick look"], "docs/library.md", "exec"), {})
    lines = capsys.readouterr().out.splitlines()
    assert lines[-1] == "custom_subdomain_required"
    assert lines[0] == "endpoint and deployment configured (chat)"


PROBE_DRIVER = """
import logging, sys
logging.basicConfig(stream=sys.stdout, format="%(message)s", level=logging.INFO)
print("ready" if azure_openai_ready() else "not ready")
"""


def test_readiness_probe_passes_on_a_healthy_app(sealed: SealedRunner) -> None:
    result = sealed.run("healthy", examples()["A readiness probe"] + PROBE_DRIVER, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "ready", result.stdout


def test_readiness_probe_names_the_cause_and_fix(sealed: SealedRunner) -> None:
    result = sealed.run("invalid-secret", examples()["A readiness probe"] + PROBE_DRIVER, timeout=120)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[-1] == "not ready"
    assert any(line.startswith("AOAI210 client_secret_invalid:") and "fix:" in line for line in lines), lines


HANDLER_DRIVER = """
import logging, sys
logging.basicConfig(stream=sys.stdout, format="%(message)s", level=logging.WARNING)
print(repr(ask("ping")))
"""


def test_exception_handler_logs_the_root_cause(sealed: SealedRunner) -> None:
    result = sealed.run("missing-role", examples()["An exception handler"] + HANDLER_DRIVER, timeout=120)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[-1] == "None"
    logged = [line for line in lines if line.startswith("Azure OpenAI call failed:")]
    assert logged and logged[0].startswith("Azure OpenAI call failed: role_assignment_missing (high confidence); fix:")
    assert "az role assignment create" in result.stdout


def test_exception_handler_returns_the_answer_when_healthy(sealed: SealedRunner) -> None:
    result = sealed.run("healthy", examples()["An exception handler"] + HANDLER_DRIVER, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "'pong'"


def test_diagnose_with_a_bad_option_is_a_config_error() -> None:
    with pytest.raises(aoai_doctor.ConfigError, match="diagnose"):
        aoai_doctor.diagnose(fail_on="sometimes", environ={})
    with pytest.raises(aoai_doctor.ConfigError, match="no check id starts with 'ZZZ'"):
        aoai_doctor.diagnose(select=["ZZZ"], environ={})


def test_diagnose_reads_no_file_from_the_current_directory(clean_env: Path) -> None:
    (clean_env / "checks.toml").write_text("not toml at all [")
    (clean_env / "config.json").write_text('{"OPENAI_API_BASE": "https://wrong.example.com"}')
    report = aoai_doctor.diagnose(select=["AOAI101"], live=False, environ={})
    assert report.sources_read == ()
    with pytest.raises(aoai_doctor.ConfigError, match=r"checks\.toml"):
        aoai_doctor.diagnose(select=["AOAI101"], live=False, environ={}, read_cwd=True)


def test_diagnose_never_prints(capfd: pytest.CaptureFixture[str]) -> None:
    aoai_doctor.diagnose(endpoint="https://res.openai.azure.com", deployment="chat", api_version="2024-10-21",
                         live=False, select=["AOAI1", "AOAI3"], environ={})
    out, err = capfd.readouterr()
    assert (out, err) == ("", "")


def test_explain_takes_an_exception_and_its_chain() -> None:
    try:
        try:
            raise ValueError("AADSTS7000215: Invalid client secret provided.")
        except ValueError as inner:
            raise RuntimeError("could not get a token") from inner
    except RuntimeError as exc:
        answer = aoai_doctor.explain(exc)
    assert answer.cause == "client_secret_invalid"
    assert answer.fix and answer.confidence.value in ("high", "medium")


def test_a_given_token_is_a_secret_everywhere() -> None:
    from aoai_doctor.options import Options
    from aoai_doctor.redaction import Secret

    token = "eyJhbGciOiJub25lIn0.eyJhdWQiOiJodHRwczovL2NvZ25pdGl2ZXNlcnZpY2VzLmF6dXJlLmNvbSJ9.c2lnbmF0dXJl"
    options = Options(token=Secret(token))
    assert token not in repr(options) and "Secret(****)" in repr(options)


def test_import_is_cheap() -> None:
    code = "import sys, aoai_doctor; print(sorted(m for m in sys.modules if m.startswith(('azure', 'msal'))))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_py_typed_ships() -> None:
    assert (Path(aoai_doctor.__file__).parent / "py.typed").is_file()


def test_the_readme_example_keys_work() -> None:
    report = aoai_doctor.diagnose(endpoint="https://NAME.openai.azure.com", deployment="chat",
                                  api_version="2024-10-21", live=False, select=["AOAI1"], environ={})
    assert report.passed is True
    assert report.results[0].findings[0].cause is None
    fleet = aoai_doctor.diagnose(targets=[
        {"endpoint": "https://east.openai.azure.com", "deployments": ["chat", "emb"], "api_version": "2024-10-21"},
        {"endpoint": "https://west.openai.azure.com", "deployment": "chat", "api_version": "2024-10-21"}],
        live=False, select=["AOAI1"], environ={})
    assert [r.target["deployment"].value for r in fleet.reports] == ["chat", "emb", "chat"]
    assert fleet.reports[1].passed is True
    assert textwrap.dedent(aoai_doctor.__doc__ or "").count("aoai_doctor.diagnose(") == 2
