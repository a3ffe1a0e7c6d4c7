"""The Markdown report, for pull-request comments, ``$GITHUB_STEP_SUMMARY`` and support tickets.

A heading with the verdict, the resolved target, one table per stage and a "Problems" section with
each problem's cause, fix and docs. Every value from the report is escaped: table cells cannot be
broken by ``|`` or newlines, messages cannot inject HTML or formatting, and multi-line text goes in
fenced blocks whose fence is longer than any backtick run inside.

Also home of :func:`clean_text` (what characters may be written at all), which every CI reporter
shares; which results fail the run is :meth:`CheckResult.fails_gate`.
"""

from __future__ import annotations

import re

from aoai_doctor.diagnosis import diagnosis_of
from aoai_doctor.explainer.kb import docs_path as cause_docs_path
from aoai_doctor.model import CheckResult, Finding, FleetReport, Report, Severity, Stage, Status
from aoai_doctor.sanitize import sanitize, sanitize_all

EMOJI = {Status.PASS: "✅", Status.WARN: "⚠️", Status.FAIL: "❌", Status.SKIP: "⏭️", Status.ERROR: "💥"}
"""The status column's symbols."""

CELL_WIDTH = 200
"""Problem messages longer than this are clipped in the stage tables (the Problems section has them whole)."""

_NOT_XML_CHAR = re.compile("[^\t\n\u0020-\u007e\u00a0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_CODE_SPAN = re.compile(r"(?<!`)(`+)(?!`)(.+?)(?<!`)\1(?!`)", re.DOTALL)
_INLINE_SPECIAL = re.compile(r"([\\`*\[\]<>|~])")
_ENTITY = re.compile(r"&(?=#?[0-9A-Za-z]+;)")
_BACKTICKS = re.compile(r"`+")


def clean_text(text: str) -> str:
    """``text`` with only characters every CI format can carry.

    Line endings (and the Unicode line and paragraph separators) become newlines; escape sequences
    and control characters go (:func:`~aoai_doctor.sanitize.sanitize`); then every character XML 1.0 forbids
    (C0 controls but tab and newline, lone surrogates, U+FFFE/U+FFFF) and the C1 controls and DEL
    are removed. What is left is valid in XML, in GitHub workflow commands (after their escaping)
    and in Markdown, and encodes as UTF-8.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n").replace("\u2029", "\n")
    return _NOT_XML_CHAR.sub("", sanitize(text))


def render(report: Report, *, fail_on_warning: bool = False, docs_base_url: str | None = None) -> str:
    """The report as GitHub-flavoured Markdown.

    ``fail_on_warning`` mirrors ``--fail-on warning`` in the verdict. ``docs_base_url``, when given,
    turns the docs paths (``docs/checks/AOAI102.md``) into links under that URL; without it they are
    shown as paths, since a relative link would resolve against the wrong repository.
    """
    report = sanitize_all(report)
    lines = [f"## {_verdict(report, fail_on_warning)}", "", *_diagnosis(report, fail_on_warning),
             _counts(report), ""]
    if report.target:
        lines += ["### Target", "", "| Setting | Value | Source |", "| --- | --- | --- |"]
        lines += [f"| {_cell(name)} | {_cell(s.value)} | {_cell(s.source)} |" for name, s in report.target.items()]
        lines.append("")
    stage: Stage | None = None
    for result in report.results:
        if result.stage is not stage:
            if stage is not None:
                lines.append("")
            stage = result.stage
            lines += [f"### {stage.title}", "", "| | Check | Name | Result | Time |", "| :-: | --- | --- | --- | --: |"]
        lines.append(f"| {EMOJI[result.status]} | {result.check_id} | {_cell(_name(result))} | "
                     f"{_cell(_message(result))} | {_ms(result.duration_ms)} |")
    if report.results:
        lines.append("")
    problems = [r for r in report.results if _problems(r)]
    problems.sort(key=lambda r: not r.fails_gate(fail_on_warning))  # stable: pipeline order within each group
    if problems:
        lines += ["### Problems", ""]
        shown_fixes: dict[tuple[str | None, str], str] = {}
        for result in problems:
            lines += _problem_section(result, fail_on_warning, docs_base_url, shown_fixes)
    return "\n".join(lines).rstrip("\n") + "\n"


def render_fleet(fleet: FleetReport, *, fail_on_warning: bool = False, docs_base_url: str | None = None) -> str:
    """A run over many targets: a table with a row per target (its one answer), then the diagnosis of each
    failing one."""
    from aoai_doctor.reporters.text import target_label

    reports = [sanitize_all(r) for r in fleet.reports]
    gated = {id(r) for r in fleet.failing(fail_on_warning)}
    failing = [r for r, original in zip(reports, fleet.reports, strict=True) if id(original) in gated]
    mark = EMOJI[Status.FAIL] if failing else EMOJI[Status.PASS]
    lines = [f"## {mark} aoai-doctor: {len(reports) - len(failing)} of {_plural(len(reports), 'target')} ready", "",
             "| | Target | Answer |", "| :-: | --- | --- |"]
    for report in reports:
        diagnosis = diagnosis_of(report, fail_on_warning)
        said = f"{diagnosis.cause}: {diagnosis.summary}" if diagnosis.cause else diagnosis.summary
        lines.append(f"| {EMOJI[Status.FAIL if report in failing else Status.PASS]} | {_cell(target_label(report))} "
                     f"| {_cell(said.splitlines()[0])} |")
    lines.append("")
    for report in failing:
        lines += [f"### {_inline(target_label(report))}", "", *_diagnosis(report, fail_on_warning)]
    return "\n".join(lines).rstrip("\n") + "\n"


def _diagnosis(report: Report, fail_on_warning: bool) -> list[str]:
    """The run's one answer, first: the cause with its docs, the sentence, the fix, the evidence."""
    diagnosis = diagnosis_of(report, fail_on_warning)
    if diagnosis.cause is None:
        return [f"**{_inline(diagnosis.summary)}**", ""]
    lines = [f"**Root cause: {_code(diagnosis.cause)}** ({_code('aoai-doctor explain ' + diagnosis.cause)}; "
             f"shown by {', '.join(diagnosis.checks)})", "", _inline(diagnosis.summary), ""]
    if diagnosis.fix:
        lines += _text_block("**Fix:**", diagnosis.fix)
    return lines


