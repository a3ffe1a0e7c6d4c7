"""--deadline holds whatever hangs: a run in which every endpoint accepts and never answers (Entra ID, the
managed-identity endpoint, the data plane's TLS) and the Azure CLI never returns ends within the deadline
plus one second, with each unfinished check reported as timed out in the phase it was in."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest


@pytest.fixture
def black_hole() -> Iterator[int]:
    """A loopback port that accepts connections and never says a word."""
    server = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join(2)
    for conn in held:
        conn.close()
    server.close()


def test_a_run_where_everything_hangs_ends_within_the_deadline(black_hole: int, clean_env: Path,
                                                               tools: Callable[..., None]) -> None:
    tools("az")
    env = {**os.environ, "FAKE_AZ_MODE": "hang", "AZURE_TENANT_ID": "00000000-0000-0000-0000-000000000001",
           "AZURE_CLIENT_ID": "00000000-0000-0000-0000-000000000002", "AZURE_CLIENT_SECRET": "s" * 40,
           "AZURE_AUTHORITY_HOST": f"https://127.0.0.1:{black_hole}",
           "AZURE_POD_IDENTITY_AUTHORITY_HOST": f"http://127.0.0.1:{black_hole}"}
    deadline = 3.0
    t0 = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "aoai_doctor", "run", "--deadline", str(deadline),
                           "--endpoint", f"https://127.0.0.1:{black_hole}", "--deployment", "chat",
                           "--api-version", "2024-10-21", "--allow-host", "127.0.0.1", "--format", "json"],
                          env=env, cwd=clean_env, capture_output=True, text=True, timeout=60)
    elapsed = time.monotonic() - t0
    assert elapsed < deadline + 1.0, f"{elapsed:.1f} s"  # a safety bound the feature promises, not a speed test
    assert done.returncode == 1 and "Traceback" not in done.stdout + done.stderr
    report = json.loads(done.stdout)
    cut = [c for c in report["checks"] if any("deadline passed" in f["message"] for f in c["findings"])]
    assert cut, [c["id"] for c in report["checks"]]
    phases = " ".join(f["message"] for c in cut for f in c["findings"])
    assert "the run's deadline passed while it was" in phases
    assert "asking" in phases or "running az" in phases or "TLS" in phases, phases
    assert all(f["cause"] and f["fix"] for c in cut for f in c["findings"])
