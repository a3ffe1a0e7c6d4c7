"""Fleet mode end to end on the stand-in: one resource with six deployments, one of them retired, checked in
one run from a targets file and from Resource Manager's own list (real azure-identity, requests, TLS)."""

from __future__ import annotations

import json
import os
import re
import threading
import time
import traceback
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

import aoai_doctor
from aoai_doctor import config, fleet
from aoai_doctor.check import Outcome
from aoai_doctor.cli import main as cli
from aoai_doctor.config import ConfigError
from aoai_doctor.options import Options
from aoai_doctor.reporters.json import fleet_to_dict
from aoai_doctor.services import sandbox
from aoai_doctor.standin import StandIn, load_scenario
from aoai_doctor.standin.wire import ServiceName

WORLD = Path(__file__).parent / "worlds" / "fleet.toml"
SCHEMA = json.loads((Path(aoai_doctor.__file__).parent / "reporters" / "report.schema.json").read_text())

pytestmark = pytest.mark.xdist_group("fleet")  # one stand-in, the process environment applied around it


@pytest.fixture(scope="module")
def running() -> Iterator[StandIn]:
    with StandIn(load_scenario(WORLD)) as standin:
        yield standin


@pytest.fixture
def world(running: StandIn) -> Iterator[tuple[StandIn, dict[str, str], str]]:
    """The fleet world, its client environment applied (azure-identity reads os.environ), and the --resolve
    pin for the resource's real name."""
    with sandbox.scenario_run(running, dict(os.environ)) as (env, aim):
        env.pop("AZURE_OPENAI_DEPLOYMENT", None)
        yield running, env, aim(Options()).resolve[0]


def _token_requests(standin: StandIn, scope_part: str) -> int:
    return sum(1 for r in standin.requests_log
               if r.service is ServiceName.ENTRA and scope_part in r.form.get("scope", ""))


def test_a_targets_file_gets_a_line_per_target_and_the_failing_ones_diagnosis(
        world: tuple[StandIn, dict[str, str], str], tmp_path: Path) -> None:
    _standin, env, pin = world
    targets = tmp_path / "fleet.toml"
    targets.write_text(f'[[targets]]\nendpoint = "{env["AZURE_OPENAI_ENDPOINT"]}"\n'
                       'deployments = ["chat", "gpt4", "support"]\n\n'
                       f'[[targets]]\nendpoint = "{env["AZURE_OPENAI_ENDPOINT"]}"\ndeployment = "gpt4o"\n')
    report_json, report_xml = tmp_path / "fleet.json", tmp_path / "fleet.xml"
    result = CliRunner().invoke(cli, ["run", "--targets", str(targets), "--resolve", pin, "--ci",
                                      "--format", "text", "--format", f"json={report_json}",
                                      "--format", f"junit={report_xml}"],
                                env={**env, "COLUMNS": "80"}, catch_exceptions=False)
    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    # One endpoint: named once in the header, each line names its deployment.
    assert re.match(r"aoai-doctor \S+ - 4 targets - 3 ready, 1 failing - 4 billable calls - [\d.]+ s$", lines[0])
    assert re.match(r"  deployments of contoso-openai\.openai\.azure\.com:\d+$", lines[1])
    rows = [line.split() for line in lines[2:6]]
    assert [row[:2] for row in rows] == [["[ok]", "chat"], ["[fail]", "gpt4"], ["[ok]", "support"], ["[ok]", "gpt4o"]]
    assert rows[1][2] == "model_retired:" and rows[0][2] == "ready"
    diagnosis = result.output.split("\n\n", 1)[1]
    assert re.match(r"contoso-openai\.openai\.azure\.com:\d+/gpt4$", diagnosis.splitlines()[0])
    assert diagnosis.splitlines()[1].startswith("[fail] model_retired")
    assert "gpt-4 0613" in diagnosis and "/chat" not in diagnosis  # only the failing target is explained
    assert all(len(line) <= 80 or line.startswith("       az ") for line in lines)

    data = json.loads(report_json.read_text())
    jsonschema.validate(data, SCHEMA)
    assert data["summary"] == {"passed": False, "targets": 4, "failed_targets": 1, "billable_calls": 4}
    assert [t["target"]["deployment"]["value"] for t in data["targets"]] == ["chat", "gpt4", "support", "gpt4o"]
    assert data["targets"][0]["target"]["deployment"]["source"] == "fleet.toml:targets[0].deployments"
    assert data["targets"][3]["target"]["endpoint"]["source"] == "fleet.toml:targets[1].endpoint"
    assert data["targets"][1]["diagnosis"]["cause"] == "model_retired"

    suites = ET.parse(report_xml).getroot().findall("testsuite")
    assert [s.get("name", "").rsplit("/", 1)[-1] for s in suites] == ["chat", "gpt4", "support", "gpt4o"]
    assert [s.get("failures") for s in suites] == ["0", "1", "0", "0"]


