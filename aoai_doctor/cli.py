"""The command line. The only module that prints or exits.

Exit codes: 0 every required check passed; 1 a required check failed (or warned, with --fail-on
warning); 2 usage or configuration error; 3 internal error (a required check crashed and none failed).
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import sys
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from aoai_doctor._version import __version__
from aoai_doctor.config import ConfigError
from aoai_doctor.options import FailOn, Format, NetworkErrors, Options, Output, Redaction
from aoai_doctor.redaction import Secret

if TYPE_CHECKING:
    from aoai_doctor.model import Report
    from aoai_doctor.redaction import KnownSecrets

# The exit codes of a run (0, 1, 3) come from aoai_doctor.app.exit_code; this one is the CLI's own.
EXIT_CONFIG = 2
FORMATS = tuple(f.value for f in Format)


def _fail(message: str, code: int = EXIT_CONFIG) -> NoReturn:
    click.echo(f"aoai-doctor: error: {message}", err=True)
    sys.exit(code)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "--version", prog_name="aoai-doctor")
def main() -> None:
    """Diagnose Azure OpenAI calls made with Microsoft Entra ID or an API key.

    Run `aoai-doctor run` in the directory of your app (it reads AZURE_OPENAI_* variables, a
    config.json and checks.toml), or pass --endpoint/--deployment/--api-version.
    """


def run_options(func: Any) -> Any:
    """The options shared by `run` and the commands that wrap it."""
    options = [
        click.option("--endpoint", metavar="URL", help="Resource endpoint, e.g. https://NAME.openai.azure.com."),
        click.option("--deployment", metavar="NAME", help="Deployment name."),
        click.option("--deployment-kind", type=click.Choice(["chat", "completion", "embedding"]),
                     help="What the deployment serves, and so which route to call (default: chat)."),
        click.option("--api-version", metavar="VERSION", help="api-version, e.g. 2024-10-21."),
        click.option("--auth", type=click.Choice(["entra", "api-key"]), help="Auth mode (default: entra)."),
        click.option("--scope", metavar="SCOPE", help="Token scope your code asks for."),
        click.option("--expect-tenant", metavar="TENANT", help="Tenant the resource lives in."),
        click.option("--expect-credential", metavar="NAME",
                     help="Fail unless DefaultAzureCredential would use this source (e.g. AzureCliCredential)."),
        click.option("--verify-chain", is_flag=True,
                     help="Also run the real DefaultAzureCredential() once and confirm the prediction."),
        click.option("--token-file", metavar="PATH",
                     help="Check this token (a JWT) instead of getting one; '-' reads standard input."),
        click.option("--allow-host", multiple=True, metavar="HOST",
                     help="Also send the token or key to HOST (a gateway or proxy of yours; repeatable)."),
        click.option("--resolve", multiple=True, metavar="HOST:PORT:ADDR",
                     help="Connect to ADDR for HOST:PORT, as curl --resolve (e.g. a private endpoint's IP)."),
        click.option("--no-live", is_flag=True, help="Skip the billable test call (and the checks that read it)."),
        click.option("--repeat", type=click.IntRange(0, 1000), default=0, metavar="N",
                     help="Make N more calls and report p50/p95/max latency (billable)."),
        click.option("--concurrency", type=click.IntRange(1, 64), default=1, metavar="C",
                     help="With --repeat: calls in flight at once."),
        click.option("--stream", is_flag=True, help="Also measure the time to the first streamed token (billable)."),
        click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
                     help="Samples-style config.json (default: ./config.json when present)."),
        click.option("--checks", "checks_path", type=click.Path(dir_okay=False, path_type=Path),
                     help="checks.toml (default: ./checks.toml when present)."),
        click.option("--select", multiple=True, metavar="PREFIX",
                     help="Run only checks whose id starts with PREFIX (repeatable; AOAI1 = config stage)."),
        click.option("--ignore", multiple=True, metavar="PREFIX", help="Skip checks whose id starts with PREFIX."),
        click.option("--format", "fmt", type=click.Choice(FORMATS), multiple=True,
                     help="text (default), json, junit or markdown; repeatable, each with its own --output."),
        click.option("--output", type=click.Path(dir_okay=False, path_type=Path), multiple=True,
                     help="Write the matching --format to FILE (the first --output goes with the first --format)."),
        click.option("--ci", is_flag=True, help="CI mode: no colour, no progress, ASCII (on when CI=true)."),
        click.option("--fail-on", type=click.Choice(["error", "warning"]), default="error", show_default=True,
                     help="What fails the run: a required check that fails, or also one that warns."),
        click.option("--network-errors", type=click.Choice(["fail", "warn"]), default="fail", show_default=True,
                     help="Treat DNS, connection and timeout failures as warnings (flaky runners)."),
        click.option("--expect-region", metavar="REGION", help="Fail when the call is served from another region."),
        click.option("--prompt", metavar="TEXT", help="The test call's prompt (default: a neutral 'ping')."),
        click.option("--redact", type=click.Choice(["standard", "strict"]), default="standard", show_default=True,
                     help="strict also masks tenant and object ids, user names and host names (stable hashes)."),
        click.option("--debug", is_flag=True, help="Show azure-identity's and MSAL's own log on stderr (redacted)."),
        click.option("-v", "--verbose", is_flag=True, help="Show detail lines and where each value came from."),
        click.option("-q", "--quiet", is_flag=True, help="No live progress; only the report."),
        click.option("--exit-zero", is_flag=True,
                     help="Exit 0 even when checks fail (configuration errors still exit 2)."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


@main.command()
@run_options
def run(**opts: Any) -> None:
    """Run the checks against the configured target and report."""
    sys.exit(execute_run(opts, environ=dict(os.environ)))


def options_from(opts: Mapping[str, Any], read_cwd: bool = True) -> Options:
    """The run's :class:`Options` from the click keyword arguments of ``run``. Raises ConfigError."""
    token, token_source = _read_token(opts.get("token_file"))
    return Options(
        endpoint=opts.get("endpoint"),
        deployment=opts.get("deployment"),
        deployment_kind=opts.get("deployment_kind"),
        api_version=opts.get("api_version"),
        auth=opts.get("auth"),
        scope=opts.get("scope"),
        expect_tenant=opts.get("expect_tenant"),
        token=Secret(token) if token is not None else None,
        token_source=token_source,
        allow_hosts=tuple(opts.get("allow_host") or ()),
        resolve=tuple(opts.get("resolve") or ()),
        config_file=opts.get("config_path"),
        checks_file=opts.get("checks_path"),
        read_cwd=read_cwd,
        select=tuple(opts.get("select") or ()),
        ignore=tuple(opts.get("ignore") or ()),
        live=False if opts.get("no_live") else None,
        repeat=opts.get("repeat") or None,
        concurrency=opts.get("concurrency") if opts.get("repeat") else None,
        stream=True if opts.get("stream") else None,
        expect_region=opts.get("expect_region") or None,
        prompt=opts.get("prompt") or None,
        expect_credential=opts.get("expect_credential") or None,
        verify_chain=True if opts.get("verify_chain") else None,
        fail_on=FailOn(opts.get("fail_on") or "error"),
        network_errors=NetworkErrors(opts.get("network_errors") or "fail"),
        redaction=Redaction(opts.get("redact") or "standard"),
        outputs=_outputs(opts),
        verbose=bool(opts.get("verbose")),
        exit_zero=bool(opts.get("exit_zero")),
    )


