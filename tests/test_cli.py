"""The command line end to end: the verdicts, the exit codes, and the error messages."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from aoai_doctor import __version__
from aoai_doctor.cli import command_line, main

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = json.loads((ROOT / "aoai_doctor" / "reporters" / "report.schema.json").read_text())
GOOD = ["--endpoint", "https://myres.openai.azure.com", "--deployment", "gpt4o-prod", "--api-version", "2024-10-21"]


def invoke(*args: str, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def run_json(*args: str, env: dict[str, str] | None = None, stage: str | None = "AOAI1") -> tuple[int, dict]:  # type: ignore[type-arg]
    """Run and parse the JSON report; by default only the config stage, which these tests are about."""
    selection = ("--select", stage) if stage else ()
    result = invoke("run", "--format", "json", *selection, *args, env=env)
    report = json.loads(result.output)
    jsonschema.validate(report, SCHEMA)
    return result.exit_code, report


def by_id(report: dict) -> dict[str, dict]:  # type: ignore[type-arg]
    return {c["id"]: c for c in report["checks"]}


def test_version() -> None:
    assert invoke("--version").output.strip() == f"aoai-doctor, version {__version__}"


def test_the_process_runs_without_the_cyclic_collector_and_freezes_what_is_left_at_exit(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "argv", ["aoai-doctor", "--version"])
    collecting = gc.isenabled()
    try:
        with pytest.raises(SystemExit) as ended:
            command_line()
        assert ended.value.code == 0
        assert __version__ in capsys.readouterr().out
        assert not gc.isenabled()
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        if collecting:
            gc.enable()


def test_regional_endpoint_with_entra_fails_with_custom_subdomain_required() -> None:
    result = invoke(
        "run",
        "--select",
        "AOAI1",
        "--endpoint",
        "https://eastus.api.cognitive.microsoft.com",
        "--deployment",
        "gpt-4o",
        "--api-version",
        "2024-10-21",
    )
    assert result.exit_code == 1
    assert "custom_subdomain_required" in result.output
    assert "az cognitiveservices account update --name <resource-name>" in result.output
    assert "--custom-domain" in result.output
    assert "[fail]  AOAI102" in result.output


def test_regional_endpoint_with_api_key_is_fine() -> None:
    code, report = run_json(
        "--endpoint",
        "https://eastus.api.cognitive.microsoft.com",
        "--deployment",
        "d1",
        "--api-version",
        "2024-10-21",
        "--auth",
        "api-key",
        env={"AZURE_OPENAI_API_KEY": "k" * 32},
    )
    assert code == 0
    assert any("accepts API keys only" in f["message"] for f in by_id(report)["AOAI102"]["findings"])


def test_pasted_request_url_is_recovered_and_said() -> None:
    url = "https://myres.openai.azure.com/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21"
    result = invoke("run", "--select", "AOAI1", "--endpoint", url)
    recovered = "recovered endpoint https://myres.openai.azure.com, deployment gpt-4o, api-version 2024-10-21"
    assert recovered in " ".join(result.output.split())
    code, report = run_json("--endpoint", url)
    assert code == 0  # a warning, and every other check runs on the recovered values
    checks = by_id(report)
    assert checks["AOAI102"]["status"] == "warn" and checks["AOAI102"]["findings"][0]["cause"] == "endpoint_wrong"
    assert checks["AOAI103"]["status"] == "pass" and checks["AOAI101"]["status"] == "pass"
    assert report["target"]["deployment"] == {"value": "gpt-4o (chat)", "source": "recovered from flag --endpoint"}


def test_valid_target_passes_every_offline_check() -> None:
    code, report = run_json(*GOOD)
    assert code == 0
    assert {c["id"]: c["status"] for c in report["checks"]} == {
        "AOAI101": "pass",
        "AOAI102": "pass",
        "AOAI103": "pass",
        "AOAI104": "pass",
    }
    assert invoke("run", "--select", "AOAI1", *GOOD).exit_code == 0
    assert report["summary"]["passed"] is True


def test_seed_config_json_is_read_and_its_combination_explained(clean_env: Path) -> None:
    (clean_env / "config.json").write_text(
        json.dumps(
            {
                "COMPLETIONS_MODEL": "text-davinci-003",
                "OPENAI_API_BASE": "https://seedres.openai.azure.com",
                "OPENAI_API_VERSION": "2022-12-01",
            }
        )
    )
    result = invoke("run", "--select", "AOAI1", "-v")
    assert "config.json:OPENAI_API_BASE" in result.output
    code, report = run_json()
    checks = by_id(report)
    assert report["target"]["endpoint"]["source"] == "config.json:OPENAI_API_BASE"
    deployment = checks["AOAI104"]
    assert deployment["status"] == "warn"
    assert "text-davinci-003 is the name of a retired model" in deployment["findings"][0]["message"]
    assert deployment["findings"][0]["cause"] == "deployment_not_found"
    versions = [f["message"] for f in checks["AOAI103"]["findings"]]
    assert any("serves legacy completions only" in m and "2023-05-15" in m for m in versions)
    assert code == 0  # warnings only: the configuration itself can still make a call


def test_chat_deployment_on_2022_12_01_fails() -> None:
    code, report = run_json(
        "--endpoint", "https://res.openai.azure.com", "--deployment", "chat1", "--api-version", "2022-12-01"
    )
    assert code == 1
    finding = by_id(report)["AOAI103"]["findings"][0]
    assert finding["cause"] == "api_version_invalid" and "no chat completions route" in finding["message"]


@pytest.mark.parametrize(
    ("args", "check", "status", "cause", "text"),
    [
        ((), "AOAI101", "fail", "client_config_missing", "no endpoint configured"),
        (("--endpoint", "http://r.openai.azure.com"), "AOAI102", "fail", "endpoint_wrong", "only https"),
        (("--endpoint", "r.openai.azure.com"), "AOAI102", "fail", "endpoint_wrong", "no scheme"),
        (("--endpoint", "https://api.openai.com/v1"), "AOAI102", "fail", "endpoint_wrong", "OpenAI's own API"),
        (("--endpoint", "https://res.openai.azure.com//openai"), "AOAI102", "fail", "endpoint_wrong", "doubled slash"),
        (("--endpoint", "https://res.openai.azure.com/openai"), "AOAI102", "fail", "endpoint_wrong", "ends in /openai"),
        (
            ("--endpoint", "https://<your-resource-name>.openai.azure.com"),
            "AOAI102",
            "fail",
            "endpoint_wrong",
            "placeholder",
        ),
        (
            ("--endpoint", "https://res.openai.azure.com/openai/v1/deployments/chat/chat/completions"),
            "AOAI102",
            "fail",
            "endpoint_wrong",
            "AzureOpenAI given a v1 base URL",
        ),
        (
            ("--endpoint", "https://gateway.example.com"),
            "AOAI102",
            "warn",
            "endpoint_wrong",
            "not an Azure OpenAI host name",
        ),
        (
            ("--endpoint", "https://res.openai.azure.com", "--api-version", "2023-03-15-preview"),
            "AOAI103",
            "fail",
            "api_version_invalid",
            "retired",
        ),
        (
            ("--endpoint", "https://res.openai.azure.com", "--api-version", "2024-10-21-Preview"),
            "AOAI103",
            "fail",
            "api_version_invalid",
            "not of the form",
        ),
        (
            ("--endpoint", "https://res.openai.azure.com", "--api-version", "2024-07-18"),
            "AOAI103",
            "warn",
            "api_version_invalid",
            "not a known version",
        ),
        (
            ("--endpoint", "https://res.openai.azure.com/openai/v1/", "--api-version", "2024-10-21"),
            "AOAI103",
            "warn",
            "api_version_invalid",
            "with a v1 base URL",
        ),
        (("--endpoint", "https://res.openai.azure.com"), "AOAI103", "fail", "api_version_invalid", "no api-version"),
        (
            ("--endpoint", "https://res.openai.azure.com", "--deployment", "my deployment"),
            "AOAI104",
            "fail",
            "deployment_not_found",
            "cannot hold",
        ),
    ],
)
def test_fail_paths(args: tuple[str, ...], check: str, status: str, cause: str, text: str) -> None:
    base = {"--deployment": "dep1", "--api-version": "2024-10-21"}
    extra = [
        x
        for k, v in base.items()
        if k not in args and (k != "--api-version" or text != "no api-version")
        for x in (k, v)
    ]
    if text == "no endpoint configured":
        extra = ["--deployment", "dep1"]
    code, report = run_json(*args, *extra)
    result = by_id(report)[check]
    assert result["status"] == status
    problem = next(f for f in result["findings"] if f["severity"] != "info")
    assert problem["cause"] == cause and text in problem["message"]
    assert problem["fix"] and problem["docs"] == f"docs/checks/{check}.md"
    assert code == (1 if status == "fail" else 0)


def test_key_set_while_auth_is_entra_is_a_warning() -> None:
    code, report = run_json(*GOOD, env={"AZURE_OPENAI_API_KEY": "secret-canary-value-1234567890"})
    assert code == 0
    finding = by_id(report)["AOAI101"]["findings"][0]
    assert finding["cause"] == "auth_mode_mismatch" and finding["severity"] == "warning"
    assert "secret-canary" not in json.dumps(report)
    assert report["target"]["api_key"] == {"value": "(set)", "source": "env AZURE_OPENAI_API_KEY"}


def test_model_name_as_deployment_is_a_hint_only() -> None:
    code, report = run_json(
        "--endpoint", "https://res.openai.azure.com", "--deployment", "gpt-35-turbo", "--api-version", "2024-10-21"
    )
    assert code == 0
    result = by_id(report)["AOAI104"]
    assert result["status"] == "pass" and "also a model's name" in result["findings"][0]["message"]


def test_dependants_of_skipped_config_are_skipped_and_text_report_says_why() -> None:
    result = invoke("run", "--select", "AOAI1", "--deployment", "d")
    assert result.exit_code == 1
    assert "no endpoint configured (see AOAI101)" in result.output
    assert "[fail] client_config_missing  (AOAI101)" in result.output


@pytest.mark.parametrize(
    ("files", "args", "expected"),
    [
        ({"config.json": "{broken"}, (), "aoai-doctor: error: config.json: not valid JSON"),
        ({"checks.toml": "[run\n"}, (), "aoai-doctor: error: checks.toml: not valid TOML"),
        (
            {"checks.toml": "[target]\ndeploymnet = 'x'\n"},
            (),
            "aoai-doctor: error: checks.toml: unknown key 'deploymnet' in [target] (did you mean 'deployment'?)",
        ),
        (
            {"checks.toml": "[checks.AOAI999]\nrequired = false\n"},
            (),
            "aoai-doctor: error: checks.toml: unknown check id [checks.AOAI999]",
        ),
        ({}, ("--select", "AOAI9"), "aoai-doctor: error: selection: no check id starts with 'AOAI9'"),
        ({}, ("--config", "missing.json"), "aoai-doctor: error: missing.json: file not found"),
    ],
)
def test_configuration_errors_exit_2_with_one_line(
    clean_env: Path, files: dict[str, str], args: tuple[str, ...], expected: str
) -> None:
    for name, text in files.items():
        (clean_env / name).write_text(text)
    proc = subprocess.run(
        [sys.executable, "-m", "aoai_doctor", "run", *args], capture_output=True, text=True, cwd=clean_env, timeout=60
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(expected)
    assert "Traceback" not in proc.stderr


def test_help_imports_no_azure_module() -> None:
    code = (
        "import sys\n"
        "from aoai_doctor.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "try:\n    main(['run', '--help'])\nexcept SystemExit:\n    pass\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('azure', 'msal', 'requests'))\n"
        "print('IMPORTED:' + ','.join(bad))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().endswith("IMPORTED:")


def test_checks_lists_every_check() -> None:
    result = invoke("checks")
    for check_id, name in (("AOAI101", "config-present"), ("AOAI104", "deployment-name")):
        assert check_id in result.output and name in result.output
    listing = json.loads(invoke("checks", "--format", "json").output)
    assert {c["id"] for c in listing} >= {"AOAI101", "AOAI102", "AOAI103", "AOAI104"}
    assert all(c["stage"] == "config" for c in listing if c["id"].startswith("AOAI1"))


def test_checks_json_says_what_the_imported_classes_say() -> None:
    from aoai_doctor import registry
    from aoai_doctor.model import Stage

    expected = [{"id": c.id, "name": c.name, "stage": Stage.of(c.id).name.lower(), "summary": c.summary,
                 "requires": list(c.requires), "required": c.required} for c in registry.load().checks]
    assert json.loads(invoke("checks", "--format", "json").output) == expected


def test_checks_lists_local_checks_named_in_the_checks_file(tmp_path: Path) -> None:
    (tmp_path / "localrules.py").write_text(
        "from aoai_doctor.check import Check\n"
        "class Gateway(Check):\n    id = 'LOCL101'\n    name = 'gateway-only'\n"
        "    summary = 'calls go through the gateway'\n"
    )
    (tmp_path / "team.toml").write_text('[plugins]\nchecks = ["localrules:Gateway"]\n')
    listing = json.loads(invoke("checks", "--checks", str(tmp_path / "team.toml"), "--format", "json").output)
    assert listing[-1] == {"id": "LOCL101", "name": "gateway-only", "stage": "plugin",
                           "summary": "calls go through the gateway", "requires": [], "required": True}
    text = invoke("checks", "--checks", str(tmp_path / "team.toml")).output
    assert [ln.split()[:2] for ln in text.splitlines() if ln.startswith("LOCL101")] == [["LOCL101", "gateway-only"]]


def test_help_checks_and_explain_import_only_what_they_need() -> None:
    """`--help` imports no command module; `checks` and `explain <ID>` no check module (they read the
    catalog), nor what `run` or the stand-in need."""
    code = (
        "import sys\n"
        "from aoai_doctor.cli import main\n"
        "def modules(args):\n"
        "    try:\n        main(args)\n    except SystemExit:\n        pass\n"
        "    return ','.join(sorted(m for m in sys.modules if m.startswith(('aoai_doctor.cli.', 'aoai_doctor.checks',"
        " 'aoai_doctor.app', 'aoai_doctor.runner', 'aoai_doctor.standin', 'azure', 'requests'))))\n"
        "print('HELP:' + modules(['--help']))\n"
        "print('CHECKS:' + modules(['checks']))\n"
        "print('EXPLAIN:' + modules(['explain', 'AOAI210']))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    found = dict(ln.split(":", 1) for ln in proc.stdout.splitlines()
                 if ln.split(":")[0] in ("HELP", "CHECKS", "EXPLAIN"))
    assert found == {"HELP": "aoai_doctor.cli.common", "CHECKS": "aoai_doctor.cli.common,aoai_doctor.cli.info",
                     "EXPLAIN": "aoai_doctor.cli.common,aoai_doctor.cli.info"}
    assert "# AOAI210 credential-chain" in proc.stdout


def test_schema_prints_the_report_schema() -> None:
    result = invoke("schema")
    assert result.exit_code == 0
    assert json.loads(result.output) == SCHEMA and result.output.endswith("}\n")


@pytest.mark.parametrize("limit", [20, 45, 60, 94, 200])
def test_every_command_is_listed_with_its_own_help(limit: int) -> None:
    """The lazy group lists each command from COMMANDS without importing it: the entry must name the command
    and carry its help, shortened as click would shorten the command's own."""
    import click

    from aoai_doctor.cli import COMMANDS, load_command

    for name, (target, summary) in COMMANDS.items():
        command = load_command(target)
        assert command.name == name, target
        assert click.Command(name, help=summary).get_short_help_str(limit) == command.get_short_help_str(limit), name


