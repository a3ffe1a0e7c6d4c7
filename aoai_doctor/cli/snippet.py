"""``aoai-doctor snippet``: run the doctor, and when the target is healthy print a program that calls it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from aoai_doctor.cli.common import fail
from aoai_doctor.cli.run import file_settings_applied, options_from, run_options
from aoai_doctor.config import ConfigError

if TYPE_CHECKING:
    from aoai_doctor.redaction import KnownSecrets

EXIT_OK, EXIT_NOT_HEALTHY = 0, 1
VERIFY_TIMEOUT_S = 120.0
"""How long ``--verify`` waits for the program (its SDK retries included)."""


@click.command()
@run_options
@click.option("--style", type=click.Choice(["openai", "requests", "curl"]), default="openai", show_default=True,
              help="openai: the openai SDK; requests: azure-identity + requests; curl: a shell script with az.")
@click.option("--verify", is_flag=True,
              help="Also run the program against the target (one more billable call) and report how it went.")
def snippet(style: str, verify: bool, **opts: Any) -> None:
    """Run the checks; when the target is healthy, print a program that calls it.

    The program (on standard output, so `aoai-doctor snippet > app.py` works) uses what the run proved:
    the route, api-version or v1 base URL, the scope, the credential source that won the chain, the
    deployment kind. Secrets stay in the variables they came from, read by name. When the target is
    not healthy, no program: one line with the diagnosis on standard error and exit 1 (`aoai-doctor
    run` shows the whole report). `--verify` runs the program (python, or sh for curl) in a subprocess
    and reports its exit code and the model's answer, or the failure; then it exits 0 when the program did, else 1.
    Exits 2 for a usage or configuration error.
    """
    from aoai_doctor import app
    from aoai_doctor.snippet import snippet as write_program
    from aoai_doctor.snippet import why_not

    if opts.get("fmt") or opts.get("output"):
        fail("snippet prints a program, not a report; use `aoai-doctor run --format ...` for reports")
    if opts.get("redact") == "strict":
        fail("--redact strict masks the host names the program must call; leave it out for snippet")
    if opts.get("targets_path") or opts.get("all_deployments"):
        fail("snippet writes a program for one target; name it with --endpoint and --deployment")
    environ = dict(os.environ)
    try:
        plan = app.plan(options_from(opts), environ)
    except ConfigError as exc:
        fail(str(exc))
    with file_settings_applied(plan.environ):
        report = app.execute(plan)
    reason = why_not(report)
    if reason is not None:
        click.echo(f"aoai-doctor: no program: {reason}", err=True)
        click.echo("aoai-doctor: `aoai-doctor run` with the same options shows the whole report", err=True)
        _exit(EXIT_NOT_HEALTHY, report)
    program = write_program(report, style)
    click.echo(program, nl=False)
    if verify:
        code, said = run_program(program, style, dict(plan.environ), plan.secrets)  # as the app sees it, .env too
        click.echo(f"aoai-doctor: verify: {said}", err=True)
        _exit(EXIT_OK if code == 0 else EXIT_NOT_HEALTHY, report)
    _exit(EXIT_OK, report)


def _exit(code: int, report: Any) -> None:
    """Exit with ``code``; at once when a check's thread still hangs (as ``run`` does)."""
    if any(r.data.get("hung") for r in report.results):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


def run_program(program: str, style: str, environ: dict[str, str], secrets: KnownSecrets) -> tuple[int, str]:
    """Run ``program`` (python, or sh for the curl style) in a subprocess with ``environ``; its exit code
    and one line on how it went: the model's answer, or the failure (secrets masked)."""
    suffix, runner = (".sh", ["sh"]) if style == "curl" else (".py", [sys.executable])
    with tempfile.TemporaryDirectory(prefix="aoai-doctor-snippet-") as scratch:
        path = Path(scratch) / f"aoai_doctor_snippet{suffix}"
        path.write_text(program, encoding="utf-8")
        try:
            done = subprocess.run([*runner, str(path)], env=environ, capture_output=True, text=True,
                                  timeout=VERIFY_TIMEOUT_S, check=False, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            return 124, f"the {style} program did not finish in {VERIFY_TIMEOUT_S:.0f} s"
        except OSError as exc:
            return 127, f"cannot run the {style} program: {exc.strerror or exc}"
    from aoai_doctor.snippet import model_answer

    out = secrets.clean(done.stdout).strip()
    err = secrets.clean(done.stderr).strip()
    if done.returncode == 0:
        answer = " ".join(model_answer(out).split()) or "(nothing)"
        answer = answer if len(answer) <= 300 else answer[:299] + "…"
        return 0, f"the {style} program exited 0; the model answered: {answer}"
    return done.returncode, f"the {style} program exited {done.returncode}: {_failure(err or out, style)}"


_EXCEPTION = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Exit)(: |$)")


def _failure(text: str, style: str) -> str:
    """What says why a program failed: a Python traceback's exception (with the lines after it), else
    the last line; with the package to install when one is missing."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    raised = [i for i, ln in enumerate(lines) if _EXCEPTION.match(ln)]
    last = " ".join(lines[raised[-1]:]) if raised else lines[-1] if lines else "no output"
    if "No module named" in last:
        package = last.split("No module named", 1)[1].strip(" '\"").split(".")[0].replace("_", "-")
        return f"{last} (install it where the program runs: pip install {package})"
    if style == "curl" and ("not found" in last and ("az" in last or "curl" in last)):
        return f"{last} (the curl style needs curl and the Azure CLI on PATH)"
    return last if len(last) <= 500 else last[:499] + "…"