def _verdict(report: Report, fail_on_warning: bool) -> str:
    gate = [r for r in report.results if r.fails_gate(fail_on_warning)]
    if gate:
        noun = "required check" if len(gate) == 1 else "required checks"
        how = " (--fail-on warning)" if any(r.status is Status.WARN for r in gate) else ""
        return f"{EMOJI[Status.FAIL]} aoai-doctor: {len(gate)} {noun} failed{how}"
    warnings = report.count(Status.WARN)
    optional = sum(1 for r in report.results if r.status in (Status.FAIL, Status.ERROR))
    if warnings or optional:
        parts = [_plural(warnings, "warning")] if warnings else []
        parts += [_plural(optional, "optional check") + " failed"] if optional else []
        return f"{EMOJI[Status.WARN]} aoai-doctor: passed with {' and '.join(parts)}"
    return f"{EMOJI[Status.PASS]} aoai-doctor: every required check passed"


def _counts(report: Report) -> str:
    labels = ((Status.PASS, "passed"), (Status.WARN, "warned"), (Status.FAIL, "failed"),
              (Status.SKIP, "skipped"), (Status.ERROR, "crashed"))
    optional = sum(1 for r in report.results if not r.required and r.status in (Status.FAIL, Status.ERROR))
    counts = " · ".join(f"{EMOJI[s]} {report.count(s)} {label}" for s, label in labels if report.count(s))
    if optional:  # so the failed count agrees with the verdict, which counts required checks only
        counts += f" ({optional} of the failed or crashed optional)"
    head = (f"aoai-doctor {_inline(report.tool_version)} · started {_inline(report.started_at)} · "
            f"{_plural(len(report.results), 'check')} in {_ms(report.duration_ms)}")
    return f"{head}: {counts}" if counts else head


def _name(result: CheckResult) -> str:
    if not result.required and result.status in (Status.FAIL, Status.ERROR, Status.WARN):
        return f"{result.name} (optional)"
    return result.name