def test_help_lists_what_the_imported_commands_would() -> None:
    import click

    from aoai_doctor.cli import COMMANDS, load_command

    settings = {"name": "aoai-doctor", "help": main.help, "params": main.params,
                "context_settings": main.context_settings}
    lazy = type(main)(**settings)  # a fresh group: `main` holds the commands earlier tests ran
    eager = click.Group(**settings)
    for name, (target, _) in COMMANDS.items():
        eager.add_command(load_command(target), name)
    for width in (60, 100):
        lazy_text = CliRunner().invoke(lazy, ["--help"], terminal_width=width).output
        assert not lazy.commands  # listed without importing a command
        assert lazy_text == CliRunner().invoke(eager, ["--help"], terminal_width=width).output
        assert all(f"\n  {name} " in lazy_text for name in COMMANDS)


def test_output_file_and_verbose_sources(clean_env: Path) -> None:
    out = clean_env / "report.txt"
    result = invoke("run", "--select", "AOAI1", *GOOD, "-v", "--output", str(out))
    assert result.stdout == ""  # the report is in the file; the log gets one line
    assert result.stderr == f"aoai-doctor: ready: gpt4o-prod on myres.openai.azure.com; wrote {out}\n"
    text = out.read_text()
    assert "Configuration" in text and "https://myres.openai.azure.com  (flag --endpoint)" in text
    assert "[ok]" in text  # a file gets the ASCII glyphs


