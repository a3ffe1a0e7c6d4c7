"""The real Azure CLI for tests: a cached ``pip install azure-cli`` venv, an offline config dir, and the
program ``tests/test_real_az.py`` runs inside sealed mode (``az login --service-principal`` against the
stand-in, then the doctor's credential stage).

Two things keep a real ``az`` on loopback. A fresh ``AZURE_CONFIG_DIR`` makes az 2.91 look up the latest
CLI version on its first run (``handle_version_update`` → a HEAD to ``azcliprod.blob.core.windows.net``),
and every run queues telemetry for ``dc.services.visualstudio.com``. :func:`prepare_config_dir` writes a
``versionCheck.json`` holding the installed versions and ``[core] collect_telemetry = no``: no account,
so az is exactly "never signed in", but it makes no network call.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

AZURE_CLI_SPEC = "azure-cli"
"""What ``pip install`` gets (any current release; the tests read its version, they do not pin one)."""

CACHE_ENV = "AOAI_DOCTOR_AZ_CACHE"
# Resolved at import, before the tests' autouse fixture points HOME at a temp dir.
DEFAULT_CACHE = Path(os.path.expanduser("~")) / ".cache" / "aoai-doctor" / "azure-cli-venv"
CACHE_FROM_ENV = os.environ.get(CACHE_ENV, "")
INSTALL_TIMEOUT = 600.0
REPO_ROOT = Path(__file__).resolve().parent.parent

DOCTOR_ARGS: tuple[str, ...] = (
    "run",
    "--select",
    "AOAI2",
    "--format",
    "json",
    "--endpoint",
    "https://contoso-openai.openai.azure.com",
    "--deployment",
    "chat",
    "--api-version",
    "2024-10-21",
)

# A real az takes a few seconds to start, many more while the suite's parallel workers load the machine.
# The checks that call it get room enough (what the tests assert is what az says, not how fast it says it;
# the bounds themselves are tested with the fake az in test_credentials.py). Written as checks.toml into
# the directory the doctor runs in.
AZ_ROOM_CHECKS_TOML = """\
[checks.AOAI200]
tool_timeout = 30.0
timeout = 100.0

[checks.AOAI206]
bound = 30.0

