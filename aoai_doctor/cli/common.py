"""What every command shares: the one-line usage error and its exit code."""

from __future__ import annotations

import sys
from typing import NoReturn

import click

EXIT_CONFIG = 2
"""Usage or configuration error (the exit codes of a run, 0, 1 and 3, come from aoai_doctor.app)."""
EXIT_INTERRUPTED = 130
"""Ctrl-C."""


def fail(message: str, code: int = EXIT_CONFIG) -> NoReturn:
    click.echo(f"aoai-doctor: error: {message}", err=True)
    sys.exit(code)
