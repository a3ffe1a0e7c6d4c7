"""Live progress: on a terminal, checks tick over on stderr while they run; off a terminal, nothing
but the report."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tests import terminal

ARGS = [
    "-m",
    "aoai_doctor",
    "run",
    "--select",
    "AOAI2",
    "--endpoint",
    "https://res.openai.azure.com",
    "--deployment",
    "d1",
    "--api-version",
    "2024-10-21",
]


def on_a_terminal(*extra: str, path: str | None = None) -> str:
    """Everything the doctor writes to a pseudo-terminal (stdout and stderr both)."""
    env = {**os.environ, "TERM": "xterm", **({"PATH": path} if path else {})}
    env.pop("CI", None)
    return terminal.on_a_terminal([*ARGS[2:], *extra], env=env, timeout=60)


def test_progress_on_a_terminal(tmp_path: Path) -> None:
    # An `az` that takes a second to say it is signed out: long enough for the line to be redrawn.
    az = tmp_path / "az"
    az.write_text("#!/bin/sh\nsleep 1\necho \"ERROR: Please run 'az login' to setup account.\" >&2\nexit 1\n")
    az.chmod(0o755)
    text = on_a_terminal(path=f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    assert "Credentials: AOAI2" in text and "\r\x1b[2K" in text  # a redrawn line naming the running checks
    assert re.search(r"AOAI20\d \d+\.\d/15s", text)  # each with its time so far and its time limit
    assert re.search(r"(?m)^(\x1b\[[0-9;]*m)?✗ [a-z_]+  \(AOAI", text)  # the terminal gets the glyphs


def test_quiet_on_a_terminal_shows_only_the_report() -> None:
    text = on_a_terminal("--quiet")
    assert "Credentials: AOAI2" not in text and re.search(r"(?m)^(\x1b\[[0-9;]*m)?✗ [a-z_]+  \(AOAI", text)


def test_no_progress_off_a_terminal() -> None:
    proc = subprocess.run([sys.executable, *ARGS], capture_output=True, text=True, timeout=60)
    assert proc.stderr == "" and "Credentials:" not in proc.stdout.split("\n", 1)[0]
    assert re.search(r"(?m)^\[fail\] [a-z_]+  \(AOAI", proc.stdout)
