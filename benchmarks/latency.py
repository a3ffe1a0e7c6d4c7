"""The doctor's latency measurements on the stand-in: what ``--repeat`` costs beside a bare client, and
how exactly an injected processing delay is measured.

``repeat`` (the default): interleaved runs, in one process tree, of ``aoai-doctor run --select AOAI6
--repeat N --concurrency C`` and of a bare ``requests.Session`` loop (C threads, keep-alive, its pool
large enough for them) making the same N POSTs after one first call, both against one stand-in started
here with limits high enough that no call is throttled. The added cost per call is, for the doctor,
AOAI601's own duration (the N calls; the check takes 0.1 ms without them) over N, and for the loop its
wall time over N. Prints each round, the medians and the median of the paired ratios (goal: <= 1.2x).

``delay``: runs the healthy scenario with no delay and with ``--delay`` ms, sends the same minimal chat
call ``--calls`` times to each through the doctor's own measuring client and prints how far the
measured difference is from the injected delay (it must stay within +-5 ms).

    python benchmarks/latency.py [repeat] [--rounds 7] [--repeat 100] [--concurrency 8]
    python benchmarks/latency.py delay [--delay MS] [--calls N]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from importlib import resources

import tomllib

from aoai_doctor.config import Secret
from aoai_doctor.services import http
from aoai_doctor.standin import StandIn, parse_scenario

HEALTHY = resources.files("aoai_doctor.standin").joinpath("scenarios", "healthy.toml").read_text()
PATH = "/openai/deployments/chat/chat/completions?api-version=2024-10-21"
BODY = {"messages": [{"role": "user", "content": "ping"}], "max_tokens": 16}


def scenario_text(delay_ms: int = 0, unthrottled: bool = False) -> str:
    text = HEALTHY.replace("[resource]\n", f"[resource]\ndelay_ms = {delay_ms}\n", 1)
    if unthrottled:
        text = text.replace('model_version = "2024-07-18"\n', 'model_version = "2024-07-18"\nrpm = 1000000\n'
                            "tpm = 100000000\n", 1)
    return text


def token_for(standin: StandIn) -> str:
    now = int(time.time())
    tenant = standin.client_env()["AZURE_TENANT_ID"]
    return standin.mint_access_token(
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


# repeat --------------------------------------------------------------------------------------------


def bare_loop(calls: int, concurrency: int) -> None:
    """The anchor, run as its own process: one first call, then ``calls`` POSTs on ``concurrency`` threads
    sharing one keep-alive ``requests.Session``; prints the milliseconds the calls took."""
    import requests
    from requests.adapters import HTTPAdapter

    url, token = os.environ["BENCH_URL"], os.environ["BENCH_TOKEN"]
    body = json.dumps(BODY).encode()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    session = requests.Session()
    session.mount("https://", HTTPAdapter(pool_maxsize=max(10, concurrency)))
    session.post(url, data=body, headers=headers, timeout=30).raise_for_status()  # the test call
    pending = list(range(calls))
    lock = threading.Lock()
    errors = [0]

    def worker() -> None:
        while True:
            with lock:
                if not pending:
                    return
                pending.pop()
            answer = session.post(url, data=body, headers=headers, timeout=30)
            if answer.status_code != 200:
                with lock:
                    errors[0] += 1

    t0 = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(min(concurrency, calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = (time.perf_counter() - t0) * 1000
    print(json.dumps({"ms": elapsed, "errors": errors[0]}))


def doctor_run(env: dict[str, str], calls: int, concurrency: int) -> tuple[float, str]:
    argv = [sys.executable, "-m", "aoai_doctor", "run", "--select", "AOAI6", "--repeat", str(calls),
            "--concurrency", str(concurrency), "--format", "json", "-v"]
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
    try:
        report = json.loads(proc.stdout)
    except json.JSONDecodeError:
        raise SystemExit(f"aoai-doctor gave no report (exit {proc.returncode}): {proc.stderr[-2000:]}") from None
    latency = next(c for c in report["checks"] if c["id"] == "AOAI601")
    repeated = next((f for f in latency["findings"] if " more calls at concurrency " in f["message"]), None)
    if repeated is None or not repeated["message"].endswith(" 0 errors"):
        raise SystemExit(f"the repeated calls did not all succeed: {latency}")
    return float(latency["duration_ms"]), f"{repeated['message']} ({repeated['detail']})"


def bare_run(env: dict[str, str], calls: int, concurrency: int) -> float:
    argv = [sys.executable, __file__, "bare-loop", "--repeat", str(calls), "--concurrency", str(concurrency)]
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
    if proc.returncode:
        raise SystemExit(f"the bare loop failed: {proc.stderr[-2000:]}")
    result = json.loads(proc.stdout)
    if result["errors"]:
        raise SystemExit(f"the bare loop had {result['errors']} failed calls")
    return float(result["ms"])


def repeat(rounds: int, calls: int, concurrency: int) -> None:
    from aoai_doctor.services.sandbox import client_environment

    scenario = parse_scenario(tomllib.loads(scenario_text(unthrottled=True)), name="repeat", source="repeat.toml")
    with StandIn(scenario) as standin, client_environment(standin, dict(os.environ)) as env:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [os.getcwd(), os.environ.get("PYTHONPATH")]))
        bare_env = {**env, "BENCH_URL": env["AZURE_OPENAI_ENDPOINT"].rstrip("/") + PATH,
                    "BENCH_TOKEN": token_for(standin)}
        print(f"--repeat {calls} --concurrency {concurrency} vs a bare requests.Session loop ({concurrency} "
              f"threads, keep-alive), same stand-in; added cost per call, {rounds} interleaved rounds")
        doctor_ms: list[float] = []
        bare_ms: list[float] = []
        ratios: list[float] = []
        line = ""
        for n in range(rounds):
            if n % 2:
                bare = bare_run(bare_env, calls, concurrency) / calls
                doctor, line = doctor_run(env, calls, concurrency)
            else:
                doctor, line = doctor_run(env, calls, concurrency)
                bare = bare_run(bare_env, calls, concurrency) / calls
            doctor /= calls
            doctor_ms.append(doctor)
            bare_ms.append(bare)
            ratios.append(doctor / bare)
            print(f"  round {n + 1}: aoai-doctor {doctor:6.2f} ms/call   bare requests {bare:6.2f} ms/call   "
                  f"ratio {doctor / bare:4.2f}x")
        ratio = statistics.median(ratios)
        print(f"  median: aoai-doctor {statistics.median(doctor_ms):.2f} ms/call, bare requests "
              f"{statistics.median(bare_ms):.2f} ms/call; median paired ratio {ratio:.2f}x "
              f"(goal <= 1.2x: {'met' if ratio <= 1.2 else 'NOT met'})")
        print(f"  last report: {line}")


# delay ---------------------------------------------------------------------------------------------


def measure(delay_ms: int, calls: int) -> tuple[list[float], list[float], str | None]:
    scenario = parse_scenario(tomllib.loads(scenario_text(delay_ms)), name="latency", source="latency.toml")
    with StandIn(scenario) as standin:
        os.environ["REQUESTS_CA_BUNDLE"] = standin.ca_bundle
        token = token_for(standin)
        url = standin.aoai_endpoint + PATH
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


def delay(delay_ms: int, calls: int) -> None:
    base_ttfb, base_total, _ = measure(0, calls)
    ttfb, total, processing = measure(delay_ms, calls)
    d_ttfb = statistics.median(ttfb) - statistics.median(base_ttfb)
    d_total = statistics.median(total) - statistics.median(base_total)
    print(f"injected processing delay: {delay_ms} ms; {calls} calls each, medians")
    base = (statistics.median(base_ttfb), statistics.median(base_total))
    print(f"  no delay:   first byte {base[0]:7.1f} ms   total {base[1]:7.1f} ms")
    print(
        f"  with delay: first byte {statistics.median(ttfb):7.1f} ms   total {statistics.median(total):7.1f} ms"
        f"   (service reported openai-processing-ms={processing})"
    )
    print(
        f"  measured delay: first byte {d_ttfb:7.1f} ms (error {d_ttfb - delay_ms:+.1f} ms), "
        f"total {d_total:7.1f} ms (error {d_total - delay_ms:+.1f} ms)"
    )
    print(f"  within ±5 ms: {'yes' if abs(d_ttfb - delay_ms) <= 5 and abs(d_total - delay_ms) <= 5 else 'NO'}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", nargs="?", choices=("repeat", "delay", "bare-loop"), default="repeat")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--delay", type=int, default=200)
    parser.add_argument("--calls", type=int, default=20)
    args = parser.parse_args()
    if args.mode == "bare-loop":
        bare_loop(args.repeat, args.concurrency)
    elif args.mode == "delay":
        delay(args.delay, args.calls)
    else:
        repeat(args.rounds, args.repeat, args.concurrency)


if __name__ == "__main__":
    main()
