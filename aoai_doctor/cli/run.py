"""``aoai-doctor run`` and ``report``: the options of a run, and where its reports go."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import sys
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from aoai_doctor.cli.common import EXIT_INTERRUPTED, fail
from aoai_doctor.config import DEPLOYMENT_KINDS, ConfigError
from aoai_doctor.model import FleetReport, Report
from aoai_doctor.options import DEFAULT_DEADLINE, FailOn, Format, NetworkErrors, Options, Output, Redaction
from aoai_doctor.redaction import Secret

if TYPE_CHECKING:
    from aoai_doctor import app, fleet
    from aoai_doctor.redaction import KnownSecrets

FORMATS = tuple(f.value for f in Format)


def run_options(func: Any) -> Any:
    """The options shared by `run` and the commands that wrap it."""
    options = [
        click.option("--endpoint", metavar="URL", help="Resource endpoint, e.g. https://NAME.openai.azure.com."),
        click.option("--deployment", metavar="NAME", help="Deployment name."),
        click.option("--deployment-kind", type=click.Choice(list(DEPLOYMENT_KINDS)),
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
        click.option("--targets", "targets_path", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
                     help="Check every target of FILE's [[targets]] tables in one run (as checks.toml's)."),
        click.option("--all-deployments", is_flag=True,
                     help="Check every deployment Resource Manager lists for the endpoint (with the same identity)."),
        click.option("--parallel", type=click.IntRange(1, 64), default=8, show_default=True, metavar="N",
                     help="With many targets: how many are checked at once."),
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
        click.option("--env-file", "env_files", multiple=True, type=click.Path(dir_okay=False, path_type=Path),
                     help="A .env file the app loads (repeatable; a later one wins; below the real environment). "
                          "Default: ./.env and azd's .azure/<env>/.env when present."),
        click.option("--select", multiple=True, metavar="PREFIX",
                     help="Run only checks whose id starts with PREFIX (repeatable; AOAI1 = config stage)."),
        click.option("--ignore", multiple=True, metavar="PREFIX", help="Skip checks whose id starts with PREFIX."),
        click.option("--format", "fmt", multiple=True, metavar="FMT[=FILE]",
                     help="text (default), json, junit or markdown, to standard output or, as FMT=FILE, to a file; "
                          "repeatable."),
        click.option("--output", multiple=True, metavar="FILE",
                     help="Write the report to FILE ('-': standard output). Pairs with the --format its extension "
                          "names (.json, .xml, .md, .txt), else with the --formats in order; alone, the extension "
                          "decides."),
        click.option("--color", type=click.Choice(["auto", "always", "never"]), default="auto", show_default=True,
                     help="Colour in the text report (auto: on a terminal, unless NO_COLOR is set; FORCE_COLOR "
                          "forces it)."),
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
        click.option("--deadline", type=click.FloatRange(1, 3600), default=DEFAULT_DEADLINE, show_default=True,
                     metavar="SECONDS", help="The whole run's time: then unfinished checks are reported as timed "
                     "out, with the phase they were in, and the run ends."),
        click.option("-v", "--verbose", is_flag=True, help="Show detail lines and where each value came from."),
        click.option("-q", "--quiet", is_flag=True, help="No live progress; only the report."),
        click.option("--exit-zero", is_flag=True,
                     help="Exit 0 even when checks fail (configuration errors still exit 2)."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


@click.command()
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
        targets_file=opts.get("targets_path"),
        all_deployments=bool(opts.get("all_deployments")),
        parallel=int(opts.get("parallel") or 8),
        config_file=opts.get("config_path"),
        checks_file=opts.get("checks_path"),
        env_files=tuple(opts.get("env_files") or ()),
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
        deadline=float(opts.get("deadline") or DEFAULT_DEADLINE),
    )


def execute_run(opts: dict[str, Any], environ: dict[str, str], read_cwd: bool = True,
                adjust: Callable[[Options], Options] | None = None) -> int:
    """Run the doctor from the click keyword arguments, write the report; return the exit code.
    ``read_cwd``: also read ./checks.toml and ./config.json when no file is named; ``adjust``: a last
    change to the options (the demo points them at its stand-in)."""
    from aoai_doctor import app, fleet

    try:
        options = options_from(opts, read_cwd)
        if adjust is not None:
            options = adjust(options)
        _writable(options.outputs)  # before any billable call
        many = fleet.plan(options, environ)
        plan = app.plan(options, environ) if many is None else None
    except ConfigError as exc:
        fail(str(exc))

    ci = bool(opts.get("ci")) or environ.get("CI", "").lower() in ("true", "1")
    with file_settings_applied(plan.environ if plan is not None else many.plans[0].environ if many else environ):
        if many is not None:
            return _run_fleet(many, options, opts, environ, ci)
        assert plan is not None
        return _run_one(plan, options, opts, environ, ci)


_ENV_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"


@contextlib.contextmanager
def file_settings_applied(merged: Mapping[str, str]) -> Iterator[None]:
    """The variables only ``.env`` files set, in this process's environment for the run: the app's
    ``load_dotenv()`` puts them there, and azure-identity's credentials read nothing else."""
    added = {name: value for name, value in merged.items()
             if name not in os.environ and re.match(_ENV_NAME, name) and "\0" not in value}  # what a process can hold
    os.environ.update(added)
    try:
        yield
    finally:
        for name in added:
            os.environ.pop(name, None)


