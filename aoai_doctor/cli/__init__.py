"""The command line: click wiring and output over the core in :mod:`aoai_doctor.app`. Only this package
prints or exits.

- ``run.py``: ``run`` and ``report``, their options and where the reports go
- ``info.py``: ``explain``, ``checks`` and ``schema``
- ``emulation.py``: ``demo`` and ``emulate``, the built-in stand-in

A command's module is imported only when that command runs (``--help`` reads the one-line help from
:data:`COMMANDS`), so ``aoai-doctor checks`` does not pay for ``run``'s imports.

Exit codes: 0 every required check passed; 1 a required check failed (or warned, with --fail-on
warning); 2 usage or configuration error; 3 internal error (a required check crashed and none failed);
130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import gc
import importlib
import sys
from collections.abc import Mapping
from typing import Any

import click

from aoai_doctor._version import __version__
from aoai_doctor.cli.common import EXIT_INTERRUPTED

__all__ = ["COMMANDS", "command_line", "main"]

COMMANDS: Mapping[str, tuple[str, str]] = {
    # name: ("module:click command", the first paragraph of its help, as `aoai-doctor --help` lists it)
    "checks": ("aoai_doctor.cli.info:list_checks", "List every check: id, name, stage and what it looks at."),
    "demo": ("aoai_doctor.cli.emulation:demo",
             "Run the doctor against the built-in Entra + managed identity + Azure OpenAI stand-in."),
    "emulate": ("aoai_doctor.cli.emulation:emulate",
                "Run the stand-in in the foreground, for your own app to talk to."),
    "explain": ("aoai_doctor.cli.info:explain",
                "Explain an error: the root cause, how sure, the evidence, the fix, and the check that confirms it."),
    "report": ("aoai_doctor.cli.run:report",
               "Run every check and write a support bundle: aoai-doctor-report-<UTC time>.json."),
    "run": ("aoai_doctor.cli.run:run", "Run the checks against the configured target and report."),
    "schema": ("aoai_doctor.cli.info:schema", "Print the JSON Schema of the report `run --format json` writes."),
    "snippet": ("aoai_doctor.cli.snippet:snippet", "Run the checks; when the target is healthy, print a program that "
                "calls it."),
}
"""Every command, imported on first use: a new command is one entry here. The tests hold each entry's
help to the command's own docstring."""


def load_command(target: str) -> click.Command:
    """Import a ``module:attribute`` click command."""
    module_name, _, attr = target.partition(":")
    command = getattr(importlib.import_module(module_name), attr)
    if not isinstance(command, click.Command):
        raise TypeError(f"{target} is not a click command")
    return command


class _Doctor(click.Group):
    """The command group: commands from :data:`COMMANDS`, imported on first use; Ctrl-C anywhere ends the
    command with one line and exit 130."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            self.add_command(load_command(COMMANDS[cmd_name][0]), cmd_name)
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = []
        for name in names:
            if name in self.commands or name not in COMMANDS:  # already imported: ask the command itself
                command = self.get_command(ctx, name)
                if command is not None and not command.hidden:
                    rows.append((name, command.get_short_help_str(limit)))
            else:  # shortened as click shortens the command's own help
                rows.append((name, click.Command(name, help=COMMANDS[name][1]).get_short_help_str(limit)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)

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


def command_line() -> None:
    """The ``aoai-doctor`` process (the console script and ``python -m aoai_doctor``): :func:`main`, without
    the cyclic garbage collector. A command is one short process whose objects, the modules it imports above
    all, mostly live until it ends: the collector would walk them again and again to free next to nothing.
    Reference counting still frees everything else; ``emulate``, which serves until it is stopped, turns the
    collector back on. At exit, whatever is left is frozen, so the interpreter's last collection skips it:
    garbage left in reference cycles is then never finalized (no ``__del__``, no weakref callback), and nothing
    may rely on that; files are closed by ``with``, temporary directories by ``weakref.finalize`` at exit.
    (Together 8% of a healthy run's instructions; a fleet of fifty targets peaks at the same memory either
    way, two hundred at 2 MB more.)"""
    gc.disable()
    try:
        main()
    finally:
        gc.freeze()
