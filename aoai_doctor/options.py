"""What one run of the doctor is asked to do: a frozen, typed value the CLI and the library build alike.

The target fields mirror the ``run`` flags; a field left ``None`` falls back to the environment,
``config.json`` and ``checks.toml`` (see :mod:`aoai_doctor.config`). Fields that set a check's option
(``live``, ``repeat``, ``expect_credential`` …) are bound by the check itself (``Check.binds``) and
override ``[checks.<ID>]`` only when given.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Mapping
from dataclasses import field
from pathlib import Path

from aoai_doctor.record import record
from aoai_doctor.redaction import Secret


class Format(str, enum.Enum):
    """A report format."""

    TEXT = "text"
    JSON = "json"
    JUNIT = "junit"
    MARKDOWN = "markdown"

    @classmethod
    def from_path(cls, path: Path) -> Format | None:
        """The format a file name implies (``report.json`` → JSON), if any."""
        return _BY_SUFFIX.get(path.suffix.lower())


_BY_SUFFIX = {".txt": Format.TEXT, ".json": Format.JSON, ".xml": Format.JUNIT, ".md": Format.MARKDOWN}


class FailOn(str, enum.Enum):
    """What fails the run."""

    ERROR = "error"
    """A required check that fails or crashes."""
    WARNING = "warning"
    """Also a required check that warns."""


class Redaction(str, enum.Enum):
    """How much the report hides. Secrets are always removed."""

    STANDARD = "standard"
    STRICT = "strict"
    """Also tenant and object ids, user names, host and resource names (as stable hashes)."""


class NetworkErrors(str, enum.Enum):
    """What DNS, connection and timeout failures do to the gate."""

    FAIL = "fail"
    WARN = "warn"
    """Flaky runners: a check whose every error is a network cause warns instead."""


DEFAULT_DEADLINE = 180.0
"""The run-wide deadline by default: longer than any check's own timeout (AOAI501: 90 s)."""


@record
class Output:
    """One rendering of the report and where it goes."""

    format: Format
    path: Path | None = None
    """None: standard output."""


@record
class Options:
    """Everything one run is asked to do. Every field has a default, so ``Options()`` is a plain run."""

    # The target (None: from the environment, config.json or checks.toml).
    endpoint: str | None = None
    """Resource endpoint, e.g. ``https://NAME.openai.azure.com``."""
    deployment: str | None = None
    deployment_kind: str | None = None
    """``chat``, ``completion`` or ``embedding``."""
    api_version: str | None = None
    auth: str | None = None
    """``entra`` or ``api-key``."""
    scope: str | None = None
    """The token scope the app asks for."""
    expect_tenant: str | None = None
    token: Secret | None = None
    """A token to check instead of getting one (``--token-file``)."""
    token_source: str | None = None
    """Where ``token`` came from, as the report names it."""
    allow_hosts: tuple[str, ...] = ()
    """Hosts besides Azure's own that may receive a token or key (gateways of yours)."""
    resolve: tuple[str, ...] = ()
    """``HOST:PORT:ADDRESS`` pins, as curl ``--resolve``."""

    # A fleet: many targets in one run (see aoai_doctor.fleet).
    targets_file: Path | None = None
    """A file of ``[[targets]]`` tables (``--targets``); without it, those of ``checks.toml`` when no target
    flag is given."""
    targets: tuple[Mapping[str, object], ...] = ()
    """Target tables given directly (the library's ``diagnose(targets=[...])``), as ``[[targets]]`` would."""
    all_deployments: bool = False
    """Check every deployment Resource Manager lists for each endpoint (``--all-deployments``)."""
    parallel: int = 8
    """Targets checked at once."""

    # Configuration files.
    config_file: Path | None = None
    """A samples-style ``config.json``."""
    checks_file: Path | None = None
    """A ``checks.toml``."""
    env_files: tuple[Path, ...] = ()
    """``.env`` files to read (``--env-file``), a later one over an earlier one; they replace the
    default ``./.env`` and azd's ``.azure/<env>/.env``. Always below the real environment."""
    read_cwd: bool = False
    """Also read ``./config.json``, ``./checks.toml``, ``./.env`` and azd's ``.azure/<env>/.env`` when no
    file is named (the CLI does)."""

    # Which checks.
    select: tuple[str, ...] = ()
    """Run only checks whose id starts with one of these (and what they need)."""
    ignore: tuple[str, ...] = ()

    # Options that checks bind (None: checks.toml or the check's default).
    live: bool | None = None
    """False: skip the billable test call."""
    repeat: int | None = None
    concurrency: int | None = None
    stream: bool | None = None
    expect_region: str | None = None
    prompt: str | None = None
    """The test call's prompt (default: a neutral one); yours shows what your content filter does with it."""
    expect_credential: str | None = None
    verify_chain: bool | None = None

    # The gate and the report.
    fail_on: FailOn = FailOn.ERROR
    network_errors: NetworkErrors = NetworkErrors.FAIL
    redaction: Redaction = Redaction.STANDARD
    outputs: tuple[Output, ...] = (Output(Format.TEXT),)
    verbose: bool = False
    exit_zero: bool = False
    """Exit 0 even when checks fail (configuration errors still exit 2)."""
    started: float = field(default_factory=time.monotonic, compare=False)
    """When the run began (``time.monotonic``): the deadline counts from here."""
    deadline: float = DEFAULT_DEADLINE
    """Seconds the whole run may take (``--deadline``): then every unfinished check is reported as timed
    out, with the phase it was in, and the process ends."""

    @property
    def fail_on_warning(self) -> bool:
        """Whether a warning fails the run."""
        return self.fail_on is FailOn.WARNING
