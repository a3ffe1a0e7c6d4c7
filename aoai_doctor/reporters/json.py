"""The machine-readable report. Its shape is published as report.schema.json beside this module
(``aoai-doctor schema`` prints it)."""

from __future__ import annotations

import json
from typing import Any

from aoai_doctor.diagnosis import diagnosis_of
from aoai_doctor.model import CheckResult, Diagnosis, Finding, FleetReport, Report, Status
from aoai_doctor.sanitize import sanitize_all

SCHEMA_VERSION = 1


def to_dict(report: Report, fail_on_warning: bool = False) -> dict[str, Any]:
    """The report as plain data (what ``render`` serialises), its text free of control sequences."""
    report = sanitize_all(report)
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "aoai-doctor", "version": report.tool_version},
        "started_at": report.started_at,
        "duration_ms": report.duration_ms,
        "target": {name: {"value": s.value, "source": s.source} for name, s in report.target.items()},
        "sources_read": list(report.sources_read),
        "environment": dict(report.environment),
        "diagnosis": _diagnosis(report, fail_on_warning).as_dict(),
        "summary": {
            "passed": not any(r.fails_gate(fail_on_warning) for r in report.results),
            "failed_required": sum(1 for r in report.results if r.fails_gate(fail_on_warning)),
            "billable_calls": report.billable_calls,
            **{status.value: report.count(status) for status in Status},
        },
        "checks": [_check(r) for r in report.results],
    }


def fleet_to_dict(fleet: FleetReport, fail_on_warning: bool = False) -> dict[str, Any]:
    """A run over many targets: one report object each (the same shape as a single run's) and a summary."""
    targets = [to_dict(r, fail_on_warning) for r in fleet.reports]
    failed = sum(1 for t in targets if not t["summary"]["passed"])
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "aoai-doctor", "version": fleet.tool_version},
        "started_at": fleet.started_at,
        "duration_ms": fleet.duration_ms,
        "summary": {"passed": failed == 0, "targets": len(targets), "failed_targets": failed,
                    "billable_calls": fleet.billable_calls},
        "targets": targets,
    }


def render_fleet(fleet: FleetReport, fail_on_warning: bool = False) -> str:
    """A fleet's report as pretty-printed JSON."""
    return json.dumps(fleet_to_dict(fleet, fail_on_warning), indent=2, ensure_ascii=False, default=str) + "\n"


def _diagnosis(report: Report, fail_on_warning: bool) -> Diagnosis:
    return diagnosis_of(report, fail_on_warning)


def render(report: Report, fail_on_warning: bool = False) -> str:
    """The report as pretty-printed JSON."""
    return json.dumps(to_dict(report, fail_on_warning), indent=2, ensure_ascii=False, default=str) + "\n"


def _check(result: CheckResult) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": result.check_id,
        "name": result.name,
        "stage": result.stage.name.lower(),
        "status": result.status.value,
        "required": result.required,
        "duration_ms": result.duration_ms,
        "docs": result.docs,
        "findings": [_finding(f, result.docs) for f in result.findings],
    }
    if result.skip_reason:
        out["skip_reason"] = result.skip_reason
    if result.data:
        out["data"] = dict(result.data)
    return out


def _finding(finding: Finding, docs: str) -> dict[str, Any]:
    return {
        "severity": finding.severity.label,
        "cause": finding.cause,
        "message": finding.message,
        "fix": finding.fix,
        "detail": finding.detail,
        "docs": docs,
    }
