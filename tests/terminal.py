"""Running the doctor on a real pseudo-terminal, as a person's shell would."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Mapping
from pathlib import Path


def on_a_terminal(args: list[str], *, size: tuple[int, int] | None = None, env: Mapping[str, str] | None = None,
                  cwd: Path | None = None, timeout: float = 90) -> str:
    """Everything ``python -m aoai_doctor ARGS`` writes to a pseudo-terminal (stdout and stderr both) of
    ``size`` (rows, columns), decoded."""
    leader, follower = pty.openpty()
    if size is not None:
        fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", size[0], size[1], 0, 0))
    proc = subprocess.Popen([sys.executable, "-m", "aoai_doctor", *args], stdin=follower, stdout=follower,
                            stderr=follower, env=dict(env if env is not None else os.environ), cwd=cwd)
    os.close(follower)
    output = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([leader], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(leader, 65536)
            except OSError:
                break
            if not chunk:
                break
            output += chunk
        elif proc.poll() is not None:
            break
    proc.wait(timeout=30)
    os.close(leader)
    return output.decode("utf-8", "replace")
