"""The report a person reads, as they read it: every built-in scenario rendered at 80 and 120 columns off a
terminal, and the default demo through a real pseudo-terminal of 80x24. No prose line runs past the edge
(only a copyable command may, alone on its line), a single-cause failure fits in 30 lines at 80 columns, no
failure message is printed twice, and the last lines are the diagnosis: the cause id and its fix."""

from __future__ import annotations

import fcntl
import os
import pickle
import re
import subprocess
import sys
from pathlib import Path

import pytest

from aoai_doctor import app
from aoai_doctor.model import Report
from aoai_doctor.options import Options
from aoai_doctor.reporters.json import to_dict
from aoai_doctor.reporters.style import Style
from aoai_doctor.reporters.text import render
from aoai_doctor.services import sandbox
from aoai_doctor.standin import StandIn
from aoai_doctor.standin.scenario_toml import load_scenario
from tests.terminal import on_a_terminal
from tests.test_scenarios import EXPECTED

# One worker renders them all: the scenarios are run once (a module fixture), not once per worker.
pytestmark = pytest.mark.xdist_group("report-screen")

COMMAND_STARTS = ("az ", "azd ", "export ", "unset ", "pip ", "token_provider", "AzureOpenAI(", "ManagedIdentity",
                  "get_bearer", "Connect-AzAccount", "aoai-doctor ", "client = ", "from ", "credential")


@pytest.fixture(scope="session")  # session: other modules' tests may interleave on this worker
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Report]:
    """Each built-in scenario run once, as ``demo`` runs it (the same private environment, pin and
    prompt), with a short read timeout for the one that hangs. Made once per test session: the first
    xdist worker that needs them runs the scenarios, the others read its result."""
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID")  # set by xdist, the same in every worker of this run
    if run is None:
        return _run_scenarios(tmp_path_factory)
    shared = tmp_path_factory.getbasetemp().parent  # one directory for every worker of this session
    with open(shared / f"report-screen-{run}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        made = shared / f"report-screen-{run}.pickle"
        if made.exists():
            return pickle.loads(made.read_bytes())  # type: ignore[no-any-return]
        out = _run_scenarios(tmp_path_factory)
        made.write_bytes(pickle.dumps(out))
        return out


def _run_scenarios(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Report]:
    checks = tmp_path_factory.mktemp("checks") / "checks.toml"
    checks.write_text("[checks.AOAI501]\nread_timeout = 2.0\n")
    out: dict[str, Report] = {}
    for scenario in sorted(EXPECTED):
        with StandIn(load_scenario(scenario)) as standin, sandbox.scenario_run(standin, dict(os.environ)) as (env, aim):
            out[scenario] = app.run_doctor(aim(Options(checks_file=checks)), env)
    return out


@pytest.mark.parametrize("columns", [80, 120])
@pytest.mark.parametrize("scenario", sorted(EXPECTED))
def test_each_scenario_fits_and_ends_with_its_diagnosis(scenario: str, columns: int,
                                                        reports: dict[str, Report]) -> None:
    # as the CLI draws it off a terminal (ASCII, no colour) at that width
    text = render(reports[scenario], Style(unicode=False, color=False, width=columns))
    lines = text.rstrip("\n").splitlines()
    # only a copyable command, or one long name (a URL, a data action), alone on its line, may run past the edge
    too_wide = [ln for ln in lines if len(ln) > columns and not ln.strip().startswith(COMMAND_STARTS)
                and " " in ln.strip()]
    assert too_wide == [], "\n".join(too_wide)
    expected = EXPECTED[scenario]
    if expected is None:
        assert any(ln.startswith(("[ok] ready", "[warn] passed")) for ln in lines[-8:]), text
        return
    cause = expected[1]
    head = next(i for i, ln in enumerate(lines) if ln.startswith(f"[fail] {cause}"))
    block = lines[head:]
    assert any(ln.lstrip().startswith("fix:") for ln in block), text  # the fix is in the last block
    assert re.match(r"^  \d+ failed", block[-1]), text  # and the counts close it
    if columns == 80:
        assert len(lines) <= 30, f"{len(lines)} lines:\n{text}"
    # a failure's message is told once: no long line repeats
    long_lines = [ln.strip() for ln in lines if len(ln.strip()) > 40]
    assert len(long_lines) == len(set(long_lines)), text


@pytest.mark.parametrize("scenario", sorted(EXPECTED))
def test_json_diagnosis_names_the_scenarios_cause(scenario: str, reports: dict[str, Report]) -> None:
    report = to_dict(reports[scenario])
    expected = EXPECTED[scenario]
    assert report["diagnosis"]["cause"] == (expected[1] if expected else None)
    if expected:
        assert report["diagnosis"]["checks"][0] == next(
            c["id"] for c in report["checks"] if c["status"] in ("fail", "error") and c["required"])
        assert report["diagnosis"]["fix"]


def test_the_cli_draws_what_the_tests_render(clean_env: Path) -> None:
    """The CLI off a terminal at COLUMNS=80 prints the same layout the scenario tests render."""
    env = {**os.environ, "COLUMNS": "80"}
    env.pop("CI", None)
    out = subprocess.run([sys.executable, "-m", "aoai_doctor", "demo"], capture_output=True, text=True, env=env,
                         timeout=120).stdout
    lines = out.rstrip("\n").splitlines()
    assert out.isascii() and len(lines) <= 30
    assert all(len(ln) <= 80 or ln.strip().startswith(COMMAND_STARTS) for ln in lines)
    assert any(ln.startswith("[fail] scope_missing_default") for ln in lines)


def test_the_demo_through_a_real_terminal(clean_env: Path) -> None:
    env = {**os.environ, "TERM": "xterm-256color"}
    for name in ("CI", "NO_COLOR", "COLUMNS", "LINES"):
        env.pop(name, None)
    out = on_a_terminal(["demo"], size=(24, 80), env=env, cwd=clean_env)
    assert "\r\x1b[2K" in out and "Credentials:" in out  # live progress, redrawn on the terminal
    assert "\x1b[31m" in out or "\x1b[1;31m" in out  # colour on
    assert "✗" in out  # the terminal gets the glyphs
    final = out.rsplit("\r\x1b[2K", 1)[-1]  # what stays on the screen after the progress line is cleared
    screen = [re.sub(r"\x1b\[[0-9;]*m", "", ln) for ln in final.replace("\r\n", "\n").rstrip("\n").split("\n")]
    last_screen = screen[-24:]
    assert any(ln.startswith("✗ scope_missing_default") for ln in last_screen), "\n".join(last_screen)
    assert any(ln.lstrip().startswith("fix:") for ln in last_screen)
    assert len(screen) <= 30
