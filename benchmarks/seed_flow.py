"""A full healthy ``aoai-doctor run`` side by side with the seed notebook's flow, against one stand-in.

The seed flow, as a script: read ``config.json`` -> ``DefaultAzureCredential().get_token(
"https://cognitiveservices.azure.com/.default")`` -> one POST to chat/completions with ``requests``.
Both run as fresh processes in the stand-in's private environment (``sandbox.client_environment``: no
tools on PATH, an empty HOME, the scenario's service principal), interleaved, the order alternating
within each pair; the figure is the median of the paired ratios doctor / seed flow.

    python benchmarks/seed_flow.py [--rounds N] [--scenario healthy] [--instructions]

With ``--instructions`` (valgrind installed) each runs once under cachegrind instead, and the figure is the
ratio of instructions executed, which does not move with the machine's load: the same for the seed's
imports alone, and what the doctor adds by importing its own modules, of which creating its records and
dataclasses is counted apart (a dataclass compiles six methods when it is made; a record, none). Imports
alone are counted as the doctor's process runs them, without the cyclic garbage collector (see
``aoai_doctor.cli.command_line``); the seed flow's collections are in its "rest".
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

SEED = """\
import json
import requests
from azure.identity import DefaultAzureCredential

with open("config.json") as f:
    config = json.load(f)
# disable_instance_discovery: the stand-in's Entra is on loopback, unknown to MSAL (see StandIn.client_env)
credential = DefaultAzureCredential(disable_instance_discovery=True)
token = credential.get_token("https://cognitiveservices.azure.com/.default")
url = (f"{config['OPENAI_API_BASE'].rstrip('/')}/openai/deployments/{config['CHAT_MODEL']}/chat/completions"
       f"?api-version={config['OPENAI_API_VERSION']}")
response = requests.post(url, headers={"Authorization": f"Bearer {token.token}"},
                         json={"messages": [{"role": "user", "content": "Hello"}], "max_tokens": 16}, timeout=30)
response.raise_for_status()
print(response.status_code, response.json()["choices"][0]["message"]["content"][:40])
"""


def timed(argv: list[str], env: dict[str, str], cwd: str) -> tuple[float, subprocess.CompletedProcess[str]]:
    t0 = time.monotonic()
    proc = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, timeout=120)
    return time.monotonic() - t0, proc


# What the doctor's run imports beyond what the seed flow imports (json, requests, azure.identity).
DOCTOR_MODULES = ("click", "aoai_doctor.cli.run", "aoai_doctor.app", "aoai_doctor.fleet", "aoai_doctor.registry",
                  "aoai_doctor.reporters.json", "aoai_doctor.diagnosis", "aoai_doctor.services.support",
                  *(f"aoai_doctor.checks.{m}" for m in ("target", "credentials.machine", "credentials.sources",
                                                        "credentials.verdict", "token", "network", "dataplane",
                                                        "latency")))
COUNT_CLASSES = """
import dataclasses, sys
made = [value for name, module in list(sys.modules.items()) if name.startswith("aoai_doctor")
        for value in vars(module).values() if isinstance(value, type) and dataclasses.is_dataclass(value)
        and value.__module__ == name]
