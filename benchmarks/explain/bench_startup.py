"""Wall-clock cost of answering one `explain` in a fresh interpreter.

Times ``python -c "from aoai_doctor.explainer import explain; explain(TEXT)"`` against ``python -c "pass"``
(subprocess, 10 runs each, median) and prints both and their ratio. The answer must stay under 0.25 s.

    python benchmarks/explain/bench_startup.py [--runs N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BUDGET_SECONDS = 0.25
TEXT = (
    "azure.core.exceptions.ClientAuthenticationError: DefaultAzureCredential failed to retrieve a token from "
    "the included credentials.\\nAttempted credentials:\\n\\tEnvironmentCredential: EnvironmentCredential "
    "authentication unavailable. Environment variables are not fully configured.\\n"
    "\\tManagedIdentityCredential: ManagedIdentityCredential authentication unavailable, no response from "
    "the IMDS endpoint.\\n"
    "\\tSharedTokenCacheCredential: Azure Active Directory error '(invalid_scope) AADSTS70011: The provided "
    "value for the input parameter 'scope' is not valid. The scope https://cognitiveservices.azure.com "
    "offline_access openid profile is not valid.'"
)
EXPLAIN = f'from aoai_doctor.explainer import explain; explain("{TEXT}")'
# The whole command, as a user types it: click, the CLI module and the answer on stdout.
CLI = (f'import sys; sys.argv = ["aoai-doctor", "explain", "{TEXT}"]; '
       "from aoai_doctor.cli import command_line; command_line()")


def median_wall(code: str, runs: int) -> float:
    """Median wall time of ``python -c code`` over ``runs`` fresh processes."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    """Print baseline, explain and ratio; exit 1 when the budget is exceeded."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args(argv)
    median_wall("pass", 2)  # warm the file cache
    baseline = median_wall("pass", args.runs)
    answer = median_wall(EXPLAIN, args.runs)
    command = median_wall(CLI, args.runs)
    print(f"python -c pass:         {baseline * 1000:7.1f} ms (median of {args.runs})")
    print(f"import + explain:       {answer * 1000:7.1f} ms (median of {args.runs}), {answer / baseline:5.2f}x")
    print(f"aoai-doctor explain:    {command * 1000:7.1f} ms (median of {args.runs}), {command / baseline:5.2f}x")
    worst = max(answer, command)
    verdict = "ok" if worst < BUDGET_SECONDS else "OVER"
    print(f"budget:                 {BUDGET_SECONDS * 1000:7.1f} ms -> {verdict}")
    return 0 if worst < BUDGET_SECONDS else 1


if __name__ == "__main__":
    raise SystemExit(main())
