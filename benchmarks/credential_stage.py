"""Wall time of the credential stage when every identity endpoint is black-holed, side by side with
a plain ``DefaultAzureCredential().get_token()`` under the same conditions.

A black hole is a loopback port whose listen backlog is full: connects are neither accepted nor
refused, as with a firewall that drops packets. Everything stays on 127.0.0.1.

    python benchmarks/credential_stage.py [--cap SECONDS]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time

DAC = (
    "from azure.identity import DefaultAzureCredential\n"
    "import logging; logging.getLogger('azure').propagate = False\n"
    "try:\n"
    "    DefaultAzureCredential(disable_instance_discovery=True).get_token("
    "'https://cognitiveservices.azure.com/.default')\n"
    "except Exception as exc:\n"
    "    print(type(exc).__name__)\n"
)


def black_hole() -> tuple[socket.socket, list[socket.socket], int]:
    """A listening socket that never accepts, with its backlog already full."""
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


def timed(argv: list[str], env: dict[str, str], cap: float) -> tuple[float, str]:
    t0 = time.monotonic()
    try:
        proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=cap)
    except subprocess.TimeoutExpired:
        return cap, f"still running after {cap:g} s (stopped)"
    return time.monotonic() - t0, proc.stdout


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cap", type=float, default=90.0, help="stop DefaultAzureCredential after this long")
    args = parser.parse_args()
    server, fillers, port = black_hole()
    home = tempfile.mkdtemp()
    token_file = os.path.join(home, "token")
    with open(token_file, "w") as f:
        f.write("header.payload.signature")
    env = {
        "HOME": home,
        "PATH": home,
        "AZURE_TENANT_ID": "72f988bf-86f1-41af-91ab-2d7cd011db47",
        "AZURE_CLIENT_ID": "11111111-2222-3333-4444-555555555555",
        "AZURE_CLIENT_SECRET": "benchmark-only-not-a-secret",
        "AZURE_AUTHORITY_HOST": f"https://127.0.0.1:{port}",
        "AZURE_FEDERATED_TOKEN_FILE": token_file,
        "AZURE_POD_IDENTITY_AUTHORITY_HOST": f"http://127.0.0.1:{port}",
    }
    try:
        doctor_s, doctor_out = timed([sys.executable, "-m", "aoai_doctor", "run", "--select", "AOAI2", "--format",
                                      "json", "--endpoint", "https://x.openai.azure.com", "--deployment", "d",
                                      "--api-version", "2024-10-21"], env, args.cap)
        dac_s, dac_out = timed([sys.executable, "-c", DAC], env, args.cap)
    finally:
        for s in (*fillers, server):
            s.close()
    print(f"every identity endpoint black-holed (127.0.0.1:{port})")
    print(f"  aoai-doctor credential stage (AOAI2, bound 5 s per source): {doctor_s:6.2f} s")
    print(f"  DefaultAzureCredential().get_token():                       {dac_s:6.2f} s  "
          f"({dac_out.strip().splitlines()[-1][:80] if dac_out.strip() else ''})")
    for check in json.loads(doctor_out)["checks"]:
        print(f"    {check['id']} {check['name']:32} {check['status']:5} {check['duration_ms'] / 1000:5.2f} s")
    print(f"  ratio DefaultAzureCredential / doctor stage: {dac_s / doctor_s:.1f}x")


if __name__ == "__main__":
    main()