def execute_run(opts: dict[str, Any], environ: dict[str, str], read_cwd: bool = True,
                adjust: Callable[[Options], Options] | None = None) -> int:
    """Run the doctor from the click keyword arguments, write the report; return the exit code.
    ``read_cwd``: also read ./checks.toml and ./config.json when no file is named; ``adjust``: a last
    change to the options (the demo points them at its stand-in)."""
    from aoai_doctor import app

    try:
        options = options_from(opts, read_cwd)
        if adjust is not None:
            options = adjust(options)
        plan = app.plan(options, environ)
    except ConfigError as exc:
        _fail(str(exc))

    ci = bool(opts.get("ci")) or environ.get("CI", "").lower() in ("true", "1")
    if opts.get("debug"):
        _debug_logging(plan.secrets)
    is_tty = sys.stderr.isatty() and sys.stdout.isatty() and not ci
    if is_tty and not opts.get("quiet"):
        from aoai_doctor.reporters.progress import Progress

        with Progress(sys.stderr, len(plan.checks), unicode=_can_encode("✓⠋")) as progress:
            report = app.execute(plan, on_progress=progress.update)
    else:
        report = app.execute(plan)
    _emit(report, options, environ, ci)
    return app.exit_code(report, options)


def _read_token(path: str | None) -> tuple[str | None, str | None]:
    """The token named by --token-file ('-' for standard input)."""
    if not path:
        return None, None
    if path == "-":
        return sys.stdin.read().strip(), "standard input (--token-file -)"
    try:
        return Path(path).read_text(encoding="utf-8").strip(), f"flag --token-file {path}"
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(path, f"cannot read the token file: {getattr(exc, 'strerror', None) or exc}") from None


