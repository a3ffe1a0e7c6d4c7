"""The JUnit XML report, for the test views of GitHub, GitLab, Azure Pipelines and Jenkins.

Layout (valid against Jenkins' ``junit-10.xsd``, the schema those tools read)::

    <testsuites name="aoai-doctor" tests= failures= errors= time=>
      <testsuite name="aoai-doctor" tests= failures= errors= skipped= time= timestamp=>
        <properties> tool version, start time, the resolved target </properties>
        <testcase classname="aoai-doctor.<stage>" name="AOAI102 endpoint-format" time="0.012"/>
        ...

One suite per run: the run has one start time, one wall time and one verdict, and the suite's
counts are the gate's (a run over many targets has one suite per target, named after it). The
stage is in every testcase's ``classname``, which is what all four tools group by. Stage suites
would need times that do not exist: checks run concurrently, so a stage's checks overlap and
their sum is not how long the stage took.

Every check is a testcase, whatever its status:

* ``pass`` — an empty testcase; its notes in ``<system-out>``.
* ``warn`` — passes; the warnings in ``<system-out>``.
* ``fail`` — ``<failure message="first problem" type="<cause>">`` with every finding (message,
  cause, fix, detail, docs) as text.
* ``error`` (the check crashed or timed out) — ``<error>``, same content.
* ``skip`` — ``<skipped message="why"/>``.

A testcase is red exactly when it fails the run: an optional check that fails or crashes is a
passing testcase whose ``<system-out>`` starts with "optional check failed", so a CI setting such
as Azure Pipelines' ``failTaskOnFailedTests`` can never fail a run the exit code calls green. With
``fail_on_warning`` (``--fail-on warning``) a required check that warns becomes a ``<failure>``.

``timestamp`` is UTC without a zone designator, the Ant format some readers insist on; the
``started_at`` property carries it with its ``Z``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime, timezone

from aoai_doctor.diagnosis import diagnosis_of
from aoai_doctor.model import CheckResult, Finding, FleetReport, Report, Severity, Status
from aoai_doctor.reporters.markdown import clean_text
from aoai_doctor.sanitize import sanitize_all

SUITE_NAME = "aoai-doctor"
"""Name of the ``<testsuites>`` and ``<testsuite>`` elements, and prefix of every ``classname``."""


def render(report: Report, *, fail_on_warning: bool = False) -> str:
    """The report as a JUnit XML document (UTF-8, with declaration)."""
    return _document([_suite(sanitize_all(report), SUITE_NAME, fail_on_warning)], report.duration_ms)


def render_fleet(fleet: FleetReport, *, fail_on_warning: bool = False) -> str:
    """A run over many targets: one ``<testsuite>`` per target, named ``aoai-doctor <host>/<deployment>``."""
    from aoai_doctor.reporters.text import target_label

    suites = [_suite(r, f"{SUITE_NAME} {target_label(r)}", fail_on_warning)
              for r in (sanitize_all(r) for r in fleet.reports)]
    return _document(suites, fleet.duration_ms)


def _document(suites: list[ET.Element], duration_ms: float) -> str:
    root = ET.Element("testsuites", {"name": SUITE_NAME, **{key: str(sum(int(s.get(key, "0")) for s in suites))
                                                           for key in ("tests", "failures", "errors")},
                                     "time": _seconds(duration_ms)})
    root.extend(suites)
    ET.indent(root, space="  ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _suite(report: Report, name: str, fail_on_warning: bool) -> ET.Element:
    """One run's suite: a testcase per check, the diagnosis and the target as properties."""
    cases = [_testcase(r, fail_on_warning) for r in report.results]
    failures = sum(1 for c in cases if c.find("failure") is not None)
    errors = sum(1 for c in cases if c.find("error") is not None)
    skipped = sum(1 for c in cases if c.find("skipped") is not None)
    counts = {"tests": str(len(cases)), "failures": str(failures), "errors": str(errors)}
    suite = ET.Element("testsuite", {"name": _attr(name), **counts, "skipped": str(skipped),
                                     "time": _seconds(report.duration_ms)})
    timestamp = _ant_timestamp(report.started_at)
    if timestamp:
        suite.set("timestamp", timestamp)
    properties = ET.SubElement(suite, "properties")
    diagnosis = diagnosis_of(report, fail_on_warning)
    lead = [("diagnosis.cause", diagnosis.cause or "none"), ("diagnosis.summary", diagnosis.summary)]
    lead += [("diagnosis.fix", diagnosis.fix)] if diagnosis.fix else []
    lead += [("diagnosis.checks", " ".join(diagnosis.checks))] if diagnosis.checks else []
    for prop, value in [*lead, *_properties(report)]:
        ET.SubElement(properties, "property", {"name": _attr(prop), "value": _attr(value)})
    suite.extend(cases)
    return suite