[checks.AOAI210]
bound = 30.0
"""

_VERSIONS_CODE = (
    "import importlib.metadata as m, json; "
    "print(json.dumps({k: m.version(d) for k, d in "
    "(('azure-cli', 'azure-cli'), ('core', 'azure-cli-core'), ('telemetry', 'azure-cli-telemetry'))}))"
)


class AzureCliUnavailable(RuntimeError):
    """azure-cli could not be installed (no network, PyPI down) or does not run."""


@dataclass(frozen=True)
class AzureCli:
    """A working ``az`` in its own venv."""

    venv: Path
    versions: Mapping[str, str]
    """``azure-cli``, ``core`` and ``telemetry`` versions, as installed."""
    install_seconds: float | None = None
    """How long the install took; ``None`` when the cached venv was reused."""

    @property
    def bin_dir(self) -> Path:
        return self.venv / "bin"

    @property
    def az(self) -> Path:
        return self.bin_dir / "az"

    @property
    def version(self) -> str:
        return self.versions["azure-cli"]


def cache_dir() -> Path:
    """Where the venv lives: ``$AOAI_DOCTOR_AZ_CACHE``, else ``~/.cache/aoai-doctor/azure-cli-venv``."""
    return Path(CACHE_FROM_ENV).expanduser() if CACHE_FROM_ENV else DEFAULT_CACHE


def prepare_config_dir(path: Path, versions: Mapping[str, str]) -> Path:
    """An ``AZURE_CONFIG_DIR`` with no account in which az makes no network call of its own."""
    path.mkdir(parents=True, exist_ok=True)
    (path / "config").write_text("[core]\ncollect_telemetry = no\n")
    stamp = dt.datetime.now().strftime("%Y-%m-%d %H:%M:%S.%f")
    cached = {"versions": {k: {"local": v} for k, v in versions.items()}, "update_time": stamp}
    (path / "versionCheck.json").write_text(json.dumps(cached))
    return path


def installed_versions(venv: Path) -> dict[str, str] | None:
    """The azure-cli versions in ``venv``, or ``None`` when it holds no complete install."""
    python = venv / "bin" / "python"
    if not python.is_file() or not (venv / "bin" / "az").is_file():
        return None
    try:
        done = subprocess.run(
            [str(python), "-c", _VERSIONS_CODE], capture_output=True, text=True, timeout=60, check=False
        )
        versions = json.loads(done.stdout) if done.returncode == 0 else None
    except (OSError, subprocess.TimeoutExpired, ValueError):
        return None
    return {str(k): str(v) for k, v in versions.items()} if isinstance(versions, dict) else None


def _offline_env(venv: Path, home: str, versions: Mapping[str, str]) -> dict[str, str]:
    """A minimal environment for ``az`` in ``venv``: never signed in, no network call of its own."""
    return {
        "PATH": os.pathsep.join([str(venv / "bin"), "/usr/bin", "/bin"]),
        "HOME": home,
        "AZURE_CONFIG_DIR": str(prepare_config_dir(Path(home) / "config", versions)),
        "LANG": "C.UTF-8",
    }


def az_version_works(venv: Path, versions: Mapping[str, str]) -> bool:
    """Whether ``az version`` runs in ``venv`` and reports the installed azure-cli."""
    with tempfile.TemporaryDirectory(prefix="aoai-doctor-az-check-") as tmp:
        env = _offline_env(venv, tmp, versions)
        try:
            done = subprocess.run(
                [str(venv / "bin" / "az"), "version", "--output", "json"],
                capture_output=True,
                text=True,
                timeout=120,
                env=env,
                stdin=subprocess.DEVNULL,
                check=False,
            )
            reported = json.loads(done.stdout).get("azure-cli") if done.returncode == 0 else None
        except (OSError, subprocess.TimeoutExpired, ValueError, AttributeError):
            return False
    return reported == versions.get("azure-cli")


def _compile_what_tests_import(venv: Path, versions: Mapping[str, str]) -> None:
    """Run, once, the az commands the tests run (not signed in, so they only say so), with bytecode writing on.

    The install skips compiling azure-cli's ~13,000 modules (two thirds of its time; az imports a few hundred),
    so az compiles what it imports on first use; without this, where the tests' environment sets
    ``PYTHONDONTWRITEBYTECODE`` it would compile them again on every call.
    """
    with tempfile.TemporaryDirectory(prefix="aoai-doctor-az-compile-") as tmp:
        env = _offline_env(venv, tmp, versions)
        for args in (("account", "show"), ("account", "get-access-token")):
            with contextlib.suppress(OSError, subprocess.TimeoutExpired):
                subprocess.run(
                    [str(venv / "bin" / "az"), *args, "--output", "json"],
                    capture_output=True,
                    timeout=120,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    check=False,
                )


@contextlib.contextmanager
def _locked(venv: Path) -> Iterator[None]:
    """Serialise installs into the same cache (parallel pytest runs, xdist workers)."""
    venv.parent.mkdir(parents=True, exist_ok=True)
    with open(venv.parent / f".{venv.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _tail(text: str, lines: int = 4) -> str:
    """pip's ``ERROR:`` lines, else its last lines (without its warnings about absent local indexes)."""
    kept = [ln.strip() for ln in text.splitlines() if ln.strip() and "is ignored" not in ln]
    errors = [ln for ln in kept if ln.startswith("ERROR:")]
    return " | ".join((errors or kept)[-lines:])[-800:] or "no output"


