"""Start-up cost of the stand-in (keys, certificates, five listeners), against the cost of one RSA key,
interleaved in one process and printed as medians and a ratio. The stand-in should start in under 2 s.

    python benchmarks/standin_startup.py [--runs N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cryptography.hazmat.primitives.asymmetric import rsa

from aoai_doctor.standin import StandIn
from aoai_doctor.standin.scenario_toml import load_scenario

BUDGET_SECONDS = 2.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    scenario = load_scenario("healthy")
    anchor: list[float] = []
    standin: list[float] = []
    for _ in range(runs):  # interleaved, so both see the same machine
        t0 = time.perf_counter()
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        anchor.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        with StandIn(scenario) as started:
            assert started.aoai_endpoint
        standin.append(time.perf_counter() - t0)
    a, s = statistics.median(anchor), statistics.median(standin)
    print(f"one RSA-2048 key (anchor): {a * 1000:.0f} ms")
    print(f"stand-in start and stop:   {s * 1000:.0f} ms  ({s / a:.1f}x the anchor; budget {BUDGET_SECONDS:g} s)")
    return 0 if s < BUDGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