def _message(result: CheckResult) -> str:
    if result.status is Status.SKIP:
        return result.skip_reason or "skipped"
    problems = _problems(result)
    shown = problems or list(result.findings)
    if not shown:
        return ""
    extra = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
    message = shown[0].message.strip()
    if problems and len(message) > CELL_WIDTH:  # the whole text is under "Problems"
        message = message[: CELL_WIDTH - 1].rstrip() + "…"
    return message + extra


def _problems(result: CheckResult) -> list[Finding]:
    if result.status is Status.SKIP:
        return []
    return [f for f in result.findings if f.severity >= Severity.WARNING]


def _problem_section(result: CheckResult, fail_on_warning: bool, docs_base_url: str | None,
                     shown_fixes: dict[tuple[str | None, str], str]) -> list[str]:
    """One ``####`` block per check with problems: each finding's message, cause, fix and docs."""
    role = "" if result.required else " (optional: does not fail the run)"
    if result.fails_gate(fail_on_warning):
        role = " (fails the run)"
    lines = [f"#### {EMOJI[result.status]} {result.check_id} {_inline(result.name)}{role}", ""]
    for finding in _problems(result):
        lines += _text_block(f"**{finding.severity.label.capitalize()}:**", finding.message)
        if finding.cause:
            cause_doc = (_link(cause_docs_path(finding.cause), docs_base_url) if docs_base_url
                         else _code(f"aoai-doctor explain {finding.cause}"))
            lines += [f"**Cause:** {_code(finding.cause)} — {cause_doc}", ""]
        if finding.fix:
            key = (finding.cause, finding.fix)
            if key in shown_fixes:
                lines += [f"**Fix:** same as {shown_fixes[key]} above.", ""]
            else:
                shown_fixes[key] = result.check_id
                lines += _text_block("**Fix:**", finding.fix)
        if finding.detail:
            lines += _text_block("**Detail:**", finding.detail)
    lines += [f"**Docs:** {_link(result.docs, docs_base_url)} · {_code('aoai-doctor explain ' + result.check_id)}",
              ""]
    return lines


def _text_block(label: str, text: str) -> list[str]:
    """A labelled value: inline when it is one line, else a fenced block under the label."""
    text = clean_text(text).strip("\n")
    if "\n" not in text:
        return [f"{label} {_inline(text)}", ""]
    longest = max((len(run) for run in _BACKTICKS.findall(text)), default=0)
    fence = "`" * max(3, longest + 1)
    return [label, "", fence, text, fence, ""]


def _link(path: str, docs_base_url: str | None) -> str:
    if docs_base_url:
        return f"[{_inline(path)}]({docs_base_url.rstrip('/')}/{path})"
    return _code(path)


def _code(text: str) -> str:
    """``text`` as a code span, with a fence that cannot close early."""
    text = clean_text(text).replace("\n", " ")
    longest = max((len(run) for run in _BACKTICKS.findall(text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _inline(text: str, table: bool = False) -> str:
    """Running text: code spans kept, Markdown and HTML specials escaped elsewhere, newlines as ``<br>``.

    In a table cell ``|`` is escaped inside code spans too, as GFM tables require (the table parser
    removes the backslash before the code span is read). A span with a backslash before a pipe cannot
    be written that way (``\\\\|`` would end the cell), so in a cell it is shown as escaped text.
    """
    text = clean_text(text)
    out: list[str] = []
    pos = 0
    for span in _CODE_SPAN.finditer(text):
        if table and "\\|" in span.group(0):
            continue
        out.append(_escape(text[pos:span.start()]))
        code = span.group(0).replace("\n", " ")
        out.append(code.replace("|", "\\|") if table else code)
        pos = span.end()
    out.append(_escape(text[pos:]))
    return "".join(out)


def _escape(text: str) -> str:
    text = _INLINE_SPECIAL.sub(r"\\\1", text)
    text = _ENTITY.sub("&amp;", text)
    return text.replace("\n", "<br>")


def _cell(text: str) -> str:
    """A table cell: ``|`` escaped everywhere, newlines as ``<br>``, never empty."""
    return _inline(text.strip(), table=True) or " "


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _ms(ms: float) -> str:
    return f"{ms:.0f} ms" if ms < 1000 else f"{ms / 1000:.1f} s"