records = sum(1 for value in made if "_record_names" in vars(value))
print(len(made) - records, records)
"""


def instructions(argv: list[str], env: dict[str, str], cwd: str) -> tuple[int, str]:
    """Instructions the process executes (the first process: not the children it forks), and its output."""
    done = subprocess.run(["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null",
                           *argv], env=env, cwd=cwd, capture_output=True, text=True, timeout=600)
    pid = re.search(r"==(\d+)== Command:", done.stderr)
    count = pid and re.search(rf"=={pid.group(1)}== I\s+refs:\s+([\d,]+)", done.stderr)
    if done.returncode not in (0, 1) or not count:
        sys.exit(f"{' '.join(argv)} under valgrind failed: {done.stderr[-2000:]}")
    return int(count.group(1).replace(",", "")), done.stdout


def count_instructions(seed: list[str], doctor: list[str], env: dict[str, str], seed_dir: str,
                       doctor_dir: str) -> None:
    env = {**env, "PATH": os.pathsep.join(filter(None, (env.get("PATH"), os.path.dirname(shutil.which("valgrind")
                                                                                            or ""))))}
    seed_ir, _ = instructions(seed, env, seed_dir)
    doctor_ir, _ = instructions(doctor, env, doctor_dir)
    # imports alone, counted as the doctor's process runs: no cyclic collection, nothing collected at exit
    seed_imports = "import gc\ngc.disable()\nimport json, requests, azure.identity\n"
    imports_ir, _ = instructions([sys.executable, "-c", seed_imports + "gc.freeze()\n"], env, seed_dir)
    own = seed_imports + "".join(f"import {m}\n" for m in DOCTOR_MODULES)
    own_ir, out = instructions([sys.executable, "-c", own + COUNT_CLASSES + "gc.freeze()\n"], env, doctor_dir)
    dataclasses, records = (int(n) for n in out.split()[-2:])
    empty = "import gc\ngc.disable()\nimport dataclasses\nfrom aoai_doctor.record import record\n"
    body = ('class C{n}:\n    """A docstring, as every class of ours has."""\n'
            "    a: str\n    b: int = 0\n    c: tuple[str, ...] = ()\n")
    base_ir, _ = instructions([sys.executable, "-c", empty], env, doctor_dir)

    def per_class(decorator: str) -> float:
        """Importing a compiled module of twenty such classes, less importing nothing, over twenty."""
        with tempfile.TemporaryDirectory(prefix="aoai-classes-") as where:
            Path(where, "classes.py").write_text(empty + "".join(f"{decorator}\n{body.format(n=n)}" for n in range(20)),
                                                 encoding="utf-8")
            compileall.compile_dir(where, quiet=1)
            many = instructions([sys.executable, "-c", empty + "import classes\n"],
                                {**env, "PYTHONPATH": os.pathsep.join((where, env["PYTHONPATH"]))}, doctor_dir)[0]
        return (many - base_ir) / 20

    per_dataclass = per_class("@dataclasses.dataclass(frozen=True, slots=True)")
    per_record = per_class("@record")

    def m(count: float) -> str:
        return f"{count / 1e6:7.0f} M"

    rows = [
        ("seed flow", seed_ir, ""),
        ("aoai-doctor run (every check)", doctor_ir, f"   {doctor_ir / seed_ir:.2f}x the seed flow"),
        ("  the seed's imports (json, requests, azure.identity; no collector)", imports_ir, ""),
        ("  the doctor's own modules and click on top of those", own_ir - imports_ir, ""),
        (f"    of which creating its {records} records (~{per_record / 1e6:.1f} M each)", records * per_record, ""),
        (f"    and its {dataclasses} other dataclasses (~{per_dataclass / 1e6:.1f} M each)",
         dataclasses * per_dataclass, ""),
        ("  the rest (the run, any collection, the exit): the doctor", doctor_ir - own_ir, ""),
        ("                                                the seed flow", seed_ir - imports_ir, ""),
    ]
    print("instructions executed (valgrind cachegrind), one run each:")
    for label, count, note in rows:
        print(f"  {label:70} {m(count)}{note}")

def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--scenario", default="healthy")
    parser.add_argument("--instructions", action="store_true",
                        help="count instructions under valgrind (one run each) instead of timing")
    args = parser.parse_args()
    if args.instructions and not shutil.which("valgrind"):
        sys.exit("--instructions needs valgrind on PATH")

    # as installed: the doctor's modules compiled, as pip compiles the seed's (PYTHONDONTWRITEBYTECODE would
    # otherwise have every run compile whatever changed since the last .pyc)
    compileall.compile_dir(REPO / "aoai_doctor", quiet=1)
    from aoai_doctor.services import sandbox
    from aoai_doctor.standin import StandIn, load_scenario

    with StandIn(load_scenario(args.scenario)) as standin, \
            sandbox.client_environment(standin, dict(os.environ)) as env, \
            tempfile.TemporaryDirectory(prefix="aoai-seed-") as seed_dir, \
            tempfile.TemporaryDirectory(prefix="aoai-doctor-") as doctor_dir:
        env["PYTHONPATH"] = str(REPO)
        named, pin = sandbox.named_endpoint(standin, env["AZURE_OPENAI_ENDPOINT"])
        common = {"OPENAI_API_VERSION": env.get("OPENAI_API_VERSION", "2024-10-21"),
                  "CHAT_MODEL": env["AZURE_OPENAI_DEPLOYMENT"]}
        # the seed calls the stand-in where it listens; the doctor calls it by its real name, pinned there
        Path(seed_dir, "config.json").write_text(
            json.dumps({"OPENAI_API_BASE": env["AZURE_OPENAI_ENDPOINT"], **common}), encoding="utf-8")
        Path(doctor_dir, "config.json").write_text(json.dumps({"OPENAI_API_BASE": named, **common}), encoding="utf-8")
        for name in ("AZURE_OPENAI_ENDPOINT", "AZURE_OPENAI_DEPLOYMENT", "OPENAI_API_VERSION"):
            env.pop(name, None)  # config.json is the configuration, for both
        Path(seed_dir, "seed.py").write_text(SEED, encoding="utf-8")
        seed = [sys.executable, "seed.py"]
        doctor = [sys.executable, "-m", "aoai_doctor", "run", "--resolve", pin, "--format", "json"]

        _, proc = timed(seed, env, seed_dir)  # warm-up, and both must work
        if proc.returncode != 0:
            sys.exit(f"the seed flow failed: {proc.stderr[-2000:]}")
        _, proc = timed(doctor, env, doctor_dir)
        if proc.returncode != 0:
            sys.exit(f"the doctor's healthy run did not pass (exit {proc.returncode}): {proc.stdout[-3000:]}")
        if args.instructions:
            count_instructions(seed, doctor, env, seed_dir, doctor_dir)
            return
        seed_times: list[float] = []
        doctor_times: list[float] = []
        last = proc.stdout
        for i in range(args.rounds):
            pair = [("seed", seed, seed_dir), ("doctor", doctor, doctor_dir)]
            for name, argv, cwd in pair if i % 2 == 0 else reversed(pair):
                seconds, proc = timed(argv, env, cwd)
                (seed_times if name == "seed" else doctor_times).append(seconds)
                if name == "doctor":
                    last = proc.stdout
        ratios = [d / s for d, s in zip(doctor_times, seed_times, strict=True)]
        print(f"scenario {args.scenario}: {args.rounds} interleaved pairs")
        print(f"  seed flow (config.json -> DefaultAzureCredential -> one POST)  median "
              f"{statistics.median(seed_times):6.3f} s")
        print(f"  aoai-doctor run (every check)                                median "
              f"{statistics.median(doctor_times):6.3f} s")
        print(f"  median of paired ratios doctor/seed: {statistics.median(ratios):.2f}x")
        report = json.loads(last)
        print(f"  last doctor report: {report['duration_ms'] / 1000:.3f} s in checks")
        for check in report["checks"]:
            print(f"    {check['id']} {check['name']:32} {check['status']:5} {check['duration_ms'] / 1000:6.3f} s")


if __name__ == "__main__":
    main()
