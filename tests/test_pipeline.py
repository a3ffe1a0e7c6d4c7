"""Pipelining the credential stage: the obvious sources decided without azure-identity, and the token and
data-plane checks starting as soon as the chain's winner is certain, while slower sources finish alongside."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import ClassVar

from aoai_doctor import app
from aoai_doctor.check import Check, CheckContext, Outcome, ok
from aoai_doctor.config import Target
from aoai_doctor.model import Setting, Status
from aoai_doctor.options import Options
from aoai_doctor.runner import run_checks
from aoai_doctor.services import sandbox
from aoai_doctor.standin import StandIn, load_scenario

TARGET = Target(endpoint=None, deployments=(), api_version=None, auth=Setting("entra", "default"),
                scope=None, expected_tenant=None)

# The real azd's answer when signed out (as tests/fakes/azd prints it), after a pause: a slow late source.
SLOW_AZD = '''#!{python}
import json, os, sys, time
if sys.argv[1:2] == ["version"]:
    print("azd version 1.11.0 (commit 0000000000000000000000000000000000000000)")
    sys.exit(0)
deadline = time.monotonic() + 20
while not os.path.exists({release!r}) and time.monotonic() < deadline:  # until the test call has started
    time.sleep(0.02)
print(json.dumps({{"error": "not logged in, run `azd auth login` to login"}}))
sys.exit(1)
'''


def test_a_check_that_settles_early_lets_its_dependants_start_before_it_finishes() -> None:
    release = threading.Event()  # set by the dependant: the slow check cannot end before it started

    class Fast(Check):
        id, name, summary, required = "TEST101", "fast", "test", False
        options: ClassVar[dict[str, object]] = {}

        def run(self, ctx: CheckContext) -> Outcome:
            return Outcome((ok("fast"),), facts=("winner",))

    class Slow(Check):
        id, name, summary, required = "TEST102", "slow", "test", False
        options: ClassVar[dict[str, object]] = {}

        def run(self, ctx: CheckContext) -> Outcome:
            return Outcome((ok("released" if release.wait(5) else "never released"),), facts=("late",))

    class Verdict(Check):
        id, name, summary = "TEST103", "verdict", "test"
        uses = ("TEST101", "TEST102")
        options: ClassVar[dict[str, object]] = {}

        @classmethod
        def settled(cls, ctx: CheckContext) -> tuple[object, ...] | None:
            return ("certain",) if "winner" in ctx.facts else None

        def run(self, ctx: CheckContext) -> Outcome:
            return Outcome((ok(f"saw {sorted(map(str, ctx.facts))}"),), facts=("final",))

    class Dependant(Check):
        id, name, summary = "TEST104", "dependant", "test"
        uses = ("TEST103",)
        options: ClassVar[dict[str, object]] = {}

        def run(self, ctx: CheckContext) -> Outcome:
            seen = sorted(map(str, ctx.facts))
            release.set()
            return Outcome((ok(f"saw {seen}"),))

    results = run_checks((Fast, Slow, Verdict, Dependant), TARGET, {}, {})
    assert [r.check_id for r in results] == ["TEST101", "TEST102", "TEST103", "TEST104"]
    by_id = {r.check_id: r for r in results}
    assert by_id["TEST102"].findings[0].message == "released"
    assert by_id["TEST104"].findings[0].message == "saw ['certain', 'winner']"
    # the verdict itself still waited for every source it uses
    assert by_id["TEST103"].findings[0].message == "saw ['late', 'winner']"


def test_the_test_call_starts_before_a_slow_later_source_ends() -> None:
    """Healthy stand-in, the service principal (EnvironmentCredential, first in the chain) wins; azd, late in
    the chain, says it is signed out only once the test call has started (or after 20 s, when it never does).
    The test call must not wait for it."""
    events: dict[tuple[str, str], float] = {}
    with StandIn(load_scenario("healthy")) as standin, \
            sandbox.scenario_run(standin, dict(os.environ)) as (env, aim):
        release = Path(env["PATH"]) / "test-call-started"
        azd = Path(env["PATH"]) / "azd"
        azd.write_text(SLOW_AZD.format(python=sys.executable, release=str(release)), encoding="utf-8")
        azd.chmod(0o755)

        def seen(cid: str, event: str) -> None:
            events.setdefault((cid, event), time.monotonic())
            if (cid, event) == ("AOAI501", "start"):
                release.touch()

        report = app.execute(app.plan(aim(Options()), env), on_progress=seen)
    checks = {r.check_id: r for r in report.results}
    assert checks["AOAI201"].status is Status.PASS
    assert checks["AOAI208"].status is Status.SKIP
    assert checks["AOAI208"].skip_reason is not None and "azd auth login" in checks["AOAI208"].skip_reason
    assert checks["AOAI210"].findings[0].message.startswith("DefaultAzureCredential would use EnvironmentCredential")
    assert checks["AOAI501"].status is Status.PASS
    azd_ended = events[("AOAI208", "skip")]
    assert events[("AOAI302", "start")] < azd_ended
    assert events[("AOAI501", "start")] < azd_ended
    # the verdict still waits for azd, and the report keeps the pipeline order
    assert events[("AOAI210", "start")] >= azd_ended
    ids = [r.check_id for r in report.results]
    assert ids.index("AOAI208") < ids.index("AOAI210") < ids.index("AOAI302") < ids.index("AOAI501")


def _doctor(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-X", "importtime", "-m", "aoai_doctor", "run", "--select", "AOAI2",
                           "--endpoint", "https://contoso-openai.openai.azure.com", "--deployment", "chat",
                           "--api-version", "2024-10-21", "--format", "json", *args],
                          env=env, capture_output=True, text=True, timeout=60, cwd=env["HOME"])


def test_sources_without_their_precondition_are_unavailable_without_azure_identity(tmp_path: Path) -> None:
    """No variables, no tools on PATH, no token cache, no broker package, IMDS refused: every source is
    unavailable in azure-identity's own words, and azure.identity is never even imported."""
    home = tmp_path / "bare"
    home.mkdir()
    env = {"HOME": str(home), "PATH": str(home), "PYTHONPATH": str(Path(__file__).resolve().parent.parent),
           "AZURE_POD_IDENTITY_AUTHORITY_HOST": os.environ["AZURE_POD_IDENTITY_AUTHORITY_HOST"]}
    proc = _doctor(env)
    assert proc.returncode == 1, proc.stderr[-2000:]
    checks = {c["id"]: c for c in json.loads(proc.stdout)["checks"]}
    out = json.dumps(checks)
    assert all(checks[f"AOAI20{n}"]["skip_reason"].startswith("unavailable: ") for n in range(1, 10))
    for text in (
        "EnvironmentCredential authentication unavailable. Environment variables are not fully configured.",
        "Missing required arguments: 'tenant_id', 'client_id', 'token_file_path'.",
        "ManagedIdentityCredential authentication unavailable, no response from the IMDS endpoint.",
        "SharedTokenCacheCredential authentication unavailable. No accounts were found in the cache.",
        "VisualStudioCodeCredential requires the 'azure-identity-broker' package to be installed.",
        "Azure CLI not found on path",
        "PowerShell is not installed",
        "Azure Developer CLI could not be found.",
        "The 'azure-identity-broker' package is required to use brokered authentication.",
        "nothing shows which one was meant",
    ):
        assert text in out, text
    imported = {line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines() if line.startswith("import time")}
    assert "aoai_doctor.services.preconditions" in imported
    assert not any(name.startswith("azure.identity") for name in imported)