def _testcase(result: CheckResult, fail_on_warning: bool) -> ET.Element:
    case = ET.Element("testcase", {
        "classname": f"{SUITE_NAME}.{result.stage.name.lower()}",
        "name": _attr(f"{result.check_id} {result.name}"),
        "time": _seconds(result.duration_ms),
    })
    if result.status is Status.SKIP:
        ET.SubElement(case, "skipped", {"message": _attr(result.skip_reason or "skipped")})
        return case
    body = _findings_text(result)
    if result.fails_gate(fail_on_warning):
        tag = "error" if result.status is Status.ERROR else "failure"
        first = _first_problem(result)
        element = ET.SubElement(case, tag, {
            "message": _attr(first.message if first else result.status.value),
            "type": _attr((first.cause if first else None) or result.status.value),
        })
        element.text = body
        return case
    if result.status in (Status.FAIL, Status.ERROR):
        verb = "crashed" if result.status is Status.ERROR else "failed"
        body = (f"optional check {verb}; it does not fail the run "
                f"(make it required with [checks.{result.check_id}] required = true in checks.toml)\n\n{body}")
    if body:
        ET.SubElement(case, "system-out").text = body
    return case


def _first_problem(result: CheckResult) -> Finding | None:
    problems = sorted((f for f in result.findings if f.severity >= Severity.WARNING),
                      key=lambda f: -f.severity)
    return problems[0] if problems else (result.findings[0] if result.findings else None)


def _findings_text(result: CheckResult) -> str:
    """Every finding as plain text, problems with their cause, fix, detail and docs."""
    blocks: list[str] = []
    for finding in result.findings:
        lines = [f"[{finding.severity.label}] {finding.message}"]
        if finding.cause:
            lines.append(f"cause: {finding.cause} (aoai-doctor explain {finding.cause})")
        if finding.fix:
            lines += _labelled("fix:    ", finding.fix)
        if finding.detail:
            lines += _labelled("detail: ", finding.detail)
        blocks.append("\n".join(lines))
    if not blocks:
        return ""
    problems = any(f.severity >= Severity.WARNING for f in result.findings)
    if problems or result.status is Status.ERROR:
        blocks.append(f"docs: {result.docs} (aoai-doctor explain {result.check_id})")
    return clean_text("\n\n".join(blocks)) + "\n"


def _labelled(label: str, text: str) -> list[str]:
    """A value whose continuation lines hang under its first, so fixes stay copyable."""
    lines = text.strip("\n").splitlines() or [""]
    hang = " " * len(label)
    return [label + lines[0], *((hang + ln).rstrip() for ln in lines[1:])]


def _properties(report: Report) -> list[tuple[str, str]]:
    props = [("aoai-doctor.version", report.tool_version), ("started_at", report.started_at)]
    for name, setting in report.target.items():
        props += [(f"target.{name}", setting.value), (f"target.{name}.source", setting.source)]
    return props


def _attr(text: str) -> str:
    """An attribute value: valid XML characters only (ElementTree escapes ``<&"`` and newlines)."""
    return clean_text(text)


def _seconds(ms: float) -> str:
    """Milliseconds as the seconds JUnit expects (``0.012``): digits and a point, never negative."""
    return f"{max(ms, 0.0) / 1000:.3f}"


def _ant_timestamp(started_at: str) -> str | None:
    """``2026-11-25T01:06:28Z`` → ``2026-11-25T01:06:28``: UTC to the second, no zone; None when
    ``started_at`` is not an ISO 8601 date-time."""
    stamp = started_at.strip()
    if stamp.endswith(("Z", "z")):
        stamp = stamp[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(stamp)
    except ValueError:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment.strftime("%Y-%m-%dT%H:%M:%S")
