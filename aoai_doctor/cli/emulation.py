"""``aoai-doctor demo`` and ``emulate``: the built-in stand-in for Entra, managed identity and Azure OpenAI."""

from __future__ import annotations

import gc
import os
import sys
import time
from typing import Any

import click

from aoai_doctor.cli.common import fail
from aoai_doctor.cli.run import execute_run, run_options

DEMO_SCENARIO = "scope-missing-default"


@click.command()
@click.option("--scenario", default=DEMO_SCENARIO, show_default=True, metavar="NAME|FILE",
              help="A built-in scenario (see `aoai-doctor emulate --list`) or a scenario TOML file.")
@run_options
def demo(scenario: str, **opts: Any) -> None:
    """Run the doctor against the built-in Entra + managed identity + Azure OpenAI stand-in.

    Starts the stand-in for SCENARIO on loopback, points a private environment at it, runs
    `aoai-doctor run` (taking all of its options), prints the report, and stops the stand-in.
    The default scenario is the classic mistake: a token requested for
    `https://cognitiveservices.azure.com` without `/.default`.
    """
    from aoai_doctor.services import sandbox

    with _standin(scenario) as standin, sandbox.scenario_run(standin, dict(os.environ)) as (env, aim):
        # The scenario is the whole configuration: no config.json or checks.toml from the current
        # directory unless --config / --checks name one.
        code = execute_run(opts, environ=env, read_cwd=False, adjust=aim)
    sys.exit(code)


@click.command()
@click.option("--scenario", default="healthy", show_default=True, metavar="NAME|FILE",
              help="A built-in scenario or a scenario TOML file.")
@click.option("--port", type=click.IntRange(1, 65531), default=None, metavar="PORT",
              help="Fixed ports: Entra on PORT, Azure OpenAI PORT+1, regional host PORT+2, ARM PORT+3, "
                   "managed identity PORT+4 (default: free ports).")
@click.option("--list", "list_only", is_flag=True, help="List the built-in scenarios and exit.")
@click.option("--detach", is_flag=True,
              help="Serve from a background process and return at once, for: eval \"$(aoai-doctor emulate "
                   "--detach)\". The last line says how to stop it.")
def emulate(scenario: str, port: int | None, list_only: bool, detach: bool) -> None:
    """Run the stand-in in the foreground, for your own app to talk to.

    Prints the `export` lines your app's shell needs (authority host, CA bundle, managed identity
    endpoint, AZURE_OPENAI_*), then serves until Ctrl-C. Everything binds 127.0.0.1 only. With
    `--detach`, a background process serves and the command returns after printing the lines, so
    `eval "$(aoai-doctor emulate --scenario S --detach)"` sets up the shell in one step.
    """
    import shlex
    import signal

    from aoai_doctor.standin import load_scenario, scenario_names

    if list_only:
        import shutil
        import textwrap

        names = scenario_names()
        width = max(len(n) for n in names) + 2
        columns = max(60, shutil.get_terminal_size((80, 24)).columns)
        for name in names:
            lines = textwrap.wrap(load_scenario(name).description, columns - width) or [""]
            click.echo(f"{name:<{width}}{lines[0]}")
            for line in lines[1:]:
                click.echo(" " * width + line)
        return
    if detach:
        _detach(scenario, port)
        return
    from aoai_doctor.services.sandbox import doctor_env

    with _standin(scenario, port or 0) as standin:
        env = {**standin.client_env(), **doctor_env(standin)}
        click.echo(f"# aoai-doctor stand-in for scenario '{standin.scenario.name}' on 127.0.0.1")
        click.echo(f"# {standin.scenario.description}")
        for key in sorted(env):
            click.echo(f"export {key}={shlex.quote(env[key])}")
        click.echo("# MSAL-based credentials (EnvironmentCredential, DefaultAzureCredential) also need "
                   "disable_instance_discovery=True here: MSAL asks the public login.microsoftonline.com "
                   "to validate an authority it does not know.")
        click.echo("# Ctrl-C stops the stand-in.", err=True)
        class Stopped(Exception):
            """SIGTERM: the stand-in is stopped on purpose (Ctrl-C ends it with 130, as any command)."""

        def stop(*_: object) -> None:
            raise Stopped

        signal.signal(signal.SIGTERM, stop)
        gc.enable()  # the command line turns it off (see command_line): this command does not end on its own
        try:
            while True:
                time.sleep(3600)
        except Stopped:
            pass


def _detach(scenario: str, port: int | None) -> None:
    """Start ``emulate`` in a new session with its output to a pipe, pass its ``export`` lines on once
    it is serving, and leave it running (the last line names its process id)."""
    import subprocess

    argv = [sys.executable, "-m", "aoai_doctor", "emulate", "--scenario", scenario]
    if port:
        argv += ["--port", str(port)]
    child = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
                             text=True, start_new_session=True)
    assert child.stdout is not None
    lines = []
    for line in child.stdout:
        lines.append(line.rstrip("\n"))
        if line.startswith("# MSAL"):  # the last line emulate prints before it serves
            break
    child.stdout.close()
    if child.poll() is not None or not any(ln.startswith("export ") for ln in lines):
        fail(f"the stand-in did not start (exit {child.wait()}); run without --detach to see why")
    for line in lines:
        click.echo(line)
    click.echo(f"# kill {child.pid} stops the stand-in.")


def _standin(scenario: str, base_port: int = 0) -> Any:
    """A started stand-in for a scenario name or file; scenario errors exit 2 with one line."""
    from aoai_doctor.standin import ScenarioError, StandIn, StandInError, load_scenario

    try:
        return StandIn(load_scenario(scenario), base_port=base_port).start()
    except (ScenarioError, StandInError) as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"cannot start the stand-in: {exc.strerror or exc}")