def test_a_source_whose_precondition_holds_is_still_asked(tmp_path: Path) -> None:
    """A token cache file and an az on PATH: both sources are asked through azure-identity for real."""
    home = tmp_path / "bare"
    (home / ".IdentityService").mkdir(parents=True)
    (home / ".IdentityService" / "msal.cache.nocae").write_text("{}", encoding="utf-8")
    az = home / "az"
    az.write_text(f"#!{sys.executable}\nimport sys\nsys.stderr.write(\"ERROR: Please run 'az login' to setup "
                  "account.\\n\")\nsys.exit(1)\n", encoding="utf-8")
    az.chmod(0o755)
    env = {"HOME": str(home), "PATH": str(home), "PYTHONPATH": str(Path(__file__).resolve().parent.parent),
           "AZURE_POD_IDENTITY_AUTHORITY_HOST": os.environ["AZURE_POD_IDENTITY_AUTHORITY_HOST"]}
    proc = _doctor(env)
    imported = {line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines() if line.startswith("import time")}
    assert "azure.identity" in imported
    checks = {c["id"]: c for c in json.loads(proc.stdout)["checks"]}
    # AzureCliCredential's own NOT_LOGGED_IN, from running the az found on PATH
    assert checks["AOAI206"]["skip_reason"] == "unavailable: Please run 'az login' to set up an account"
    # the cache file exists, so azure-identity opened it; an empty cache holds no account, in the same words
    assert checks["AOAI204"]["skip_reason"] == (
        "unavailable: SharedTokenCacheCredential authentication unavailable. No accounts were found in the cache.")
