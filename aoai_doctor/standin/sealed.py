"""Sealed mode ("Azure in a box"): run a program where the real Azure host names lead to the stand-in.

``python -m aoai_doctor.standin.sealed --scenario NAME -- PROGRAM ARGS…`` must run inside a private
network and mount namespace (``unshare -mn``, root on Linux). It then

1. brings ``lo`` up and adds ``169.254.169.254/32`` to it (the IMDS address),
2. bind-mounts a hosts file over ``/etc/hosts`` mapping ``login.microsoftonline.com``,
   ``<resource>.openai.azure.com``, ``<region>.api.cognitive.microsoft.com``,
   ``management.azure.com`` and, when the scenario has them, ``<resource>.services.ai.azure.com`` and
   ``<gateway>.azure-api.net`` to 127.0.0.1 (the host's file is untouched: the mount is private),
3. starts the stand-in on ``127.0.0.1:443`` (one certificate for all those names) and IMDS on
   ``169.254.169.254:80``,
4. runs PROGRAM with the scenario's client environment — without ``AZURE_AUTHORITY_HOST`` or
   ``AZURE_POD_IDENTITY_AUTHORITY_HOST`` — and exits with its status.

Unmodified ``DefaultAzureCredential()`` and SDK clients then behave exactly as in production. The
namespace has no route out, so nothing can reach a real Azure address. :class:`SealedRunner` wraps
the ``unshare`` call for tests.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import aoai_doctor
from aoai_doctor.record import record
from aoai_doctor.standin.runtime import ARM_HOST, ENTRA_HOST, IMDS_ADDRESS, StandIn
from aoai_doctor.standin.scenario import Scenario
from aoai_doctor.standin.scenario_toml import load_scenario

_CHILD_ENV_KEEP = ("PATH", "LANG", "LC_ALL", "TZ", "PYTHONPATH", "VIRTUAL_ENV")


def sealed_unavailable_reason() -> str | None:
    """Why sealed mode cannot run here, or ``None`` when ``unshare -mn`` works."""
    if not sys.platform.startswith("linux"):
        return "needs Linux namespaces"
    for tool in ("unshare", "mount", "ip"):
        if shutil.which(tool) is None:
            return f"'{tool}' is not on PATH"
    try:
        probe = subprocess.run(
            [_tool("unshare"), "-mn", "true"], capture_output=True, timeout=10, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"unshare failed: {exc}"
    if probe.returncode != 0:
        return f"'unshare -mn' is not permitted ({probe.stderr.decode(errors='replace').strip()})"
    return None


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise FileNotFoundError(name)
    return path


def hosts_file_text(scenario: Scenario) -> str:
    """The ``/etc/hosts`` served inside the namespace."""
    resource = scenario.resource
    names = [ENTRA_HOST, resource.regional_host, ARM_HOST]
    if resource.custom_subdomain:
        names.insert(1, resource.custom_host)
    if resource.projects:
        names.append(resource.services_host)
    if scenario.gateway is not None:
        names.append(scenario.gateway.host)
    return "127.0.0.1 localhost\n::1 localhost\n" + "".join(f"127.0.0.1 {n}\n" for n in names)


def _prepare_namespace(hosts_text: str, workdir: Path) -> None:
    ip = _tool("ip")
    subprocess.run([ip, "link", "set", "lo", "up"], check=True)
    subprocess.run([ip, "addr", "add", f"{IMDS_ADDRESS}/32", "dev", "lo"], check=True)
    hosts = workdir / "hosts"
    hosts.write_text(hosts_text)
    subprocess.run([_tool("mount"), "--bind", str(hosts), "/etc/hosts"], check=True)


def run_inside(scenario: Scenario, command: Sequence[str], extra_env: Mapping[str, str] | None = None) -> int:
    """Set up the namespace, start the stand-in and run ``command``; return its exit status.

    Call only in a private network + mount namespace: it rewrites ``/etc/hosts`` and binds :443.
    """
    with tempfile.TemporaryDirectory(prefix="aoai-doctor-sealed-") as tmp:
        workdir = Path(tmp)
        _prepare_namespace(hosts_file_text(scenario), workdir)
        with StandIn(scenario, sealed=True) as standin:
            env = {k: os.environ[k] for k in _CHILD_ENV_KEEP if k in os.environ}
            home = workdir / "home"
            home.mkdir()
            env["HOME"] = str(home)
            env.update(standin.client_env())
            env.update(extra_env or {})
            return subprocess.run(list(command), env=env, check=False).returncode


@record
class SealedResult:
    """Outcome of a program run in sealed mode."""

    returncode: int
    stdout: str
    stderr: str


@record
class SealedRunner:
    """Runs Python code in a fresh sealed namespace per call (used by the pytest fixture)."""

    python: str = sys.executable

    def run(
        self,
        scenario: str | Path,
        code: str,
        *,
        env: Mapping[str, str] | None = None,
        timeout: float = 60,
    ) -> SealedResult:
        """Run ``code`` with ``python`` under ``unshare -mn`` against ``scenario``'s stand-in."""
        repo_root = str(Path(aoai_doctor.__file__).resolve().parent.parent)
        with tempfile.TemporaryDirectory(prefix="aoai-doctor-sealed-code-") as tmp:
            script = Path(tmp) / "sealed_program.py"
            script.write_text(code)
            command = [
                _tool("unshare"),
                "-mn",
                "--",
                self.python,
                "-m",
                "aoai_doctor.standin.sealed",
                "--scenario",
                str(scenario),
            ]
            for key, value in (env or {}).items():
                command += ["--env", f"{key}={value}"]
            command += ["--", self.python, str(script)]
            outer_env = {k: os.environ[k] for k in _CHILD_ENV_KEEP if k in os.environ}
            outer_env["PYTHONPATH"] = os.pathsep.join(filter(None, [repo_root, outer_env.get("PYTHONPATH")]))
            done = subprocess.run(
                command, capture_output=True, text=True, timeout=timeout, env=outer_env, check=False
            )
        return SealedResult(done.returncode, done.stdout, done.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point for ``python -m aoai_doctor.standin.sealed`` (inside ``unshare -mn``)."""
    parser = argparse.ArgumentParser(
        prog="python -m aoai_doctor.standin.sealed",
        description="Run a program against the stand-in under the real Azure host names. "
        "Must run inside 'unshare -mn'.",
    )
    parser.add_argument("--scenario", default="healthy", help="scenario name or TOML file")
    parser.add_argument("--env", action="append", default=[], metavar="KEY=VALUE", help="extra variable")
    parser.add_argument("command", nargs="+", help="program and arguments (after --)")
    args = parser.parse_args(argv)
    extra = dict(item.split("=", 1) for item in args.env)
    return run_inside(load_scenario(args.scenario), args.command, extra)


if __name__ == "__main__":
    raise SystemExit(main())
