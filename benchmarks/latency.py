"""Measured latency against the stand-in with an injected processing delay, beside the delay itself.

Runs the healthy scenario twice on loopback, with no delay and with ``--delay`` ms (default 200), and
sends the same minimal chat call N times to each through the doctor's own measuring client
(``aoai_doctor.services.http``). Prints the median time to first byte and total for both, the
difference, and how far that difference is from the injected delay (the figure must stay within
±5 ms). Then runs ``aoai-doctor demo`` with ``--repeat`` on the delayed scenario to show the
product's own report line.

    python benchmarks/latency.py [--delay MS] [--calls N]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from importlib import resources
from pathlib import Path

import tomllib

from aoai_doctor.config import Secret
from aoai_doctor.services import http
from aoai_doctor.standin import StandIn, parse_scenario

HEALTHY = resources.files("aoai_doctor.standin").joinpath("scenarios", "healthy.toml").read_text()


def scenario_text(delay_ms: int) -> str:
    return HEALTHY.replace("[resource]\n", f"[resource]\ndelay_ms = {delay_ms}\n", 1)


def measure(delay_ms: int, calls: int) -> tuple[list[float], list[float], str | None]:
    scenario = parse_scenario(tomllib.loads(scenario_text(delay_ms)), name="latency", source="latency.toml")
    with StandIn(scenario) as standin:
        os.environ["REQUESTS_CA_BUNDLE"] = standin.ca_bundle
        now = int(time.time())
        tenant = standin.client_env()["AZURE_TENANT_ID"]
        token = standin.mint_access_token(
            {
                "aud": "https://cognitiveservices.azure.com",
                "iss": f"https://sts.windows.net/{tenant}/",
                "tid": tenant,
                "oid": standin.directory.app_by_name("orders-api").object_id,
                "iat": now,
                "nbf": now,
                "exp": now + 3600,
            }
        )
        url = standin.aoai_endpoint + "/openai/deployments/chat/chat/completions?api-version=2024-10-21"
        body = json.dumps({"messages": [{"role": "user", "content": "ping"}], "max_tokens": 1}).encode()
        policy = http.Policy(allow_hosts=frozenset({"127.0.0.1"}))
        ttfb, total, processing = [], [], None
        for _ in range(calls + 2):
            answer = http.send(
                "POST", url, body=body, credential=("Authorization", Secret(f"Bearer {token}")), policy=policy
            )
            if not isinstance(answer, http.Response) or answer.status != 200:
                raise SystemExit(f"the stand-in did not answer 200: {answer}")
            ttfb.append(answer.timings.ttfb_ms or 0.0)
            total.append(answer.timings.total_ms or 0.0)
            processing = answer.headers.get("openai-processing-ms")
    return ttfb[2:], total[2:], processing  # the first two warm up


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--delay", type=int, default=200)
    parser.add_argument("--calls", type=int, default=20)
    args = parser.parse_args()
    base_ttfb, base_total, _ = measure(0, args.calls)
    ttfb, total, processing = measure(args.delay, args.calls)
    d_ttfb = statistics.median(ttfb) - statistics.median(base_ttfb)
    d_total = statistics.median(total) - statistics.median(base_total)
    print(f"injected processing delay: {args.delay} ms; {args.calls} calls each, medians")
    base = (statistics.median(base_ttfb), statistics.median(base_total))
    print(f"  no delay:   first byte {base[0]:7.1f} ms   total {base[1]:7.1f} ms")
    print(
        f"  with delay: first byte {statistics.median(ttfb):7.1f} ms   total {statistics.median(total):7.1f} ms"
        f"   (service reported openai-processing-ms={processing})"
    )
    print(
        f"  measured delay: first byte {d_ttfb:7.1f} ms (error {d_ttfb - args.delay:+.1f} ms), "
        f"total {d_total:7.1f} ms (error {d_total - args.delay:+.1f} ms)"
    )
    print(f"  within ±5 ms: {'yes' if abs(d_ttfb - args.delay) <= 5 and abs(d_total - args.delay) <= 5 else 'NO'}")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "latency.toml"
        path.write_text(scenario_text(args.delay))
        argv = [
            sys.executable,
            "-m",
            "aoai_doctor",
            "demo",
            "--scenario",
            str(path),
            "--select",
            "AOAI6",
            "--repeat",
            str(args.calls),
            "--format",
            "json",
        ]
        proc = subprocess.run(argv, capture_output=True, text=True)
        report = json.loads(proc.stdout)
        latency = next(c for c in report["checks"] if c["id"] == "AOAI601")
        print("aoai-doctor demo --repeat: " + " | ".join(f["message"] for f in latency["findings"]))


if __name__ == "__main__":
    main()
