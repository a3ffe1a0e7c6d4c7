"""One target against fifty deployments, each a whole ``aoai-doctor run`` process, on the stand-in.

Starts one stand-in resource with 50 chat deployments and runs, interleaved (anchor, fleet, anchor, ...):

- anchor: ``aoai-doctor run`` on one deployment (what a target cost before fleet mode, per target);
- fleet: ``aoai-doctor run --targets FILE`` naming all 50 deployments (one process);
- listed: ``aoai-doctor run --all-deployments`` (Resource Manager lists them, then the same run).

Every run has the same environment: the stand-in's client settings under the resource's real host name,
pinned with --resolve. Prints the median of each and the medians of the paired ratios (goal: 50
deployments <= 2x one target).

    python benchmarks/fleet.py [--rounds N] [--deployments N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import tomllib

from aoai_doctor.options import Options
from aoai_doctor.services import sandbox
from aoai_doctor.standin import StandIn, parse_scenario

WORLD = Path(__file__).resolve().parent.parent / "tests" / "worlds" / "fleet.toml"


def world(count: int) -> dict[str, object]:
    """The tests' fleet world (one resource, its service principal and role) with ``count`` chat deployments."""
    data = tomllib.loads(WORLD.read_text(encoding="utf-8"))
    data["deployments"] = [{"name": f"chat-{n:02d}", "model": "gpt-4o-mini", "model_version": "2024-07-18"}
                           for n in range(count)]
    data["client"]["deployment"] = "chat-00"
    return data


def timed(argv: list[str], env: dict[str, str], expect: int = 0) -> float:
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, text=True)
    took = time.perf_counter() - start
    if done.returncode != expect:
        raise SystemExit(f"{' '.join(argv[3:])} exited {done.returncode}:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--deployments", type=int, default=50)
    args = parser.parse_args()
    scenario = parse_scenario(world(args.deployments), name="fleet", source="fleet.toml")
    doctor = [sys.executable, "-m", "aoai_doctor", "run", "--ci", "-q"]
    with StandIn(scenario) as standin, sandbox.scenario_run(standin, dict(os.environ)) as (env, aim), \
            tempfile.TemporaryDirectory() as scratch:
        pin = aim(Options()).resolve[0]
        env = {**env, "PYTHONPATH": os.pathsep.join(sys.path)}
        env.pop("AZURE_OPENAI_DEPLOYMENT", None)
        targets = Path(scratch) / "targets.toml"
        names = ", ".join(f'"chat-{n:02d}"' for n in range(args.deployments))
        targets.write_text(f'[[targets]]\nendpoint = "{env["AZURE_OPENAI_ENDPOINT"]}"\ndeployments = [{names}]\n')
        runs = {
            "one target": [*doctor, "--resolve", pin, "--deployment", "chat-00"],
            f"{args.deployments} deployments (--targets)": [*doctor, "--resolve", pin, "--targets", str(targets)],
            f"{args.deployments} deployments (--all-deployments)": [*doctor, "--resolve", pin, "--all-deployments"],
        }
        for argv in runs.values():  # warm the file cache and the stand-in once
            timed(argv, env)
        times: dict[str, list[float]] = {label: [] for label in runs}
        for _ in range(args.rounds):
            for label, argv in runs.items():
                times[label].append(timed(argv, env))
    anchor = times["one target"]
    print(f"{args.rounds} interleaved rounds, {args.deployments} deployments, medians:")
    for label, values in times.items():
        ratio = statistics.median(v / a for v, a in zip(values, anchor, strict=True))
        print(f"  {label:<38} {statistics.median(values):6.2f} s   {ratio:5.2f}x one target")
    print("goal: 50 deployments <= 2x one target")


if __name__ == "__main__":
    main()