def test_all_deployments_checks_what_resource_manager_lists_with_one_credential_stage(
        world: tuple[StandIn, dict[str, str], str]) -> None:
    standin, env, pin = world
    asked_before = _token_requests(standin, "cognitiveservices")
    fleet = aoai_doctor.diagnose(all_deployments=True, resolve=[pin], environ=env, parallel=2)
    names = [r.target["deployment"].value for r in fleet.reports]
    assert names == ["chat (chat)", "chat-eu (chat)", "gpt4o (chat)", "gpt4 (chat)", "summaries (chat)",
                     "support (chat)"]
    assert {r.target["deployment"].source for r in fleet.reports} == {"Resource Manager (--all-deployments)"}
    failing = [r for r in fleet.reports if not r.passed]
    assert [r.target["deployment"].value for r in failing] == ["gpt4 (chat)"]
    assert failing[0].diagnosis is not None and failing[0].diagnosis.cause == "model_retired"
    # The credential sources were asked once for the six targets (each token check reuses that credential).
    asked = _token_requests(standin, "cognitiveservices") - asked_before
    assert asked == 1, asked
    winners = {next(c.data["winner"] for c in r.results if c.check_id == "AOAI210") for r in fleet.reports}
    assert winners == {"EnvironmentCredential"}
    # The test calls share kept connections: at most one opened (its TLS measured) per target at once.
    calls = [call for r in fleet.reports for c in r.results if c.check_id == "AOAI501" for call in c.data["calls"]]
    opened = [call for call in calls if call["timings_ms"]["tls"] is not None]
    assert len(calls) == 6 and 1 <= len(opened) <= 2


def test_a_fleet_report_never_holds_a_secret(world: tuple[StandIn, dict[str, str], str]) -> None:
    _standin, env, pin = world
    fleet = aoai_doctor.diagnose(targets=[{"endpoint": env["AZURE_OPENAI_ENDPOINT"], "deployments": ["chat", "gpt4"]}],
                                 resolve=[pin], environ=env, select=["AOAI5"])
    rendered = json.dumps(fleet_to_dict(fleet))
    assert env["AZURE_CLIENT_SECRET"][:12] not in rendered
    assert "eyJ" not in rendered


