"""The command line: click wiring and output over the core in :mod:`aoai_doctor.app`. Only this package
prints or exits.

- ``run.py``: ``run`` and ``report``, their options and where the reports go
- ``info.py``: ``explain``, ``checks`` and ``schema``
- ``emulation.py``: ``demo`` and ``emulate``, the built-in stand-in

Exit codes: 0 every required check passed; 1 a required check failed (or warned, with --fail-on
warning); 2 usage or configuration error; 3 internal error (a required check crashed and none failed);
130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import sys
from typing import Any

import click

from aoai_doctor._version import __version__
from aoai_doctor.cli import emulation, info, snippet
from aoai_doctor.cli import run as run_command
from aoai_doctor.cli.common import EXIT_INTERRUPTED

__all__ = ["main"]


class _Doctor(click.Group):
    """The command group; Ctrl-C anywhere ends the command with one line and exit 130."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            click.echo("\naoai-doctor: interrupted", err=True)
            sys.stderr.flush()
            ctx.exit(EXIT_INTERRUPTED)


@click.group(cls=_Doctor, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "--version", prog_name="aoai-doctor")
def main() -> None:
    """Diagnose Azure OpenAI calls made with Microsoft Entra ID or an API key.

    Run `aoai-doctor run` in the directory of your app (it reads AZURE_OPENAI_* variables, a
    config.json and checks.toml), or pass --endpoint/--deployment/--api-version.
    """


for command in (run_command.run, info.explain, run_command.report, emulation.demo, emulation.emulate,
                info.list_checks, info.schema, snippet.snippet):
    main.add_command(command)
