"""The data every stage passes on: severities, statuses, findings, results and the report."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import field
from typing import Any

from aoai_doctor.record import record

DOCS_DIR = "docs"


class Severity(enum.IntEnum):
    """How bad a finding is. A check's status follows from its worst finding."""

    INFO = 10
    WARNING = 20
    ERROR = 30

    @property
    def label(self) -> str:
        """Lower-case name as it appears in reports (``info``, ``warning``, ``error``)."""
        return self.name.lower()


class Status(str, enum.Enum):
    """A check's verdict. ``ERROR`` means the check itself crashed; ``FAIL`` means it found a problem."""

    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"
    SKIP = "skip"
    ERROR = "error"

    def __str__(self) -> str:
        return self.value


class Stage(enum.IntEnum):
    """Pipeline stages, one per block of a hundred check ids (``AOAI1xx`` is ``CONFIG``)."""

    CONFIG = 1
    CREDENTIALS = 2
    TOKEN = 3
    NETWORK = 4
    DATA_PLANE = 5
    LATENCY = 6
    PLUGIN = 9

    @property
    def title(self) -> str:
        """Heading used by the reporters."""
        return _STAGE_TITLES[self]

    @classmethod
    def of(cls, check_id: str) -> Stage:
        """The stage of a check id: ``AOAI1xx`` → CONFIG … anything not ``AOAI`` + 3 digits → PLUGIN."""
        if len(check_id) == 7 and check_id.startswith("AOAI") and check_id[4:].isdigit():
            try:
                return cls(int(check_id[4]))
            except ValueError:
                return cls.PLUGIN
        return cls.PLUGIN


_STAGE_TITLES = {
    Stage.CONFIG: "Config and endpoint",
    Stage.CREDENTIALS: "Credentials",
    Stage.TOKEN: "Scope and token",
    Stage.NETWORK: "Network",
    Stage.DATA_PLANE: "Data-plane call",
    Stage.LATENCY: "Latency and limits",
    Stage.PLUGIN: "Plugins",
}


def docs_url(check_id: str) -> str:
    """Where a check's documentation page lives."""
    return f"{DOCS_DIR}/checks/{check_id}.md"


@record
class Finding:
    """One thing a check has to say."""

    severity: Severity
    """How bad it is."""
    message: str
    """What is wrong (or right), one line."""
    cause: str | None = None
    """Root-cause id from the public vocabulary (docs/causes/); None for passing notes."""
    fix: str | None = None
    """The next step, with exact commands where there are any."""
    detail: str | None = None
    """Extra lines shown with ``-v``."""


@record
class CheckResult:
    """What the runner records for one check."""

    check_id: str
    """Stable id such as ``AOAI102``."""
    name: str
    """Kebab-case name of the check."""
    summary: str
    """One line on what the check looks at."""
    status: Status
    """The verdict."""
    duration_ms: float
    """Wall time the check took."""
    findings: tuple[Finding, ...] = ()
    """What it found, in the order it found them."""
    required: bool = True
    """Whether a failure of this check fails the run."""
    skip_reason: str | None = None
    """Why it did not run, when ``status`` is SKIP."""
    data: Mapping[str, Any] = field(default_factory=dict)
    """Structured facts for the JSON report (request ids, the identity that won, …). Never a secret."""

    def fails_gate(self, fail_on_warning: bool = False) -> bool:
        """Whether this result fails the run: a required check that failed or crashed (or warned, with
        ``fail_on_warning``)."""
        if not self.required:
            return False
        bad = (Status.FAIL, Status.ERROR, Status.WARN) if fail_on_warning else (Status.FAIL, Status.ERROR)
        return self.status in bad

    @property
    def stage(self) -> Stage:
        """The pipeline stage the check belongs to."""
        return Stage.of(self.check_id)

    @property
    def docs(self) -> str:
        """Link to the check's documentation page."""
        return docs_url(self.check_id)


@record
class Setting:
    """A resolved configuration value and where it came from (``flag --endpoint``, ``env X``, …)."""

    value: str
    source: str


@record
class Diagnosis:
    """The run's one answer."""

    cause: str | None
    """The root-cause id (docs/causes/); None when nothing fails the run."""
    summary: str
    """One sentence: what is wrong, in this target's terms; or what worked."""
    fix: str | None
    """The exact fix, with the values the run knows filled in; None when nothing fails."""
    checks: tuple[str, ...] = ()
    """The checks that show the cause, root first; for a healthy run, the checks the ready line reads."""
    warning: str | None = None
    """When nothing fails but something warns: the warning's cause (its checks are ``checks``)."""

    def as_dict(self) -> dict[str, Any]:
        """For the JSON report."""
        return {"cause": self.cause, "summary": self.summary, "fix": self.fix, "checks": list(self.checks),
                "warning": self.warning}


@record
class Report:
    """A whole run: the target it looked at and one result per check, in pipeline order."""

    tool_version: str
    target: dict[str, Setting]
    """Resolved target settings by name. Secret values are never stored here."""
    results: tuple[CheckResult, ...]
    started_at: str
    """UTC timestamp, ISO 8601."""
    duration_ms: float
    sources_read: tuple[str, ...] = field(default=())
    """Configuration files and environment that were consulted."""
    environment: Mapping[str, Any] = field(default_factory=dict)
    """What a support engineer asks for: tool, Python, OS, package versions, variables set (names only)."""
    diagnosis: Diagnosis | None = None
    """The run's one answer (see :mod:`aoai_doctor.diagnosis`); set when the run builds the report."""

    @property
    def billable_calls(self) -> int:
        """How many billable calls the run made, all checks together (the test call, repeats, streaming)."""
        return sum(r.data["billable_calls"] for r in self.results if isinstance(r.data.get("billable_calls"), int))

    @property
    def passed(self) -> bool:
        """No required check failed or crashed (warnings pass; see ``exit_code`` for ``--fail-on``)."""
        return not self.failed

    @property
    def failed(self) -> tuple[CheckResult, ...]:
        """Required checks that failed or crashed."""
        return tuple(r for r in self.results if r.required and r.status in (Status.FAIL, Status.ERROR))

    def count(self, status: Status) -> int:
        """How many results have this status."""
        return sum(1 for r in self.results if r.status is status)


@record
class FleetReport:
    """A run over many targets (``[[targets]]``, ``--targets``, ``--all-deployments``): one report each, in the
    order they were given."""

    tool_version: str
    reports: tuple[Report, ...]
    started_at: str
    duration_ms: float

    @property
    def billable_calls(self) -> int:
        """How many billable calls the run made, all targets together."""
        return sum(r.billable_calls for r in self.reports)

    @property
    def passed(self) -> bool:
        """No target has a required check that failed or crashed."""
        return all(r.passed for r in self.reports)

    def failing(self, fail_on_warning: bool = False) -> tuple[Report, ...]:
        """The targets whose report fails the gate (a required check that failed, crashed, or with
        ``--fail-on warning`` warned)."""
        return tuple(r for r in self.reports if any(x.fails_gate(fail_on_warning) for x in r.results))


def status_from(findings: tuple[Finding, ...]) -> Status:
    """A check's status from the worst severity among its findings."""
    worst = max((f.severity for f in findings), default=Severity.INFO)
    if worst >= Severity.ERROR:
        return Status.FAIL
    if worst >= Severity.WARNING:
        return Status.WARN
    return Status.PASS