def test_checks_toml_selects_and_makes_a_check_optional(clean_env: Path) -> None:
    (clean_env / "checks.toml").write_text(
        '[target]\nendpoint = "https://res.openai.azure.com"\ndeployment = "d1"\napi_version = "2023-03-15-preview"\n'
        '[run]\nselect = ["AOAI10"]\nignore = ["AOAI101"]\n[checks.AOAI103]\nrequired = false\n'
    )
    code, report = run_json(stage=None)
    assert [c["id"] for c in report["checks"]] == ["AOAI102", "AOAI103", "AOAI104"]
    assert by_id(report)["AOAI103"]["status"] == "fail" and by_id(report)["AOAI103"]["required"] is False
    assert code == 0  # an optional check never fails the run
    assert report["target"]["endpoint"]["source"] == "checks.toml:[target].endpoint"


@pytest.mark.parametrize(
    ("args", "env", "check", "expected"),
    [
        (
            ("--endpoint", "https://res.openai.azure.com", "--api-version", "2024-10-21"),
            {},
            "AOAI101",
            ("error", "client_config_missing", "no deployment configured"),
        ),
        ((*GOOD, "--auth", "api-key"), {}, "AOAI101", ("error", "client_config_missing", "no key is set")),
        (
            GOOD[:4],
            {"OPENAI_API_VERSION": "2024-10-21", "AZURE_OPENAI_API_VERSION": "2024-06-01"},
            "AOAI101",
            ("warning", "config_invalid", "disagree"),
        ),
        (
            ("--endpoint", "https://res.openai.azure.com/openai/v1/", "--deployment", "d1"),
            {},
            "AOAI103",
            ("info", None, "v1 route: no api-version needed"),
        ),
        (
            ("--endpoint", "https://res.openai.azure.com", "--deployment", "d1", "--api-version", "2025-09-01-preview"),
            {},
            "AOAI103",
            ("info", None, "newer than the version table"),
        ),
        (
            ("--endpoint", "https://contoso.azure-api.net/aoai", "--deployment", "d1", "--api-version", "2024-10-21"),
            {},
            "AOAI102",
            ("info", None, "API Management gateway"),
        ),
    ],
)
def test_more_paths(
    args: tuple[str, ...], env: dict[str, str], check: str, expected: tuple[str, str | None, str]
) -> None:
    _code, report = run_json(*args, env=env)
    findings = [(f["severity"], f["cause"], f["message"]) for f in by_id(report)[check]["findings"]]
    severity, cause, text = expected
    assert any(s == severity and c == cause and text in m for s, c, m in findings), findings


