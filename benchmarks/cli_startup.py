"""Start-up time of the commands that run nothing: `aoai-doctor checks` and `aoai-doctor explain` against
`aoai-doctor --help` (the anchor: Python, click and the package), interleaved in one process tree and
printed as medians and medians of the paired ratios. The goal: `checks` in at most 0.20 s of wall time.
CPU time (user + system of the child) is printed too: on a busy machine it moves less than wall time.

    python benchmarks/cli_startup.py [--runs N]

Each run starts a fresh process of the `aoai-doctor` script next to this Python (else `python -m
aoai_doctor`), with this checkout first on PYTHONPATH so that its code is what runs.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GOAL_SECONDS = 0.20
EXPLAIN_TEXT = ("AADSTS70011: The provided request must include a 'scope' input parameter. The provided value "
                "for the input parameter 'scope' is not valid. The scope https://cognitiveservices.azure.com "
                "is not valid.")
COMMANDS = {
    "--help (anchor)": ["--help"],
    "checks": ["checks"],
    "explain AADSTS70011": ["explain", EXPLAIN_TEXT],
}


def doctor() -> list[str]:
    """How to start aoai-doctor: its console script beside this Python, else the module."""
    script = shutil.which("aoai-doctor", path=str(Path(sys.executable).parent))
    return [script] if script else [sys.executable, "-m", "aoai_doctor"]


def timed(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds of one process, start to exit; a failing command stops the benchmark."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                          env=env, cwd=ROOT, timeout=60)
    elapsed = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv[:3])} exited {proc.returncode}: {proc.stderr.decode(errors='replace')}")
    return elapsed, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21)
    runs = parser.parse_args().runs
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    env.pop("PYTHONPROFILEIMPORTTIME", None)
    base = doctor()
    for args in COMMANDS.values():  # warm the file cache and the byte-code
        timed(base + args, env)
    wall: dict[str, list[float]] = {label: [] for label in COMMANDS}
    cpu: dict[str, list[float]] = {label: [] for label in COMMANDS}
    for _ in range(runs):  # interleaved, so every command sees the same machine
        for label, args in COMMANDS.items():
            w, c = timed(base + args, env)
            wall[label].append(w)
            cpu[label].append(c)
    anchor = next(iter(COMMANDS))
    print(f"{runs} interleaved runs of {' '.join(base)}")
    print(f"{'command':<22}{'wall':>9}{'ratio':>8}{'cpu':>10}{'ratio':>8}")
    for label in COMMANDS:
        row = f"{label:<22}"
        for times in (wall, cpu):
            ratio = statistics.median(v / a for v, a in zip(times[label], times[anchor], strict=True))
            row += f"{statistics.median(times[label]) * 1000:>6.0f} ms{ratio:>7.2f}x"
        print(row)
    checks = statistics.median(wall["checks"])
    verdict = "met" if checks <= GOAL_SECONDS else "missed"
    print(f"checks: {checks:.3f} s wall against the goal of {GOAL_SECONDS:.2f} s ({verdict})")
    return 0 if checks <= GOAL_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