def ensure_azure_cli(venv: Path | None = None, timeout: float = INSTALL_TIMEOUT) -> AzureCli:
    """The cached venv if ``az version`` works in it; else (re)install azure-cli there with pip.

    Raises :class:`AzureCliUnavailable` with the reason when the install fails or times out.
    """
    venv = venv or cache_dir()
    with _locked(venv):
        versions = installed_versions(venv)
        if versions and az_version_works(venv, versions):
            return AzureCli(venv, versions)
        if venv.exists():
            if not (venv / "pyvenv.cfg").is_file() and any(venv.iterdir()):
                raise AzureCliUnavailable(f"{venv} exists and is not a venv; not deleting it (set {CACHE_ENV})")
            shutil.rmtree(venv)
        started = time.monotonic()
        steps: Sequence[Sequence[str]] = (
            [sys.executable, "-m", "venv", str(venv)],
            [
                str(venv / "bin" / "python"),
                "-m",
                "pip",
                "install",
                "--disable-pip-version-check",
                "--no-input",
                "--progress-bar",
                "off",
                "--no-compile",  # see _compile_what_tests_import
                AZURE_CLI_SPEC,
            ],
        )
        for step in steps:
            remaining = timeout - (time.monotonic() - started)
            try:
                done = subprocess.run(
                    list(step),
                    capture_output=True,
                    text=True,
                    timeout=max(1.0, remaining),
                    stdin=subprocess.DEVNULL,
                    check=False,
                )
            except subprocess.TimeoutExpired:
                shutil.rmtree(venv, ignore_errors=True)
                raise AzureCliUnavailable(f"'pip install {AZURE_CLI_SPEC}' did not finish in {timeout:.0f} s") from None
            except OSError as exc:
                shutil.rmtree(venv, ignore_errors=True)
                raise AzureCliUnavailable(f"cannot run {step[0]}: {exc}") from None
            if done.returncode != 0:
                shutil.rmtree(venv, ignore_errors=True)
                what = "python -m venv" if step[1:3] == ["-m", "venv"] else f"pip install {AZURE_CLI_SPEC}"
                raise AzureCliUnavailable(f"'{what}' exited {done.returncode}: {_tail(done.stderr + done.stdout)}")
        versions = installed_versions(venv)
        if not versions or not az_version_works(venv, versions):
            shutil.rmtree(venv, ignore_errors=True)
            raise AzureCliUnavailable("azure-cli installed, but 'az version' does not work")
        _compile_what_tests_import(venv, versions)
        return AzureCli(venv, versions, install_seconds=round(time.monotonic() - started, 1))


# --- inside sealed mode ---------------------------------------------------------------------------

AZ_BIN_ENV = "AOAI_DOCTOR_AZ_BIN"
_SP_VARS = ("AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_CLIENT_SECRET")
_DROP_FOR_DOCTOR = (
    *_SP_VARS,
    "AZURE_OPENAI_ENDPOINT",
    "AZURE_OPENAI_DEPLOYMENT",
    "OPENAI_API_VERSION",
    "AZURE_OPENAI_SCOPE",
)


def _cached_tokens(config: Path) -> set[str]:
    """Every token az keeps in its MSAL cache (plain JSON on Linux)."""
    try:
        cache = json.loads((config / "msal_token_cache.json").read_text())
    except (OSError, ValueError):
        return set()
    found: set[str] = set()
    for section in ("AccessToken", "RefreshToken", "IdToken"):
        for entry in (cache.get(section) or {}).values():
            value = entry.get("secret") if isinstance(entry, dict) else None
            if isinstance(value, str) and len(value) >= 16:
                found.add(value)
    return found


def _scrub(text: str, secrets: set[str]) -> str:
    for value in sorted(secrets, key=len, reverse=True):
        text = text.replace(value, "<redacted>")
    return text


@dataclass(frozen=True)
class _Ran:
    returncode: int | None
    """``None`` when it timed out."""
    stdout: str
    stderr: str
    seconds: float