def test_api_key_in_config_json_is_flagged_and_never_printed(clean_env: Path) -> None:
    (clean_env / "config.json").write_text(
        json.dumps(
            {
                "OPENAI_API_BASE": "https://res.openai.azure.com",
                "CHAT_MODEL": "chat1",
                "OPENAI_API_VERSION": "2024-10-21",
                "OPENAI_API_KEY": "canary0123456789abcdef0123456789",
            }
        )
    )
    for fmt in ("text", "json"):
        result = invoke("run", "-v", "--format", fmt, "--auth", "api-key")
        assert "canary0123456789" not in result.output
    _code, report = run_json("--auth", "api-key")
    finding = by_id(report)["AOAI101"]["findings"][0]
    assert finding["severity"] == "warning" and "stored in a file (config.json:OPENAI_API_KEY)" in finding["message"]


def test_checks_fits_an_80_column_terminal() -> None:
    import os

    from tests import terminal

    text = terminal.on_a_terminal(["checks"], size=(24, 80), env={**os.environ, "TERM": "xterm"})
    lines = text.replace("\r", "").splitlines()
    assert len(lines) > 25 and all(len(line) <= 80 for line in lines)
    assert lines[0].split() == ["id", "name", "what", "it", "looks", "at"]  # the stage column goes first