def _run_fleet(many: fleet.Fleet, options: Options, opts: Mapping[str, Any], environ: Mapping[str, str],
               ci: bool) -> int:
    from aoai_doctor import fleet

    if opts.get("debug"):
        _debug_logging(many.secrets)
    try:
        if sys.stderr.isatty() and sys.stdout.isatty() and not ci and not opts.get("quiet"):
            from aoai_doctor.reporters.progress import Progress

            with Progress(sys.stderr, len(many.plans), unicode=_can_encode("✓⠋"), heading="Targets") as progress:
                result = fleet.execute(many, on_progress=progress.update, on_total=progress.expect)
        else:
            result = fleet.execute(many)
    except KeyboardInterrupt:  # the targets still running would hold the exit until their checks end
        click.echo("\naoai-doctor: interrupted", err=True)
        sys.stderr.flush()
        os._exit(EXIT_INTERRUPTED)
    return _reported(result, fleet.exit_code(result, options), options, opts, environ, ci)


def _run_one(plan: app.Plan, options: Options, opts: Mapping[str, Any], environ: Mapping[str, str], ci: bool) -> int:
    from aoai_doctor import app

    if opts.get("debug"):
        _debug_logging(plan.secrets)
    is_tty = sys.stderr.isatty() and sys.stdout.isatty() and not ci
    if is_tty and not opts.get("quiet"):
        from aoai_doctor.reporters.progress import Progress

        limits = {c.id: float(plan.check_options.get(c.id, {}).get("timeout", c.timeout))  # type: ignore[arg-type]
                  for c in plan.checks}
        with Progress(sys.stderr, len(plan.checks), unicode=_can_encode("✓⠋"), limits=limits) as progress:
            report = app.execute(plan, on_progress=progress.update)
    else:
        report = app.execute(plan)
    return _reported(report, app.exit_code(report, options), options, opts, environ, ci)


def _reported(report: Report | FleetReport, code: int, options: Options, opts: Mapping[str, Any],
              environ: Mapping[str, str], ci: bool) -> int:
    """``code``, once the report is out; when something still hangs in a check's thread (or a tool it
    started), the process ends now rather than wait for it at interpreter exit."""
    _emit(report, options, environ, ci, str(opts.get("color") or "auto"), ci_flag=bool(opts.get("ci")))
    if all(o.path is not None for o in options.outputs):  # every report went to a file: one line for the log
        click.echo(_one_line(report, options, ci), err=True)
    reports = report.reports if isinstance(report, FleetReport) else (report,)
    if any(r.data.get("hung") for each in reports for r in each.results):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code