def _run(argv: Sequence[str], env: Mapping[str, str], cwd: str, timeout: float = 120) -> _Ran:
    """Run a program; a timeout is reported, never raised (its message would repeat argv, secret included)."""
    t0 = time.monotonic()
    try:
        done = subprocess.run(
            list(argv),
            capture_output=True,
            text=True,
            env=dict(env),
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return _Ran(None, "", f"timed out after {timeout:g} s", round(time.monotonic() - t0, 2))
    return _Ran(done.returncode, done.stdout, done.stderr, round(time.monotonic() - t0, 2))


def _login_and_diagnose(env: Mapping[str, str], secret: str) -> tuple[dict[str, Any], set[str]]:
    client_id, tenant_id = env.get("AZURE_CLIENT_ID", ""), env.get("AZURE_TENANT_ID", "")
    bin_dir = Path(env[AZ_BIN_ENV])
    versions = installed_versions(bin_dir.parent) or {}
    path = os.pathsep.join([str(Path(sys.executable).parent), str(bin_dir), "/usr/bin", "/bin"])
    config = prepare_config_dir(Path(tempfile.mkdtemp(prefix="aoai-doctor-azcfg-")), versions)
    base = {k: v for k, v in env.items() if k != AZ_BIN_ENV}
    base.update(PATH=path, AZURE_CONFIG_DIR=str(config))
    workdir = tempfile.mkdtemp(prefix="aoai-doctor-cwd-")  # no checks.toml of anyone else's, only ours
    (Path(workdir) / "checks.toml").write_text(AZ_ROOM_CHECKS_TOML)
    result: dict[str, Any] = {"client_id": client_id, "tenant_id": tenant_id, "leaks": []}

    # --password=…: a generated secret may start with '-', which az would take for an option.
    az = [str(bin_dir / "az"), "login", "--service-principal", "-u", client_id, f"--password={secret}"]
    login = _run([*az, "--tenant", tenant_id, "--output", "json"], base, workdir)
    secrets = {s for s in (secret, *_cached_tokens(config)) if s}
    try:
        accounts = json.loads(login.stdout) if login.returncode == 0 else None
    except ValueError:
        accounts = None
    result["login"] = {
        "returncode": login.returncode,
        "seconds": login.seconds,
        "accounts": accounts,
        "stderr": login.stderr[-2000:],
    }
    if any(s in login.stdout + login.stderr for s in secrets):
        result["leaks"].append("az login")
    if login.returncode != 0:
        return result, secrets
    doctor_env = {k: v for k, v in base.items() if k not in _DROP_FOR_DOCTOR}
    variants: tuple[tuple[str, dict[str, str], tuple[str, ...]], ...] = (
        ("pinned", {"AZURE_TOKEN_CREDENTIALS": "AzureCliCredential"}, ()),
        ("chain", {}, ("--verify-chain",)),
    )
    runs: dict[str, Any] = {}
    for name, extra, args in variants:
        done = _run([sys.executable, "-m", "aoai_doctor", *DOCTOR_ARGS, *args], {**doctor_env, **extra}, workdir)
        if any(s in done.stdout + done.stderr for s in secrets):
            result["leaks"].append(name)
        try:
            report = json.loads(_scrub(done.stdout, secrets))
        except ValueError:
            report = None
        runs[name] = {
            "returncode": done.returncode,
            "seconds": done.seconds,
            "report": report,
            "stderr": done.stderr[-2000:],
        }
    result["runs"] = runs
    return result, secrets


def sealed_main() -> int:
    """Run inside sealed mode with the scenario's client environment.

    ``az login --service-principal`` with the scenario's app, then the doctor's credential stage twice
    with the service principal variables removed: pinned with ``AZURE_TOKEN_CREDENTIALS=AzureCliCredential``,
    and as the plain chain with ``--verify-chain`` (the real ``DefaultAzureCredential()`` once). Prints one
    JSON line; every secret and token is replaced by ``<redacted>`` first, and ``leaks`` names the outputs in
    which one appeared.
    """
    env = dict(os.environ)
    secret = env.get("AZURE_CLIENT_SECRET", "")
    try:
        result, secrets = _login_and_diagnose(env, secret)
    except Exception:
        import traceback

        sys.stderr.write(_scrub(traceback.format_exc(), {secret} if secret else set()))
        return 2
    print(_scrub(json.dumps(result), secrets))
    return 0


if __name__ == "__main__":
    raise SystemExit(sealed_main())
