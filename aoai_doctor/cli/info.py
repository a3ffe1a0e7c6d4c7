"""``aoai-doctor explain``, ``checks`` and ``schema``: what the doctor knows, without running anything."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import click

from aoai_doctor.cli.common import fail


@click.command()
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
            fail(f"cannot read {file_path}: {exc.strerror or exc}")
    elif text == "-" or (text is None and not sys.stdin.isatty()):
        text = sys.stdin.buffer.read().decode("utf-8", errors="replace")
    if not text or not text.strip():
        fail("nothing to explain: give the error text, '-' for standard input, or --file PATH")
    from aoai_doctor.explainer.render import reflow

    width = min(100, shutil.get_terminal_size((80, 24)).columns)
    word = text.strip()
    if re.fullmatch(r"[A-Za-z]{2,8}\d{3}", word):
        click.echo(reflow(_check_page(word.upper()), width), nl=False)
        return
    if word.lower() in kb.cause_ids():
        from aoai_doctor.explainer.kb import load_knowledge_base
        from aoai_doctor.explainer.pages import render_page

        page = render_page(load_knowledge_base(), word.lower())
        page = "".join(ln for ln in page.splitlines(keepends=True) if not ln.startswith("<!-- Generated"))
        click.echo(reflow(page, width), nl=False)
        return
    answer = kb.explain(text)
    if fmt == "json":
        click.echo(json.dumps(kb.to_dict(answer), indent=2, ensure_ascii=False))
    else:
        color = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
        click.echo(kb.render_text(answer, color=color, width=width - 2), nl=False, color=color)


def _check_page(check_id: str) -> str:
    """A check's documentation page, from the catalog (its docstring)."""
    from aoai_doctor import registry
    from aoai_doctor.strict_toml import did_you_mean

    checks = registry.catalog().by_id()
    if check_id not in checks:
        fail(f"no check {check_id}{did_you_mean(check_id, list(checks))}; 'aoai-doctor checks' lists them")
    return checks[check_id].doc


@click.command(name="checks")
@click.option("--checks", "checks_path", type=click.Path(dir_okay=False, path_type=Path),
              help="checks.toml naming local checks (default: ./checks.toml when present).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def list_checks(checks_path: Path | None, fmt: str) -> None:
    """List every check: id, name, stage and what it looks at."""
    import json

    from aoai_doctor import config_files, registry

    try:
        checks_file = config_files.load_checks_file(checks_path or config_files.find_default("checks.toml"),
                                                    explicit=checks_path is not None)
    except config_files.ConfigError as exc:
        fail(str(exc))
    reg = registry.catalog(checks_file.local_checks, checks_file.path.parent if checks_file.path else None)
    if fmt == "json":
        click.echo(json.dumps([{"id": c.id, "name": c.name, "stage": c.stage.name.lower(), "summary": c.summary,
                                "requires": list(c.requires), "required": c.required}
                               for c in reg.checks], indent=2))
    else:
        from tabulate import tabulate  # type: ignore[import-untyped]

        headers = ["id", "name", "stage", "what it looks at"]
        rows = [[c.id, c.name, c.stage.title, c.summary] for c in reg.checks]
        if sys.stdout.isatty():  # a terminal: each check on one line of it, the summary cut to fit
            width = shutil.get_terminal_size((80, 24)).columns
            if width < 120:  # the id names the stage too (AOAI2xx: credentials)
                headers, rows = [headers[0], headers[1], headers[3]], [[r[0], r[1], r[3]] for r in rows]
            room = max(20, width - 1 - sum(max(len(r[i]) for r in rows) + 2 for i in range(len(headers) - 1)))
            rows = [[*r[:-1], r[-1] if len(r[-1]) <= room else r[-1][: room - 1] + "…"] for r in rows]
        click.echo(tabulate(rows, headers=headers, tablefmt="simple"))
    for error in reg.errors:
        click.echo(f"aoai-doctor: warning: plugin {error.name} could not be loaded: {error.problem}", err=True)


@click.command()
def schema() -> None:
    """Print the JSON Schema of the report `run --format json` writes."""
    # Read beside the package rather than through importlib.resources, which would import the reporters.
    schema_file = Path(__file__).resolve().parents[1] / "reporters" / "report.schema.json"
    click.echo(schema_file.read_text(encoding="utf-8"), nl=False)