def _one_line(report: Report | FleetReport, options: Options, ci: bool) -> str:
    """``aoai-doctor: <cause or ready line>; wrote a.json, b.xml``."""
    from aoai_doctor.diagnosis import diagnosis_of

    if isinstance(report, FleetReport):
        failing = len(report.failing(options.fail_on_warning))
        said = f"{len(report.reports)} targets, {len(report.reports) - failing} ready, {failing} failing"
    else:
        diagnosis = diagnosis_of(report, options.fail_on_warning)
        said = f"{diagnosis.cause}: {diagnosis.summary}" if diagnosis.cause else diagnosis.summary
    said = said if len(said) <= 160 else said[:159] + "…"
    files = ", ".join(str(o.path) for o in options.outputs)
    line = f"aoai-doctor: {said}; wrote {files}"
    return line.encode("ascii", "replace").decode() if ci else line


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
    """The renderings asked for: ``--format FMT=FILE`` pairs explicitly; an ``--output`` pairs with the
    ``--format`` before it on the command line (click keeps each option's order), else takes the format
    its extension names; ``-`` is standard output. A mismatch is a usage error."""
    pairs: list[Output] = []
    formats: list[tuple[Format, Path | None, bool]] = []  # (format, file, explicit FMT=FILE)
    for value in opts.get("fmt") or ():
        name, sep, file = str(value).partition("=")
        if name not in FORMATS:
            raise ConfigError("--format", f"unknown format '{name}'; choose from {', '.join(FORMATS)}")
        if sep and not file:
            raise ConfigError("--format", f"'{value}': give a file after '=' (or '-' for standard output)")
        formats.append((Format(name), _path(file) if file else None, bool(sep)))
    outputs = [_path(str(o)) for o in opts.get("output") or ()]
    unpaired = [f for f in formats if not f[2]]
    if len(outputs) > len(unpaired) and unpaired:
        raise ConfigError("--output", f"{len(outputs)} outputs for {len(unpaired)} formats; give each --output "
                          "after its --format, or write --format FMT=FILE")
    # an --output pairs with the --format its extension names; the rest pair in order
    by_kind: dict[int, Path | None] = {}
    for path in list(outputs):
        implied = Format.from_path(path) if path else None
        slot = next((i for i, f in enumerate(formats) if not f[2] and f[0] is implied and i not in by_kind), None)
        if slot is not None:
            by_kind[slot] = path
            outputs.remove(path)
    for index, (fmt, destination, explicit) in enumerate(formats):
        if explicit:
            pairs.append(Output(fmt, destination))
        elif index in by_kind:
            pairs.append(Output(fmt, by_kind[index]))
        else:
            path = outputs.pop(0) if outputs else None
            implied = Format.from_path(path) if path else None
            if implied is not None and implied is not fmt:
                raise ConfigError("--output", f"{path} looks like {implied.value}, but its --format is {fmt.value}; "
                                  f"write --format {fmt.value}={path} to mean it")
            pairs.append(Output(fmt, path))
    for path in outputs:  # --output without any --format: the extension decides
        implied = Format.from_path(path) if path else Format.TEXT
        if implied is None:
            raise ConfigError("--output", f"cannot tell the format of {path} from its extension; add --format")
        pairs.append(Output(implied, path))
    if not pairs:
        pairs.append(Output(Format.TEXT))
    if sum(1 for o in pairs if o.path is None) > 1:
        raise ConfigError("--format", "only one format can go to standard output; give the others a file")
    return tuple(pairs)


def _writable(outputs: tuple[Output, ...]) -> None:
    """Each report file can be written: its folder exists and takes files, and it is not a folder."""
    for output in outputs:
        path = output.path
        if path is None:
            continue
        folder = path.parent if str(path.parent) else Path(".")
        if path.is_dir() or not folder.is_dir() or not os.access(folder, os.W_OK):
            raise ConfigError(str(path), "cannot write the report there (no such folder, not writable, or a folder)")


def _path(value: str) -> Path | None:
    """A file name, or None for '-' (standard output)."""
    return None if value == "-" else Path(value)


def color_wanted(choice: str, environ: Mapping[str, str], tty: bool) -> bool:
    """``--color``: always, never, or auto: on a terminal unless NO_COLOR is set (an empty NO_COLOR
    counts as unset, per no-color.org); a non-empty FORCE_COLOR turns it on anywhere."""
    if choice == "always":
        return True
    if choice == "never" or environ.get("NO_COLOR"):
        return False
    return bool(environ.get("FORCE_COLOR")) or tty