@pytest.mark.parametrize("text, problem", [
    ('[[targets]]\nendpoint = "https://a.openai.azure.com"\ndeploymnt = "x"\n', "did you mean 'deployment'"),
    ('[[targets]]\ndeployment = "x"\ndeployments = ["y"]\n', "give deployment or deployments, not both"),
    ('[[targets]]\ndeployments = "x"\n', "deployments"),
    ('[[targets]]\nauth = "password"\n', "auth"),
    ('[[targets]]\nendpoint = "https://a.openai.azure.com"\ndeployments = []\n', "is empty"),
    ('[run]\nselect = []\n', "unknown key 'run'"),
    ('# nothing yet\n', "no [[targets]] tables"),
])
def test_a_bad_targets_file_is_one_line_naming_the_problem(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "targets.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        config.load_targets_file(path)
    assert problem in str(caught.value) and "\n" not in str(caught.value)


def test_checks_toml_targets_are_the_fleet_unless_a_flag_names_one_target(tmp_path: Path) -> None:
    checks = tmp_path / "checks.toml"
    checks.write_text('[[targets]]\nendpoint = "https://east.openai.azure.com"\ndeployments = ["a", "b"]\n'
                      'api_version = "2024-10-21"\n')
    common = ["run", "--checks", str(checks), "--select", "AOAI1", "--no-live", "--format", "json"]
    fleet = json.loads(CliRunner().invoke(cli, common, env={}).output)
    assert [t["target"]["deployment"]["value"] for t in fleet["targets"]] == ["a", "b"]
    single = json.loads(CliRunner().invoke(cli, [*common, "--endpoint", "https://west.openai.azure.com",
                                                 "--deployment", "c", "--api-version", "2024-10-21"], env={}).output)
    assert "targets" not in single and single["target"]["endpoint"]["value"] == "https://west.openai.azure.com"


def test_the_library_takes_target_tables_or_a_targets_file(tmp_path: Path) -> None:
    table = {"endpoint": "https://east.openai.azure.com", "deployments": ["a", "b"], "api_version": "2024-10-21"}
    path = tmp_path / "targets.toml"
    path.write_text('[[targets]]\nendpoint = "https://east.openai.azure.com"\ndeployments = ["a", "b"]\n'
                    'api_version = "2024-10-21"\n')
    for targets in ([table], path, str(path)):
        fleet = aoai_doctor.diagnose(targets=targets, select=["AOAI1"], live=False, environ={})
        assert [r.target["deployment"].value for r in fleet.reports] == ["a", "b"] and fleet.passed
    with pytest.raises(ConfigError, match="targets names no target"):
        aoai_doctor.diagnose(targets=[], environ={})


def test_github_gets_an_annotation_per_failing_target_and_a_summary_table(
        world: tuple[StandIn, dict[str, str], str], tmp_path: Path) -> None:
    _standin, env, pin = world
    summary = tmp_path / "summary.md"
    result = CliRunner().invoke(
        cli, ["run", "--resolve", pin, "--ci", "--targets", str(_targets(tmp_path, env, ["chat", "gpt4"]))],
        env={**env, "GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary)}, catch_exceptions=False)
    assert result.exit_code == 1
    errors = [line for line in result.output.splitlines() if line.startswith("::error ")]
    assert errors and all(re.match(r"::error title=contoso-openai\.openai\.azure\.com%3A\d+/gpt4%3A AOAI501", e)
                          for e in errors)
    table = summary.read_text()
    assert "aoai-doctor: 1 of 2 targets ready" in table
    assert re.search(r"\| ✅ \| contoso-openai\.openai\.azure\.com:\d+/chat \| ready", table)
    assert re.search(r"### contoso-openai\.openai\.azure\.com:\d+/gpt4\n\n\*\*Root cause: `model_retired`", table)


def _targets(tmp_path: Path, env: dict[str, str], deployments: list[str]) -> Path:
    path = tmp_path / "targets.toml"
    endpoint = env["AZURE_OPENAI_ENDPOINT"]
    path.write_text(f'[[targets]]\nendpoint = "{endpoint}"\ndeployments = {json.dumps(deployments)}\n')
    return path


def test_targets_failing_for_the_same_reason_are_explained_once(tmp_path: Path) -> None:
    """Offline, every target fails the same way: the first is explained, the others point to it."""
    targets = tmp_path / "targets.toml"
    targets.write_text('[[targets]]\nendpoint = "https://east.openai.azure.com"\ndeployments = ["a", "b", "c"]\n'
                       'api_version = "2024-10-21"\n')
    result = CliRunner().invoke(cli, ["run", "--ci", "--targets", str(targets), "--auth", "api-key", "--no-live"],
                                env={"COLUMNS": "80"})
    assert result.exit_code == 1, result.output
    blocks = result.output.split("\n\n")[1:]
    assert [b.splitlines()[0] for b in blocks] == ["east.openai.azure.com/a", "east.openai.azure.com/b",
                                                    "east.openai.azure.com/c"]
    assert "fix:" in blocks[0]
    assert blocks[1].splitlines()[1:] == ["  client_config_missing: the same fix as a"] == blocks[2].splitlines()[1:]


def test_a_target_the_deadline_left_unchecked_fails(tmp_path: Path) -> None:
    import time

    from aoai_doctor import fleet

    table = {"endpoint": "https://east.openai.azure.com", "deployment": "x", "api_version": "2024-10-21"}
    late = fleet.execute(fleet.plan(Options(targets=(table,), started=time.monotonic() - 100, deadline=5), {}))
    assert not late.passed and fleet.exit_code(late, Options()) == 1
    assert late.reports[0].diagnosis is not None
    assert late.reports[0].diagnosis.summary == "not checked: the run's deadline passed before its checks started"


def test_why_deployments_could_not_be_listed_is_the_error(tmp_path: Path) -> None:
    """An API key cannot list deployments: the report says so where the deployment is missing."""
    report = aoai_doctor.diagnose(all_deployments=True, endpoint="https://east.openai.azure.com", auth="api-key",
                                  api_version="2024-10-21", live=False, select=["AOAI1"],
                                  environ={"AZURE_OPENAI_API_KEY": "k" * 32})
    (only,) = report.reports
    assert only.diagnosis is not None and only.diagnosis.cause == "client_config_missing"
    assert "--all-deployments: an API key cannot list deployments" in only.diagnosis.summary


@pytest.mark.parametrize("asked, problem", [
    ({"all_deployments": True, "deployment": "chat"}, "leave out --deployment"),
    ({"targets": [{"deployment": "x"}], "parallel": "3"}, "whole number between 1 and 64"),
    ({"targets": [{"deployment": "x"}], "parallel": 0}, "whole number between 1 and 64"),
])
def test_fleet_options_that_cannot_work_are_one_line(asked: dict[str, object], problem: str) -> None:
    with pytest.raises(ConfigError, match=problem):
        aoai_doctor.diagnose(environ={}, live=False, **asked)  # type: ignore[call-overload]


def test_a_shared_check_that_raises_raises_in_every_waiting_target_with_its_own_exception() -> None:
    shared = fleet._Shared()
    started, release = threading.Event(), threading.Event()

    def compute() -> Outcome:
        started.set()
        release.wait(5)
        raise ValueError("the source broke")

    caught: list[BaseException] = []

    def target() -> None:
        try:
            shared.once("stage", compute)
        except ValueError as exc:
            caught.append(exc)

    first = threading.Thread(target=target)
    first.start()
    started.wait(5)
    waiters = [threading.Thread(target=target) for _ in range(3)]
    for thread in waiters:
        thread.start()
    time.sleep(0.05)
    release.set()
    for thread in (first, *waiters):
        thread.join(5)
    assert [str(e) for e in caught] == ["the source broke"] * 4
    assert len({id(e) for e in caught}) == 4  # one exception object each, not one shared by every thread
    assert all("compute" in "".join(traceback.format_tb(e.__traceback__)) for e in caught)
