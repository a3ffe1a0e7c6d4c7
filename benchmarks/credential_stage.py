"""Wall time of the credential stage, side by side with a plain ``DefaultAzureCredential().get_token()``
under the same conditions: interleaved runs in one process tree, the median of the paired ratios.

Nothing configured (no identity variables, an empty HOME, no az/azd/pwsh on PATH), with the managed
identity endpoint (IMDS, 169.254.169.254) in two conditions:

- ``refused``: IMDS unreachable, connects refused at once;
- ``black-holed``: connects dropped, as on most networks off Azure.

Where ``unshare -rn`` works (an unprivileged user and network namespace), the script re-runs itself in
a fresh namespace, brings ``lo`` up, and shapes the real address: ``ip addr add 169.254.169.254/32 dev
lo`` refuses (nothing listens on port 80), ``ip route add 169.254.169.254/32 dev lo`` (a route to
loopback without the address on it) drops the SYNs. Nothing leaves the namespace. Without unshare, it
falls back to loopback stand-ins named through ``AZURE_POD_IDENTITY_AUTHORITY_HOST`` (which moves the
IMDS base URL): a closed port (refused) and a listener whose backlog is full (black-holed); the output
says which one was used.

``--configured`` runs the older scenario instead: every identity endpoint configured and black-holed.

    python benchmarks/credential_stage.py [--rounds N] [--configured]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SCOPE = "https://cognitiveservices.azure.com/.default"
DAC = (
    "import logging; logging.getLogger('azure').propagate = False\n"
    "from azure.identity import DefaultAzureCredential\n"
    "try:\n"
    f"    DefaultAzureCredential().get_token({SCOPE!r})\n"
    "except Exception as exc:\n"
    "    print(type(exc).__name__)\n"
)
DAC_CONFIGURED = DAC.replace("DefaultAzureCredential()", "DefaultAzureCredential(disable_instance_discovery=True)")
DOCTOR = ["-m", "aoai_doctor", "run", "--select", "AOAI2", "--format", "json", "--endpoint",
          "https://x.openai.azure.com", "--deployment", "d", "--api-version", "2024-10-21"]
IMDS = "169.254.169.254"
INSIDE = "AOAI_DOCTOR_BENCH_NETNS"


def black_hole() -> tuple[socket.socket, list[socket.socket], int]:
    """A loopback listener that never accepts, with its backlog already full: connects hang."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    port = server.getsockname()[1]
    fillers = []
    for _ in range(3):
        s = socket.socket()
        s.setblocking(False)
        s.connect_ex(("127.0.0.1", port))
        fillers.append(s)
    return server, fillers, port


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def timed(argv: list[str], env: dict[str, str], cap: float) -> tuple[float, str]:
    t0 = time.monotonic()
    try:
        proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=cap, cwd=env["HOME"])
    except subprocess.TimeoutExpired:
        return cap, ""
    return time.monotonic() - t0, proc.stdout


def base_env(home: str) -> dict[str, str]:
    env = {"HOME": home, "PATH": home, "PYTHONPATH": str(REPO)}
    for name in ("LANG", "LC_ALL", "SYSTEMROOT"):
        if name in os.environ:
            env[name] = os.environ[name]
    return env


def interleaved(label: str, env: dict[str, str], rounds: int, cap: float, dac: str = DAC) -> float:
    """``rounds`` pairs, the order alternating within each pair; prints and returns the median ratio."""
    doctor_times: list[float] = []
    dac_times: list[float] = []
    last = ""
    timed([sys.executable, "-c", dac], env, cap)  # warm the page cache and .pyc files for both
    timed([sys.executable, *DOCTOR], env, cap)
    for i in range(rounds):
        pair = [("doctor", [sys.executable, *DOCTOR]), ("dac", [sys.executable, "-c", dac])]
        for name, argv in pair if i % 2 == 0 else reversed(pair):
            seconds, out = timed(argv, env, cap)
            (doctor_times if name == "doctor" else dac_times).append(seconds)
            if name == "doctor":
                last = out
    ratios = [d / a for d, a in zip(doctor_times, dac_times, strict=True)]
    ratio = statistics.median(ratios)
    print(f"{label}")
    print(f"  aoai-doctor run --select AOAI2   median {statistics.median(doctor_times):6.3f} s")
    print(f"  DefaultAzureCredential failing   median {statistics.median(dac_times):6.3f} s")
    print(f"  median of {rounds} paired ratios doctor/DAC: {ratio:.2f}x")
    try:
        for check in json.loads(last)["checks"]:
            print(f"    {check['id']} {check['name']:32} {check['status']:5} {check['duration_ms'] / 1000:6.3f} s")
    except (ValueError, KeyError):
        print("    (the doctor's last report could not be read)")
    return ratio