def _outputs(opts: Mapping[str, Any]) -> tuple[Output, ...]:
    """Pair each --format with its --output (None: standard output)."""
    formats = list(opts.get("fmt") or ()) or ["text"]
    outputs = list(opts.get("output") or ())
    if len(outputs) > len(formats):
        if len(formats) == 1 and not opts.get("fmt"):
            formats = formats * len(outputs)
        else:
            raise ConfigError("--output", f"{len(outputs)} outputs for {len(formats)} formats; give each --output "
                              "after its --format")
    pairs = tuple(Output(Format(f), outputs[i] if i < len(outputs) else None) for i, f in enumerate(formats))
    if sum(1 for o in pairs if o.path is None) > 1:
        raise ConfigError("--format", "only one format can go to standard output; give the others an --output")
    return pairs


def _emit(report: Report, options: Options, environ: Mapping[str, str], ci: bool) -> None:
    """Render the report in every requested format and write each where it belongs."""
    from aoai_doctor.reporters import Style, reporter

    fail_on_warning = options.fail_on_warning
    stdout_format = next((o.format for o in options.outputs if o.path is None), None)
    for output in options.outputs:
        plain = ci or "NO_COLOR" in environ or not (output.path is None and sys.stdout.isatty())
        style = Style(unicode=not plain and _can_encode("✓✗‼"), color=not plain, verbose=options.verbose,
                      fail_on_warning=fail_on_warning, width=shutil.get_terminal_size((80, 24)).columns)
        text = reporter(output.format)(report, style)
        if output.path is None:
            click.echo(text, nl=False)
            continue
        try:
            output.path.write_text(text, encoding="utf-8")
        except OSError as exc:
            _fail(f"cannot write {output.path}: {exc.strerror or exc}")
    if environ.get("GITHUB_ACTIONS") == "true":
        from aoai_doctor.reporters import github

        annotations = github.annotations(report, fail_on_warning=fail_on_warning)
        if annotations:
            # Workflow commands are read from the step's output; keep them out of a machine format on stdout.
            click.echo(annotations, nl=not annotations.endswith("\n"),
                       err=stdout_format not in (None, Format.TEXT))
        summary_path = environ.get("GITHUB_STEP_SUMMARY")
        if summary_path:
            try:
                with open(summary_path, "a", encoding="utf-8") as summary:
                    summary.write(github.summary(report, fail_on_warning=fail_on_warning) + "\n")
            except OSError as exc:
                click.echo(f"aoai-doctor: warning: cannot append to GITHUB_STEP_SUMMARY: {exc}", err=True)