def _emit(report: Report | FleetReport, options: Options, environ: Mapping[str, str], ci: bool,
          color_choice: str = "auto", ci_flag: bool = False) -> None:
    """Render the report (one target's, or a fleet's) in every requested format and write each where it
    belongs."""
    from aoai_doctor.reporters import Style, fleet_reporter, reporter

    fail_on_warning = options.fail_on_warning
    stdout_format = next((o.format for o in options.outputs if o.path is None), None)
    for output in options.outputs:
        tty = output.path is None and sys.stdout.isatty()
        # --ci means plain text unless --color always; CI=true only makes auto plain (FORCE_COLOR still wins)
        color = color_choice == "always" if ci_flag else color_wanted(color_choice, environ, tty and not ci)
        unicode = not ci and tty and _can_encode("✓✗‼·→…")
        style = Style(unicode=unicode, color=color, verbose=options.verbose,
                      fail_on_warning=fail_on_warning, width=shutil.get_terminal_size((80, 24)).columns)
        if isinstance(report, FleetReport):
            text = fleet_reporter(output.format)(report, style)
        else:
            text = reporter(output.format)(report, style)
        if output.path is None:
            click.echo(text, nl=False, color=color)  # click would strip the colour off a terminal
            continue
        try:
            output.path.write_text(text, encoding="utf-8")
        except OSError as exc:
            fail(f"cannot write {output.path}: {exc.strerror or exc}")
    if environ.get("GITHUB_ACTIONS") == "true":
        from aoai_doctor.reporters import github

        if isinstance(report, FleetReport):
            from aoai_doctor.reporters.markdown import render_fleet
            from aoai_doctor.reporters.text import target_label

            annotations = "".join(github.annotations(r, fail_on_warning=fail_on_warning, label=target_label(r))
                                  for r in report.reports)
            step_summary = render_fleet(report, fail_on_warning=fail_on_warning)
        else:
            annotations = github.annotations(report, fail_on_warning=fail_on_warning)
            step_summary = github.summary(report, fail_on_warning=fail_on_warning)
        if annotations:
            # Workflow commands are read from the step's output; keep them out of a machine format on stdout.
            click.echo(annotations, nl=not annotations.endswith("\n"),
                       err=stdout_format not in (None, Format.TEXT))
        summary_path = environ.get("GITHUB_STEP_SUMMARY")
        if summary_path:
            try:
                with open(summary_path, "a", encoding="utf-8") as summary:
                    summary.write(step_summary + "\n")
            except OSError as exc:
                click.echo(f"aoai-doctor: warning: cannot append to GITHUB_STEP_SUMMARY: {exc}", err=True)


def _debug_logging(secrets: KnownSecrets) -> None:
    """azure-identity's, azure-core's and MSAL's own log on stderr, and the doctor's own (a source found
    unavailable without building it), with secrets scrubbed (tokens obtained during the run are masked as soon
    as their check finishes)."""
    import logging

    class Redacting(logging.Formatter):
        def format(self, record: logging.LogRecord) -> str:
            return secrets.clean(super().format(record))

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(Redacting("%(asctime)s %(name)s %(levelname)s %(message)s"))
    for name in ("azure", "msal", "aoai_doctor"):
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



@click.command()
@run_options
def report(**opts: Any) -> None:
    """Run every check and write a support bundle: aoai-doctor-report-<UTC time>.json.

    The JSON report with versions, the variables that are set (names only), the resolved target and
    where each value came from, every check's result and timing, the credential that won and its
    identity, and the request and correlation ids support asks for. Never a secret; add
    `--redact strict` to also mask tenant and object ids, user names and host names. `--format` and
    `--output` choose other or more files, as for `run`. Prints the diagnosis in one line and the
    file to attach, on standard error. Exits as `run` does: 0 ready, 1 a required check failed, 2 a
    configuration error, 3 a check crashed.
    """
    if not opts.get("fmt") and not opts.get("output"):
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        opts["output"] = (f"aoai-doctor-report-{stamp}.json",)
    opts["quiet"] = True
    code = execute_run(opts, environ=dict(os.environ))
    files = [str(o.path) for o in _outputs(opts) if o.path is not None]
    if files:
        click.echo(f"aoai-doctor: attach {', '.join(files)} to your support request", err=True)
    sys.exit(code)