@contextmanager
def _scratch() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="aoai-bench-") as home:
        yield home


def nothing_configured_in_namespace(rounds: int, cap: float) -> None:
    ip = shutil.which("ip") or "/usr/sbin/ip"
    subprocess.run([ip, "link", "set", "lo", "up"], check=True)
    with _scratch() as home:
        env = base_env(home)
        subprocess.run([ip, "addr", "add", f"{IMDS}/32", "dev", "lo"], check=True)
        interleaved(f"IMDS refused ({IMDS} on lo in a fresh network namespace, nothing on port 80)",
                    env, rounds, cap)
        subprocess.run([ip, "addr", "del", f"{IMDS}/32", "dev", "lo"], check=True)
        subprocess.run([ip, "route", "add", f"{IMDS}/32", "dev", "lo"], check=True)
        interleaved(f"IMDS black-holed ({IMDS} routed to lo without the address: SYNs dropped, fresh namespace)",
                    env, rounds, cap)


def nothing_configured_on_loopback(rounds: int, cap: float) -> None:
    with _scratch() as home:
        env = base_env(home)
        env["AZURE_POD_IDENTITY_AUTHORITY_HOST"] = f"http://127.0.0.1:{closed_port()}"
        interleaved("IMDS refused (no unshare here: a closed loopback port via AZURE_POD_IDENTITY_AUTHORITY_HOST)",
                    env, rounds, cap)
        server, fillers, port = black_hole()
        try:
            env["AZURE_POD_IDENTITY_AUTHORITY_HOST"] = f"http://127.0.0.1:{port}"
            interleaved("IMDS black-holed (no unshare here: a loopback listener whose backlog is full)",
                        env, rounds, cap)
        finally:
            for s in (*fillers, server):
                s.close()


def configured(rounds: int, cap: float) -> None:
    server, fillers, port = black_hole()
    try:
        with _scratch() as home:
            token_file = os.path.join(home, "token")
            with open(token_file, "w") as f:
                f.write("header.payload.signature")
            env = base_env(home)
            env.update({
                "AZURE_TENANT_ID": "72f988bf-86f1-41af-91ab-2d7cd011db47",
                "AZURE_CLIENT_ID": "11111111-2222-3333-4444-555555555555",
                "AZURE_CLIENT_SECRET": "benchmark-only-not-a-secret",
                "AZURE_AUTHORITY_HOST": f"https://127.0.0.1:{port}",
                "AZURE_FEDERATED_TOKEN_FILE": token_file,
                "AZURE_POD_IDENTITY_AUTHORITY_HOST": f"http://127.0.0.1:{port}",
            })
            interleaved(f"every identity endpoint configured and black-holed (127.0.0.1:{port})", env, rounds, cap,
                        dac=DAC_CONFIGURED)
    finally:
        for s in (*fillers, server):
            s.close()


def unshare_works() -> bool:
    unshare = shutil.which("unshare")
    if unshare is None:
        return False
    probe = subprocess.run([unshare, "-rn", shutil.which("ip") or "/usr/sbin/ip", "link", "set", "lo", "up"],
                           capture_output=True)
    return probe.returncode == 0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=9, help="pairs of runs per condition")
    parser.add_argument("--cap", type=float, default=90.0, help="stop a run after this long")
    parser.add_argument("--configured", action="store_true", help="every endpoint configured and black-holed")
    args = parser.parse_args()
    if args.configured:
        configured(args.rounds, args.cap)
    elif os.environ.get(INSIDE):
        nothing_configured_in_namespace(args.rounds, args.cap)
    elif unshare_works():
        argv = [shutil.which("unshare") or "unshare", "-rn", sys.executable, __file__, "--rounds", str(args.rounds),
                "--cap", str(args.cap)]
        sys.exit(subprocess.run(argv, env={**os.environ, INSIDE: "1"}).returncode)
    else:
        nothing_configured_on_loopback(args.rounds, args.cap)


if __name__ == "__main__":
    main()