def _debug_logging(secrets: KnownSecrets) -> None:
    """azure-identity's, azure-core's and MSAL's own log on stderr, with secrets scrubbed (tokens
    obtained during the run are masked as soon as their check finishes)."""
    import logging

    class Redacting(logging.Formatter):
        def format(self, record: logging.LogRecord) -> str:
            return secrets.clean(super().format(record))

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(Redacting("%(asctime)s %(name)s %(levelname)s %(message)s"))
    for name in ("azure", "msal"):
        logger = logging.getLogger(name)
        logger.handlers = [handler]
        logger.setLevel(logging.DEBUG)
        logger.propagate = False


def _can_encode(sample: str) -> bool:
    try:
        sample.encode(sys.stdout.encoding or "ascii")
    except (UnicodeEncodeError, LookupError):
        return False
    return True


@main.command()
@click.argument("text", required=False)
@click.option("--file", "file_path", type=click.Path(dir_okay=False, path_type=Path), help="Read the text from FILE.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def explain(text: str | None, file_path: Path | None, fmt: str) -> None:
    """Explain an error: the root cause, how sure, the evidence, the fix, and the check that confirms it.

    TEXT is the error as you have it (a DefaultAzureCredential chain failure, an AADSTS error, an
    Azure OpenAI error body, a traceback, log lines); `-` reads standard input. A check id
    (`AOAI102`) prints that check's documentation; a cause id (`scope_missing_default`) its page.
    """
    import json
    import re

    from aoai_doctor import explainer as kb

    if file_path is not None:
        try:
            text = file_path.read_bytes().decode("utf-8", errors="replace")
        except OSError as exc:
            _fail(f"cannot read {file_path}: {exc.strerror or exc}")
    elif text == "-" or (text is None and not sys.stdin.isatty()):
        text = sys.stdin.buffer.read().decode("utf-8", errors="replace")
    if not text or not text.strip():
        _fail("nothing to explain: give the error text, '-' for standard input, or --file PATH")
    word = text.strip()
    if re.fullmatch(r"[A-Za-z]{2,8}\d{3}", word):
        click.echo(_check_page(word.upper()), nl=False)
        return
    if word.lower() in kb.cause_ids():
        from aoai_doctor.explainer.kb import load_knowledge_base
        from aoai_doctor.explainer.pages import render_page

        page = render_page(load_knowledge_base(), word.lower())
        click.echo("".join(ln for ln in page.splitlines(keepends=True) if not ln.startswith("<!-- Generated")),
                   nl=False)
        return
    answer = kb.explain(text)
    if fmt == "json":
        click.echo(json.dumps(kb.to_dict(answer), indent=2, ensure_ascii=False))
    else:
        color = sys.stdout.isatty() and "NO_COLOR" not in os.environ
        click.echo(kb.render_text(answer, color=color), nl=False)


def _check_page(check_id: str) -> str:
    """A check's documentation page, from its docstring."""
    from aoai_doctor import registry
    from aoai_doctor.check import doc_page
    from aoai_doctor.config import did_you_mean

    checks = registry.load().by_id()
    if check_id not in checks:
        _fail(f"no check {check_id}{did_you_mean(check_id, list(checks))}; 'aoai-doctor checks' lists them")
    return doc_page(checks[check_id])


@main.command()
@run_options
def report(**opts: Any) -> None:
    """Run every check and write a support bundle: aoai-doctor-report-<UTC time>.json.

    The JSON report with versions, the variables that are set (names only), the resolved target and
    where each value came from, every check's result and timing, the credential that won and its
    identity, and the request and correlation ids support asks for. Never a secret; add
    `--redact strict` to also mask tenant and object ids, user names and host names.
    """
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    path = Path(f"aoai-doctor-report-{stamp}.json")
    opts["fmt"] = ("json",)
    opts["output"] = (path,)
    opts["quiet"] = True
    code = execute_run(opts, environ=dict(os.environ))
    click.echo(f"wrote {path}", err=True)
    sys.exit(code)


DEMO_SCENARIO = "scope-missing-default"


@main.command()
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

    with _standin(scenario) as standin, sandbox.client_environment(standin, dict(os.environ)) as env:
        settings = standin.scenario.client
        # Call the resource by its real host name, pinned to the stand-in's loopback port.
        endpoint, pin = sandbox.named_endpoint(standin, env["AZURE_OPENAI_ENDPOINT"])
        env["AZURE_OPENAI_ENDPOINT"] = endpoint

        def aim(options: Options) -> Options:
            return dataclasses.replace(
                options,
                resolve=(*options.resolve, pin),
                prompt=options.prompt or settings.prompt or None,
            )

        with sandbox.applied(env):
            # The scenario is the whole configuration: no config.json or checks.toml from the current
            # directory unless --config / --checks name one.
            code = execute_run(opts, environ=env, read_cwd=False, adjust=aim)
    sys.exit(code)


@main.command()
@click.option("--scenario", default="healthy", show_default=True, metavar="NAME|FILE",
              help="A built-in scenario or a scenario TOML file.")
@click.option("--port", type=click.IntRange(1, 65531), default=None, metavar="PORT",
              help="Fixed ports: Entra on PORT, Azure OpenAI PORT+1, regional host PORT+2, ARM PORT+3, "
                   "managed identity PORT+4 (default: free ports).")
@click.option("--list", "list_only", is_flag=True, help="List the built-in scenarios and exit.")
def emulate(scenario: str, port: int | None, list_only: bool) -> None:
    """Run the stand-in in the foreground, for your own app to talk to.

    Prints the `export` lines your app's shell needs (authority host, CA bundle, managed identity
    endpoint, AZURE_OPENAI_*), then serves until Ctrl-C. Everything binds 127.0.0.1 only.
    """
    import shlex
    import signal

    from aoai_doctor.standin import load_scenario, scenario_names

    if list_only:
        for name in scenario_names():
            click.echo(f"{name:28} {load_scenario(name).description}")
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
        def interrupt(*_: object) -> None:
            raise KeyboardInterrupt  # SIGTERM stops the stand-in the way Ctrl-C does

        signal.signal(signal.SIGTERM, interrupt)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


def _standin(scenario: str, base_port: int = 0) -> Any:
    """A started stand-in for a scenario name or file; scenario errors exit 2 with one line."""
    from aoai_doctor.standin import ScenarioError, StandIn, StandInError, load_scenario

    try:
        return StandIn(load_scenario(scenario), base_port=base_port).start()
    except (ScenarioError, StandInError) as exc:
        _fail(str(exc))
    except OSError as exc:
        _fail(f"cannot start the stand-in: {exc.strerror or exc}")


@main.command(name="checks")
@click.option("--checks", "checks_path", type=click.Path(dir_okay=False, path_type=Path),
              help="checks.toml naming local checks (default: ./checks.toml when present).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def list_checks(checks_path: Path | None, fmt: str) -> None:
    """List every check: id, name, stage and what it looks at."""
    import json

    from tabulate import tabulate  # type: ignore[import-untyped]

    from aoai_doctor import config, registry
    from aoai_doctor.model import Stage

    try:
        checks_file = config.load_checks_file(checks_path or config.find_default("checks.toml"),
                                              explicit=checks_path is not None)
    except config.ConfigError as exc:
        _fail(str(exc))
    reg = registry.load(checks_file.local_checks, checks_file.path.parent if checks_file.path else None)
    if fmt == "json":
        click.echo(json.dumps([{"id": c.id, "name": c.name, "stage": Stage.of(c.id).name.lower(),
                                "summary": c.summary, "requires": list(c.requires), "required": c.required}
                               for c in reg.checks], indent=2))
    else:
        rows = [[c.id, c.name, Stage.of(c.id).title, c.summary] for c in reg.checks]
        click.echo(tabulate(rows, headers=["id", "name", "stage", "what it looks at"], tablefmt="simple"))
    for error in reg.errors:
        click.echo(f"aoai-doctor: warning: plugin {error.name} could not be loaded: {error.problem}", err=True)


if __name__ == "__main__":  # pragma: no cover
    main()
